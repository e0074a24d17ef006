"""Pure: the ImageStream rules of OpenShift's API server that clients depend on.

Every spec tag carries a ``generation``: the server sets it to the stream's generation when
the tag is created or its ``from`` changes, keeps it otherwise (a client may only reset it to
0, which asks for a new import), and the import controller reports each result with the
generation it imported. A client that changed a tag therefore knows which status entry
answers its change: the one whose generation is at least the spec tag's. References that
imports resolve to are pinned to a (here: deterministic, fake) digest.
Part of the cluster simulator, a test double of OpenShift (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import hashlib
from typing import Any

GROUP = "image.openshift.io"
REGISTRY = "image-registry.openshift-image-registry.svc:5000"


def is_image_stream(kind: str, group: str) -> bool:
    return (kind, group) == ("ImageStream", GROUP)


def _spec_tags(stream: dict[str, Any] | None) -> list[dict[str, Any]]:
    tags = ((stream or {}).get("spec") or {}).get("tags")
    return [t for t in tags if isinstance(t, dict)] if isinstance(tags, list) else []


def _source(tag: dict[str, Any]) -> tuple[Any, Any, Any]:
    origin = tag.get("from")
    if not isinstance(origin, dict):
        return None, None, None
    return origin.get("kind"), origin.get("namespace"), origin.get("name")


def restore_spec_tag_generations(stream: dict[str, Any], old: dict[str, Any]) -> None:
    """Before an update is compared: clients cannot change a tag's generation except to 0."""
    previous = {t.get("name"): t for t in _spec_tags(old)}
    for tag in _spec_tags(stream):
        before = previous.get(tag.get("name"))
        if before is not None and tag.get("generation") != 0:
            if "generation" in before:
                tag["generation"] = before["generation"]


def ensure_spec_tag_generations(stream: dict[str, Any], old: dict[str, Any] | None) -> None:
    """After the stream's generation is known: new, changed or reset tags get it."""
    generation = stream["metadata"].get("generation", 1)
    previous = {t.get("name"): t for t in _spec_tags(old)}
    for tag in _spec_tags(stream):
        before = previous.get(tag.get("name"))
        changed = before is None or _source(before) != _source(tag)
        if changed or not tag.get("generation"):
            tag["generation"] = generation


def observed_generation(stream: dict[str, Any], tag: str) -> int:
    """The newest generation the import controller reported for ``tag`` (items or conditions)."""
    for entry in (stream.get("status") or {}).get("tags") or []:
        if isinstance(entry, dict) and entry.get("tag") == tag:
            items = entry.get("items") or []
            seen = [int(items[0].get("generation") or 0)] if items else []
            seen += [int(c.get("generation") or 0) for c in entry.get("conditions") or []]
            return max(seen, default=0)
    return 0


def importable(tag: dict[str, Any]) -> bool:
    """A tag the import controller imports: ``from`` a DockerImage, not a mere reference."""
    kind, _, name = _source(tag)
    return kind == "DockerImage" and bool(name) and not tag.get("reference")


def needs_import(stream: dict[str, Any], tag: dict[str, Any]) -> bool:
    generation = tag.get("generation")
    if not importable(tag) or not generation:
        return False
    return int(generation) > observed_generation(stream, str(tag.get("name")))


def repository_of(reference: str) -> str:
    """``quay.io/org/image`` for ``quay.io/org/image:tag`` or ``...@sha256:...``."""
    name = reference.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


def digest_of(reference: str) -> str:
    """The digest an import pins ``reference`` to (a digest reference keeps its own)."""
    if "@" in reference:
        return reference.split("@", 1)[1]
    return "sha256:" + hashlib.sha256(reference.encode()).hexdigest()


def pinned_reference(reference: str) -> str:
    """What an import of ``reference`` reports as ``dockerImageReference``."""
    return f"{repository_of(reference)}@{digest_of(reference)}"


def internal_repository(namespace: str, name: str) -> str:
    return f"{REGISTRY}/{namespace}/{name}"


def pushed_status(
    stream: dict[str, Any], namespace: str, tag: str, digest: str, stamp: str
) -> tuple[dict[str, Any], str]:
    """The stream's ``status`` once the internal registry got an image pushed to ``tag``
    (the new item first, the tag's older ones kept), and the new image's reference."""
    name = stream["metadata"]["name"]
    repository = internal_repository(namespace, name)
    reference = f"{repository}@{digest}"
    status = dict(stream.get("status") or {})
    tags = [t for t in status.get("tags") or [] if t.get("tag") != tag]
    previous: list[dict[str, Any]] = next(
        (t.get("items") or [] for t in status.get("tags") or [] if t.get("tag") == tag), []
    )
    item = {
        "created": stamp,
        "dockerImageReference": reference,
        "image": digest,
        "generation": stream["metadata"].get("generation", 1),
    }
    tags.append({"tag": tag, "items": [item, *previous]})
    status.update(dockerImageRepository=repository, tags=tags)
    return status, reference
