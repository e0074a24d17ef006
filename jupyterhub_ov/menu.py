"""The spawner menu shared by both modes: render the options form, read it back, resolve it.

The form submits one field, ``image``, whose value is ``<image key>:<tag>`` (a hidden input the
page's script keeps in step with a searchable list, `templates/menu.js`); the chosen value is
kept in ``user_options["image"]`` (JupyterHub persists user_options, so the last choice is
preselected next time). The catalog travels once as compact JSON (`menu_data`): a page stays a
few hundred KB with 1,000 images. Nothing here does I/O: images come from a catalog's cache.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from . import connections as conn
from .connections import Connection
from .images.model import ImageTag, NotebookImage, default_choice, preferred_tag
from .unlisted import UNLISTED_FIELD, Unlisted, checked_value

_templates = Environment(
    loader=PackageLoader("jupyterhub_ov", "templates"),
    autoescape=select_autoescape(default=True),
)


NOTE_SLOT = "<!--ov-note-->"
ADMIN_SLOT = "<!--ov-admin-->"
CONNECTIONS_SLOT = "<!--ov-connections-->"
CHOICE_SLOT = 'id="ov-kept" data-chosen="">'
#: the value of the menu's "other image" radio (KubeSpawner's form uses the same)
UNLISTED_CHOICE = "unlisted-choice"


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


def options_from_form(
    formdata: Mapping[str, Sequence[str]], unlisted: Unlisted | None = None
) -> dict[str, Any]:
    """JupyterHub hands the form as ``{field: [values]}``; keep only what we understand.

    A typed "other image" is kept (and checked: ValueError for the user) only with
    ``unlisted``; otherwise it is refused, as KubeSpawner refuses a disabled unlisted choice.
    """
    options: dict[str, Any] = {}
    typed = (formdata.get(UNLISTED_FIELD) or [""])[0]
    if typed:
        options[UNLISTED_FIELD] = checked_value(unlisted, typed)
    for field in ("image", "size"):
        values = formdata.get(field) or []
        if values and values[0] != UNLISTED_CHOICE:
            options[field] = str(values[0])
    picked = [str(v) for v in formdata.get(conn.FIELD) or [] if v]
    if picked:
        options[conn.OPTION] = list(dict.fromkeys(picked))
    return options


def _connections_block(offered: Sequence[Connection], picked: Sequence[str]) -> str:
    """Checkboxes of the connections the user may pick (ODH's display names), the last
    picked ones ticked."""
    boxes = "".join(
        f'<div class="form-check"><input class="form-check-input" type="checkbox"'
        f' name="{conn.FIELD}" id="ov-connection-{i}" value="{escape(c.name)}"'
        f"{' checked' if c.name in picked else ''}>"
        f' <label class="form-check-label" for="ov-connection-{i}">{escape(c.display_name)}'
        f' <span class="small text-muted">({escape(c.name)})</span></label></div>'
        for i, c in enumerate(offered)
    )
    return (
        '<fieldset class="ov-connections"><legend>Connections</legend>'
        '<p class="small">Their variables (S3 keys, endpoint, bucket) are set in the'
        f" notebook.</p>{boxes}</fieldset>"
    )


def resolve_choice(images: Sequence[NotebookImage], wanted: str | None) -> Choice:
    """The image and tag to start for a requested value, falling back to the default.

    A value for an image or tag that no longer exists does not fail the spawn: the default
    is used and ``note`` says so (unlike KubeSpawner's "No such profile").
    """
    if wanted:  # the saved choice first: the default is needed only when it is gone
        key, _, tag_name = str(wanted).rpartition(":")
        for image in images:
            if image.key == key:
                tag = image.tag(tag_name)
                if tag is not None:
                    return Choice(image, tag)
    fallback = default_choice(list(images))
    if fallback is None:
        raise NoImageAvailable(
            "No notebook image is available right now. Please ask an administrator."
        )
    if not wanted:
        return Choice(*fallback)
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
    unlisted: Unlisted | None
    html: str


_last: list[_Rendered] = []
_SCRIPT = Markup(files("jupyterhub_ov").joinpath("templates/menu.js").read_text())  # noqa: S704
#: rows the page draws at once; the search box finds the rest
ROW_LIMIT = 100


def _same(a: Sequence[Any], b: Sequence[Any]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


def _software_text(items: Sequence[Any]) -> str:
    return ", ".join(f"{s.name} {s.version}".strip() for s in items)


def menu_data(images: Sequence[NotebookImage]) -> dict[str, Any]:
    """What the page's script draws from: each image once (description and link once, not per
    tag), its offered tags as ``[name, software index, flags, build commit]`` (flags: 1
    recommended, 2 default), and each distinct software/dependency list once in ``sw``."""
    table: dict[tuple[str, str], int] = {}
    rows = []
    for image in images:
        offered = image.offered_tags
        if not offered:
            continue
        tags = []
        for tag in offered:
            texts = (_software_text(tag.software), _software_text(tag.dependencies))
            index = table.setdefault(texts, len(table))
            flags = (1 if tag.recommended else 0) | (2 if tag.default else 0)
            tags.append([tag.name, index, flags, tag.build_commit or ""])
        preferred = offered.index(preferred_tag(image))
        accelerators = ", ".join(image.accelerators)
        rows.append(
            [image.key, image.display_name, image.description, image.url or "", accelerators]
            + [preferred, tags]
        )
    return {"limit": ROW_LIMIT, "sw": [list(t) for t in table], "im": rows}


def _json_in_script(value: Any) -> Markup:
    """JSON that cannot close its <script> element or open a comment in it."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 -- escaped above for a script element


def _form(images: Sequence[NotebookImage], sizes: Sequence[Size], unlisted: Unlisted | None) -> str:
    """The form without a selection, re-rendered only when the catalog changed.

    Catalogs hand out the same image objects while nothing changed, so an identity check
    decides; a render with 1,000 images × 5 tags costs tens of milliseconds otherwise.
    """
    if (
        _last
        and _same(_last[0].images, images)
        and list(_last[0].sizes) == list(sizes)
        and _last[0].unlisted == unlisted
    ):
        return _last[0].html
    html = _templates.get_template("menu.html").render(
        images=images,
        sizes=sizes,
        unlisted=unlisted,
        data=_json_in_script(menu_data(images)),
        script=_SCRIPT,
    )
    _last[:] = [_Rendered(list(images), list(sizes), unlisted, html)]
    return html


def render_menu(
    images: Sequence[NotebookImage],
    wanted: str | None = None,
    sizes: Sequence[Size] = (),
    wanted_size: str | None = None,
    *,
    unlisted: Unlisted | None = None,
    wanted_unlisted: str | None = None,
    admin_notes: Sequence[str] = (),
    connections: Sequence[Connection] = (),
    wanted_connections: Sequence[str] = (),
) -> str:
    """The HTML options form; the user's last choice (or the default) is preselected.

    ``admin_notes`` (BYON import errors) are shown only when the caller passes them, i.e.
    to admins; ``connections`` are those granted to this user (`connections.granted`).
    """
    html = _form(images, sizes, unlisted)
    if connections:
        block = _connections_block(connections, wanted_connections)
        html = html.replace(CONNECTIONS_SLOT, block, 1)
    size = resolve_size(sizes, wanted_size)
    if size is not None:
        marker = f'value="{escape(size.name)}" data-ov-size'
        html = html.replace(marker, f"{marker} selected", 1)
    if admin_notes:
        items = "".join(f"<li>{escape(n)}</li>" for n in admin_notes)
        block = (
            '<details class="alert alert-secondary"><summary>Image import problems'
            f" ({len(admin_notes)}, shown to admins)</summary><ul>{items}</ul></details>"
        )
        html = html.replace(ADMIN_SLOT, block, 1)
    if unlisted is not None and wanted_unlisted:
        marker = 'data-name="image--unlisted-choice"'
        html = html.replace(marker, f'{marker} value="{escape(wanted_unlisted)}"', 1)
        return html
    if not images:
        return html
    choice = resolve_choice(images, wanted)
    html = html.replace(CHOICE_SLOT, f'id="ov-kept" data-chosen="{escape(choice.value)}">', 1)
    note = choice.note
    if note is None and choice.tag.outdated:
        note = (
            f"{choice.image.display_name} ({choice.tag.name}), your last choice, is outdated:"
            " it still starts, or pick a newer version."
        )
    if note:
        alert = f'<div class="alert alert-warning" role="alert">{escape(note)}</div>'
        html = html.replace(NOTE_SLOT, alert, 1)
    return html
