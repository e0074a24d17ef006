"""The spawner menu shared by both modes: render the options form, read it back, resolve it.

The form has one radio group, ``image``, whose values are ``<image key>:<tag>``; the chosen
value is kept in ``user_options["image"]`` (JupyterHub persists user_options, so the last
choice is preselected next time). Nothing here does I/O: images come from a catalog's cache.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import escape

from .images.model import ImageTag, NotebookImage, default_choice

_templates = Environment(
    loader=PackageLoader("jupyterhub_ov", "templates"),
    autoescape=select_autoescape(default=True),
)


NOTE_SLOT = "<!--ov-note-->"


class NoImageAvailable(RuntimeError):
    """The catalog is empty: nothing can be started."""


@dataclass(frozen=True)
class Choice:
    image: NotebookImage
    tag: ImageTag
    #: set when the saved choice could not be honoured, for the user to read
    note: str | None = None

    @property
    def value(self) -> str:
        return option_value(self.image, self.tag)


def option_value(image: NotebookImage, tag: ImageTag) -> str:
    return f"{image.key}:{tag.name}"


@dataclass(frozen=True)
class Size:
    """An admin-configured container size (KubeSpawner resource traits)."""

    name: str
    display_name: str
    resources: Mapping[str, Any]
    default: bool = False


SIZE_RESOURCES = ("cpu_guarantee", "cpu_limit", "mem_guarantee", "mem_limit")


def parse_sizes(config: Sequence[Mapping[str, Any]]) -> list[Size]:
    """``[{"name", "display_name"?, "default"?, cpu_/mem_ guarantee/limit...}]``; ValueError
    naming the entry and key when something is wrong."""
    sizes: list[Size] = []
    for i, entry in enumerate(config):
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError(f"size #{i} needs a non-empty 'name'")
        unknown = set(entry) - {"name", "display_name", "default", *SIZE_RESOURCES}
        if unknown:
            raise ValueError(f"size {name!r}: unknown keys {sorted(unknown)}")
        if name in {s.name for s in sizes}:
            raise ValueError(f"size {name!r} is listed twice")
        resources = {k: entry[k] for k in SIZE_RESOURCES if k in entry}
        display = str(entry.get("display_name") or name)
        sizes.append(Size(name, display, resources, bool(entry.get("default", False))))
    return sizes


def resolve_size(sizes: Sequence[Size], wanted: str | None) -> Size | None:
    """The requested size, else the default (marked, else first); None without sizes."""
    for size in sizes:
        if size.name == wanted:
            return size
    return next((s for s in sizes if s.default), sizes[0] if sizes else None)


def options_from_form(formdata: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """JupyterHub hands the form as ``{field: [values]}``; keep only what we understand."""
    options: dict[str, Any] = {}
    for field in ("image", "size"):
        values = formdata.get(field) or []
        if values:
            options[field] = str(values[0])
    return options


def resolve_choice(images: Sequence[NotebookImage], wanted: str | None) -> Choice:
    """The image and tag to start for a requested value, falling back to the default.

    A value for an image or tag that no longer exists does not fail the spawn: the default
    is used and ``note`` says so (unlike KubeSpawner's "No such profile").
    """
    fallback = default_choice(list(images))
    if fallback is None:
        raise NoImageAvailable(
            "No notebook image is available right now. Please ask an administrator."
        )
    if not wanted:
        return Choice(*fallback)
    key, _, tag_name = str(wanted).rpartition(":")
    for image in images:
        if image.key == key:
            tag = image.tag(tag_name)
            if tag is not None:
                return Choice(image, tag)
    default = Choice(*fallback)
    return Choice(
        default.image,
        default.tag,
        note=f"The image {wanted!r} you chose before is no longer available;"
        f" {default.image.display_name} ({default.tag.name}) is used instead.",
    )


@dataclass
class _Rendered:
    images: Sequence[NotebookImage]
    sizes: Sequence[Size]
    html: str


_last: list[_Rendered] = []


def _same(a: Sequence[Any], b: Sequence[Any]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


def _form(images: Sequence[NotebookImage], sizes: Sequence[Size]) -> str:
    """The form without a selection, re-rendered only when the catalog changed.

    Catalogs hand out the same image objects while nothing changed, so an identity check
    decides; a render with 1,000 images × 5 tags costs hundreds of milliseconds otherwise.
    """
    if _last and _same(_last[0].images, images) and list(_last[0].sizes) == list(sizes):
        return _last[0].html
    html = _templates.get_template("menu.html").render(
        images=images, sizes=sizes, option_value=option_value
    )
    _last[:] = [_Rendered(list(images), list(sizes), html)]
    return html


def render_menu(
    images: Sequence[NotebookImage],
    wanted: str | None = None,
    sizes: Sequence[Size] = (),
    wanted_size: str | None = None,
) -> str:
    """The HTML options form; the user's last choice (or the default) is preselected."""
    html = _form(images, sizes)
    size = resolve_size(sizes, wanted_size)
    if size is not None:
        marker = f'value="{escape(size.name)}" data-ov-size'
        html = html.replace(marker, f"{marker} selected", 1)
    if not images:
        return html
    choice = resolve_choice(images, wanted)
    marker = f'value="{escape(choice.value)}" data-ov-choice'
    html = html.replace(marker, f"{marker} checked", 1)
    if choice.note:
        note = f'<div class="alert alert-warning" role="alert">{escape(choice.note)}</div>'
        html = html.replace(NOTE_SLOT, note, 1)
    return html
