"""Pure image model shared by both modes: ImageStream-shaped dicts → NotebookImage.

The OpenShift catalog feeds real ImageStreams through `parse_image_stream`; the local catalog
turns its environment manifests into the same shape first (see `images.local`), so one
parser, one ordering rule and one menu serve both modes. Annotation names are Open Data Hub's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, TypeVar
from urllib.parse import urlsplit

from . import odh

ODH = "opendatahub.io/"
NOTEBOOK_IMAGE_LABEL = ODH + "notebook-image"
ANN_NAME = ODH + "notebook-image-name"
ANN_DESC = ODH + "notebook-image-desc"
ANN_URL = ODH + "notebook-image-url"
ANN_ORDER = ODH + "notebook-image-order"
ANN_CREATOR = ODH + "notebook-image-creator"
ANN_PHASE = ODH + "notebook-image-phase"
ANN_MESSAGES = ODH + "notebook-image-messages"
ANN_SOFTWARE = ODH + "notebook-software"
ANN_DEPENDENCIES = ODH + "notebook-python-dependencies"
ANN_RECOMMENDED = ODH + "notebook-image-recommended"
ANN_DEFAULT = ODH + "default-image"
ANN_IMPORTED_FROM = "openshift.io/imported-from"
#: local mode only: the directory of notebooks a user gets a copy of (not an ODH annotation)
ANN_NOTEBOOKS = "jupyterhub-ov/notebooks"
LABEL_CREATED_BY = "app.kubernetes.io/created-by"

DEFAULT_ORDER = 100
#: phases of a custom image that may be offered; streams without the annotation are not custom
VISIBLE_PHASES = frozenset({None, "Succeeded"})


class InvalidImage(ValueError):
    """An ImageStream (or manifest) that cannot be offered; the message says why."""


#: the only schemes an image's link may have: the menu puts it in an ``href``, where
#: ``javascript:`` runs in the hub's origin and ``data:`` can render a page of its own
LINK_SCHEMES = ("http", "https")


def link_url(raw: Any) -> str | None:
    """``raw`` if it is an absolute http(s) URL that is safe in an ``href``, else None.

    No whitespace or control characters anywhere (browsers drop tabs and newlines inside a
    URL, so ``java\tscript:`` would be ``javascript:``), a scheme of `LINK_SCHEMES` and a
    host. The one rule for the manifest's ``url``, the ODH annotation and build requests.
    """
    if not isinstance(raw, str) or not raw or len(raw) > 2048:
        return None
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in raw):
        return None
    try:
        parts = urlsplit(raw)
        host = parts.hostname
    except ValueError:  # e.g. an unbalanced [ in the host
        return None
    if parts.scheme.lower() not in LINK_SCHEMES or not host:
        return None
    return raw


@dataclass(frozen=True)
class Software:
    name: str
    version: str


@dataclass(frozen=True)
class ImageTag:
    name: str
    #: what to run: a pullable image reference, or a local environment's directory
    reference: str
    software: tuple[Software, ...] = ()
    dependencies: tuple[Software, ...] = ()
    recommended: bool = False
    default: bool = False
    imported_from: str | None = None
    #: local mode: a directory of notebooks copied into the user's work directory on start
    notebooks: str | None = None
    #: ODH's image-tag-outdated: not offered for new starts, still startable when saved
    outdated: bool = False
    #: ODH's notebook-build-commit, shown beside the tag
    build_commit: str | None = None


@dataclass(frozen=True)
class NotebookImage:
    name: str
    display_name: str
    tags: tuple[ImageTag, ...]
    description: str = ""
    namespace: str | None = None
    url: str | None = None
    order: int = DEFAULT_ORDER
    creator: str | None = None
    #: label app.kubernetes.io/created-by: who made the stream (e.g. byon, a builder)
    created_by: str | None = None
    phase: str | None = None
    messages: tuple[Mapping[str, str], ...] = ()
    #: ODH's notebook-image-hidden
    hidden: bool = False
    #: ODH's recommended-accelerators, shown
    accelerators: tuple[str, ...] = ()
    #: BYON import errors (status.tags[].conditions), shown to admins
    import_errors: tuple[str, ...] = ()
    #: non-fatal problems found while parsing (logged once by the catalog)
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def key(self) -> str:
        """Unique across namespaces: ``<namespace>/<name>``, or the name alone."""
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    @property
    def visible(self) -> bool:
        return self.phase in VISIBLE_PHASES and not self.hidden

    @cached_property
    def offered_tags(self) -> tuple[ImageTag, ...]:
        """The tags a new start may pick: not outdated (computed once: the menu's hot path)."""
        return tuple(t for t in self.tags if not t.outdated)

    def tag(self, name: str) -> ImageTag | None:
        return next((t for t in self.tags if t.name == name), None)


def is_notebook_stream(
    stream: Mapping[str, Any], *, by_name: bool = True, by_label: bool = True
) -> bool:
    """The two discovery rules in the wild: a ``-notebook`` name, or ODH's label; the label
    set to ``"false"`` disables a stream either way."""
    meta = stream.get("metadata") or {}
    if odh.disabled_by_label(_labels(meta)):
        return False
    if by_name and str(meta.get("name", "")).endswith("-notebook"):
        return True
    return by_label and str(_labels(meta).get(NOTEBOOK_IMAGE_LABEL, "")).lower() == "true"


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() == "true"


def _software_list(raw: Any, what: str, warnings: list[str]) -> tuple[Software, ...]:
    if raw in (None, ""):
        return ()
    try:
        items = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(items, list):
            raise TypeError("not a list")
        return tuple(Software(str(i["name"]), str(i.get("version", ""))) for i in items)
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        warnings.append(f"{what} is not a JSON list of {{name, version}} ({e}); ignored")
        return ()


def _resolved_references(stream: Mapping[str, Any]) -> dict[str, str]:
    """tag name → pullable reference, for the tags the registry actually has (status.tags)."""
    status = stream.get("status") or {}
    repository = status.get("dockerImageRepository") or ""
    refs: dict[str, str] = {}
    for entry in status.get("tags") or []:
        if not isinstance(entry, Mapping) or not entry.get("tag"):
            continue
        items = entry.get("items") or []
        first = items[0] if items and isinstance(items[0], Mapping) else {}
        ref = first.get("dockerImageReference") or (repository and f"{repository}:{entry['tag']}")
        if ref:
            refs[str(entry["tag"])] = str(ref)
    return refs


def _parse_tag(spec: Mapping[str, Any], ref: str, warnings: list[str]) -> ImageTag:
    ann = spec.get("annotations") or {}
    name = str(spec["name"])
    commit_warnings: list[str] = []
    commit = odh.build_commit(ann, commit_warnings)
    warnings.extend(f"tag {name}: {w}" for w in commit_warnings)
    return ImageTag(
        name=name,
        reference=ref,
        software=_software_list(ann.get(ANN_SOFTWARE), f"tag {name}: {ANN_SOFTWARE}", warnings),
        dependencies=_software_list(
            ann.get(ANN_DEPENDENCIES), f"tag {name}: {ANN_DEPENDENCIES}", warnings
        ),
        recommended=odh.recommended(ann),
        default=_truthy(ann.get(ANN_DEFAULT)),
        imported_from=ann.get(ANN_IMPORTED_FROM),
        notebooks=ann.get(ANN_NOTEBOOKS) or None,
        outdated=odh.outdated(ann),
        build_commit=commit,
    )


def _labels(meta: Mapping[str, Any]) -> Mapping[str, Any]:
    labels = meta.get("labels")
    return labels if isinstance(labels, Mapping) else {}


def _order(raw: Any, warnings: list[str]) -> int:
    if raw in (None, ""):
        return DEFAULT_ORDER
    try:
        return int(str(raw).strip())
    except ValueError:
        warnings.append(f"{ANN_ORDER} {raw!r} is not an integer; using {DEFAULT_ORDER}")
        return DEFAULT_ORDER


def _link(raw: Any, warnings: list[str]) -> str | None:
    if raw in (None, ""):
        return None
    url = link_url(raw)
    if url is None:
        shown = raw[:80] if isinstance(raw, str) else type(raw).__name__
        warnings.append(f"{ANN_URL} {shown!r} is not an http(s) URL; no link shown")
    return url


def _messages(raw: Any, warnings: list[str]) -> tuple[Mapping[str, str], ...]:
    if not raw:
        return ()
    try:
        items = json.loads(raw) if isinstance(raw, str) else raw
        return tuple({"severity": str(m["severity"]), "message": str(m["message"])} for m in items)
    except (ValueError, TypeError, KeyError) as e:
        warnings.append(f"{ANN_MESSAGES} is not a JSON list of {{severity, message}} ({e})")
        return ()


def parse_image_stream(stream: Mapping[str, Any]) -> NotebookImage:
    """Parse one ImageStream into a NotebookImage with only its usable tags.

    Raises InvalidImage when nothing can be offered (no name, no tags, no tag in status.tags).
    Problems that do not stop an image from working become ``warnings``.
    """
    if not isinstance(stream, Mapping):
        raise InvalidImage("not an object")
    meta = stream.get("metadata")
    if not isinstance(meta, Mapping) or not meta.get("name"):
        raise InvalidImage("metadata.name is missing")
    name = str(meta["name"])
    ann = meta.get("annotations") or {}
    if not isinstance(ann, Mapping):
        raise InvalidImage(f"{name}: metadata.annotations is not a map")
    warnings: list[str] = []
    url = _link(ann.get(ANN_URL), warnings)
    refs = _resolved_references(stream)
    spec_tags = (stream.get("spec") or {}).get("tags") or []
    tags = tuple(
        _parse_tag(t, refs[str(t["name"])], warnings)
        for t in spec_tags
        if isinstance(t, Mapping) and t.get("name") and str(t["name"]) in refs
    )
    if not tags:
        raise InvalidImage(f"{name}: no tag is both in spec.tags and in status.tags")
    return NotebookImage(
        name=name,
        namespace=meta.get("namespace"),
        display_name=str(ann.get(ANN_NAME) or f"{name}:{tags[0].name}"),
        description=str(ann.get(ANN_DESC) or ""),
        url=url,
        order=_order(ann.get(ANN_ORDER), warnings),
        creator=ann.get(ANN_CREATOR) or None,
        created_by=_labels(meta).get(LABEL_CREATED_BY) or None,
        phase=ann.get(ANN_PHASE) or None,
        messages=_messages(ann.get(ANN_MESSAGES), warnings),
        hidden=odh.hidden(ann),
        accelerators=odh.accelerators(ann, warnings),
        import_errors=odh.import_errors(stream.get("status")),
        tags=tags,
        warnings=tuple(f"{name}: {w}" for w in warnings),
    )


def sort_images(images: Iterable[NotebookImage]) -> list[NotebookImage]:
    """Menu order: the order annotation, then display name, then name (stable, total)."""
    return sorted(
        images, key=lambda i: (i.order, i.display_name.lower(), i.name, i.namespace or "")
    )


def default_choice(images: list[NotebookImage]) -> tuple[NotebookImage, ImageTag] | None:
    """The preselected image: a tag marked default, else recommended, else the first."""
    offered = [i for i in images if i.offered_tags]
    for wanted in ("default", "recommended"):
        for image in offered:
            for tag in image.offered_tags:
                if getattr(tag, wanted):
                    return image, tag
    return (offered[0], preferred_tag(offered[0])) if offered else None


def preferred_tag(image: NotebookImage) -> ImageTag:
    """An image's tag to preselect: default, else recommended, else its first offered."""
    offered = image.offered_tags or image.tags
    for wanted in ("default", "recommended"):
        for tag in offered:
            if getattr(tag, wanted):
                return tag
    return offered[0]


K = TypeVar("K")


def merge_tags(
    entries: Sequence[tuple[K, int, NotebookImage]],
) -> tuple[list[NotebookImage], list[tuple[K, NotebookImage, str]]]:
    """Images sharing a key (several environments of one name) become one image, all tags.

    ``entries`` are ``(source, age, image)`` in precedence order: of two entries offering the
    same tag of the same image the first wins and the other is returned as dropped, with the
    reason. The merged image lists its tags newest first (larger ``age`` is newer) and takes
    its own fields (display name, description, order, phase…) from its newest entry. An image
    that has one entry is returned as is (the same object, so callers can cache on identity).
    """
    groups: dict[str, list[tuple[int, NotebookImage, ImageTag]]] = {}
    dropped: list[tuple[K, NotebookImage, str]] = []
    for source, age, image in entries:
        group = groups.setdefault(image.key, [])
        kept = []
        for tag in image.tags:
            if any(t.name == tag.name for _, _, t in group):
                dropped.append((source, image, f"{image.name}:{tag.name} is already taken"))
            else:
                kept.append((age, image, tag))
        group.extend(kept)
    merged: list[NotebookImage] = []
    for group in (g for g in groups.values() if g):
        first = group[0][1]
        if all(image is first for _, image, _ in group) and len(group) == len(first.tags):
            merged.append(first)  # one entry, nothing dropped
        else:
            merged.append(_with_tags(max(group, key=lambda entry: entry[0])[1], group))
    return merged, dropped


def _with_tags(
    image: NotebookImage, group: list[tuple[int, NotebookImage, ImageTag]]
) -> NotebookImage:
    ordered = sorted(group, key=lambda entry: -entry[0])  # stable: equal ages keep their order
    warnings = tuple(dict.fromkeys(w for _, i, _ in group for w in i.warnings))
    return replace(image, tags=tuple(t for _, _, t in ordered), warnings=warnings)
