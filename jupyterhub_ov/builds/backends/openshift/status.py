"""Pure: reading what OpenShift reports about a build's objects, and editing a stream's spec.

Streams, Builds and Pods arrive as plain dicts (watch events' raw objects). What the menu
offers is decided by the catalog's own parser (`images.model.parse_image_stream`), so `find`
and the menu can never disagree about a published image.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jupyterhub_ov.images import model

from ...model.published import Package, PublishedImage
from .objects import CREATED_BY, FAILED, SUCCEEDED

BUILD_DONE = frozenset({"Complete", "Failed", "Error", "Cancelled"})
BUILD_STARTED = frozenset({"Running"}) | BUILD_DONE
#: container waiting reasons that will not fix themselves in a validation's lifetime
POD_STUCK = frozenset(
    {
        "ErrImagePull",
        "ImagePullBackOff",
        "InvalidImageName",
        "ErrImageNeverPull",
        "CreateContainerConfigError",
        "CreateContainerError",
    }
)


# -- ImageStreams -----------------------------------------------------------------------------


def _entries(stream: Mapping[str, Any], where: str, key: str) -> list[dict[str, Any]]:
    part = stream.get(where) or {}
    tags = part.get("tags") if isinstance(part, Mapping) else None
    return [t for t in tags or [] if isinstance(t, dict) and key in t]


def spec_tag(stream: Mapping[str, Any], tag: str) -> dict[str, Any] | None:
    return next((t for t in _entries(stream, "spec", "name") if t["name"] == tag), None)


def status_entry(stream: Mapping[str, Any], tag: str) -> dict[str, Any] | None:
    return next((t for t in _entries(stream, "status", "tag") if t["tag"] == tag), None)


def published_image(stream: Mapping[str, Any], tag: str) -> PublishedImage | None:
    """``tag`` as the menu offers it, if it is there and was validated; else None."""
    try:
        image = model.parse_image_stream(stream)
    except model.InvalidImage:
        return None
    offered = image.tag(tag)
    if not image.visible or offered is None or not offered.software:
        return None
    python = next((s.version for s in offered.software if s.name == "Python"), "")
    return PublishedImage(
        image=f"{image.name}:{tag}",
        reference=offered.reference,
        python_version=python,
        packages=tuple(Package(d.name, d.version) for d in offered.dependencies),
    )


def validated_tags(stream: Mapping[str, Any]) -> list[str]:
    """Tags the menu can offer that passed validation (they record their software)."""
    try:
        image = model.parse_image_stream(stream)
    except model.InvalidImage:
        return []
    return [t.name for t in image.tags if t.software]


def owner_problem(stream: Mapping[str, Any]) -> str | None:
    """Why the build service must not change this stream (someone else made it)."""
    meta = stream.get("metadata") or {}
    made_by = (meta.get("labels") or {}).get(model.LABEL_CREATED_BY)
    if made_by != CREATED_BY:
        return (
            f"An ImageStream named {meta.get('name')} already exists and was not made by the"
            f" build service ({model.LABEL_CREATED_BY}={made_by!r}); choose another name."
        )
    return None


def set_spec_tag(stream: dict[str, Any], entry: dict[str, Any]) -> None:
    """Add ``entry`` to the spec tags, replacing a tag of the same name."""
    spec = stream.setdefault("spec", {})
    others = [t for t in spec.get("tags") or [] if t.get("name") != entry["name"]]
    spec["tags"] = [*others, entry]


def drop_spec_tag(stream: dict[str, Any], tag: str) -> bool:
    spec = stream.get("spec") or {}
    kept = [t for t in spec.get("tags") or [] if t.get("name") != tag]
    if len(kept) == len(spec.get("tags") or []):
        return False
    spec["tags"] = kept
    return True


def set_annotations(stream: dict[str, Any], annotations: Mapping[str, str]) -> None:
    meta = stream.setdefault("metadata", {})
    meta["annotations"] = {**(meta.get("annotations") or {}), **annotations}


def phase_annotations(phase: str, messages: Sequence[Mapping[str, str]]) -> dict[str, str]:
    return {model.ANN_PHASE: phase, model.ANN_MESSAGES: json.dumps(list(messages))}


def phase_after_failure(stream: Mapping[str, Any]) -> str:
    """A failed build of one tag fails the stream only if no validated tag remains."""
    return SUCCEEDED if validated_tags(stream) else FAILED


@dataclass(frozen=True)
class ImportOutcome:
    """The import controller's answer to the current spec tag: a reference or an error."""

    reference: str = ""
    error: str = ""

    @property
    def done(self) -> bool:
        return bool(self.reference or self.error)


def import_outcome(stream: Mapping[str, Any], tag: str) -> ImportOutcome:
    """What the import of ``tag``'s current spec generation gave (nothing yet: not done)."""
    wanted = int((spec_tag(stream, tag) or {}).get("generation") or 0)
    entry = status_entry(stream, tag) or {}
    for condition in entry.get("conditions") or []:
        failed = condition.get("type") == "ImportSuccess" and condition.get("status") == "False"
        if failed and int(condition.get("generation") or 0) >= wanted:
            reason = condition.get("reason") or "ImportFailed"
            return ImportOutcome(error=f"{condition.get('message') or reason} ({reason})")
    items = entry.get("items") or []
    if items and int(items[0].get("generation") or 0) >= wanted:
        return ImportOutcome(reference=str(items[0].get("dockerImageReference") or ""))
    return ImportOutcome()


def pushed_reference(stream: Mapping[str, Any], tag: str, digest: str) -> str:
    """The reference a build pushed to ``tag`` (its digest's item; "" until it is there)."""
    for item in (status_entry(stream, tag) or {}).get("items") or []:
        if not digest or item.get("image") == digest:
            return str(item.get("dockerImageReference") or "")
    return ""


# -- Builds and Pods --------------------------------------------------------------------------


def build_phase(build: Mapping[str, Any]) -> str:
    return str((build.get("status") or {}).get("phase") or "New")


def cancel_requested(build: Mapping[str, Any]) -> bool:
    return bool((build.get("status") or {}).get("cancelled"))


def build_digest(build: Mapping[str, Any]) -> str:
    status = build.get("status") or {}
    return str(((status.get("output") or {}).get("to") or {}).get("imageDigest") or "")


def build_failure(build: Mapping[str, Any]) -> str:
    """Why a Build did not complete, with the end of its log, for the admin."""
    status = build.get("status") or {}
    name = (build.get("metadata") or {}).get("name")
    phase = build_phase(build)
    reason = status.get("reason") or phase
    message = status.get("message") or ""
    text = f"The cluster build {name} ended {phase} ({reason})"
    text += f": {message}" if message else ""
    snippet = str(status.get("logSnippet") or "").strip()
    if snippet:
        text += "\nLast lines of its log:\n" + "\n".join(snippet.splitlines()[-8:])
    return text


def pod_state(pod: Mapping[str, Any]) -> tuple[str, str]:
    """``(state, detail)``: state is running, succeeded, failed or stuck."""
    status = pod.get("status") or {}
    phase = status.get("phase") or "Pending"
    if phase == "Succeeded":
        return "succeeded", ""
    if phase == "Failed":
        return "failed", str(status.get("message") or status.get("reason") or "")
    for container in status.get("containerStatuses") or []:
        waiting = (container.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in POD_STUCK:
            return "stuck", f"{waiting['reason']}: {waiting.get('message') or ''}".strip()
    return "running", ""
