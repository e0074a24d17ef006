"""Open Data Hub dashboard rules the menu honours besides discovery (pure, no I/O).

Each rule reads one annotation, label or status field and returns what the menu needs. A
malformed value never breaks the menu: it is skipped and a warning (one log line, logged by
the catalog once per object version) says why. See DOMAIN.md "Open Data Hub's dashboard today".
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

ODH = "opendatahub.io/"
LABEL_NOTEBOOK_IMAGE = ODH + "notebook-image"
ANN_HIDDEN = ODH + "notebook-image-hidden"
ANN_ACCELERATORS = ODH + "recommended-accelerators"
ANN_OUTDATED = ODH + "image-tag-outdated"
ANN_WORKBENCH_RECOMMENDED = ODH + "workbench-image-recommended"
ANN_LEGACY_RECOMMENDED = ODH + "notebook-image-recommended"
ANN_BUILD_COMMIT = ODH + "notebook-build-commit"
LABEL_BUILD_TYPE = ODH + "build_type"
BUILD_TYPE_NOTEBOOK = "notebook_image"
ANN_BUILD_NUMBER = "openshift.io/build.number"

#: phases of a tag's newest Build that keep the tag out of the menu (ODH's dashboard rule)
BLOCKING_PHASES = frozenset({"New", "Pending", "Running", "Failed", "Error", "Cancelled"})
#: longest value shown for a build commit / accelerator (an annotation can hold 256 KiB)
MAX_SHOWN = 100


def _true(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower() == "true"


def disabled_by_label(labels: Mapping[str, Any]) -> bool:
    """``opendatahub.io/notebook-image: "false"`` disables a stream, whatever its name."""
    value = labels.get(LABEL_NOTEBOOK_IMAGE)
    return isinstance(value, str) and value.strip().lower() == "false"


def hidden(annotations: Mapping[str, Any]) -> bool:
    """``opendatahub.io/notebook-image-hidden: "true"`` hides a stream from the menu."""
    return _true(annotations.get(ANN_HIDDEN))


def recommended(annotations: Mapping[str, Any]) -> bool:
    """The preferred tag: ``workbench-image-recommended``, or the legacy annotation."""
    return _true(annotations.get(ANN_WORKBENCH_RECOMMENDED)) or _true(
        annotations.get(ANN_LEGACY_RECOMMENDED)
    )


def outdated(annotations: Mapping[str, Any]) -> bool:
    """Any non-empty ``image-tag-outdated`` value: not offered for new starts."""
    value = annotations.get(ANN_OUTDATED)
    return value is not None and str(value).strip() != ""


def _shown(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_SHOWN and value.isprintable()


def build_commit(annotations: Mapping[str, Any], warnings: list[str]) -> str | None:
    """``notebook-build-commit``, shown beside the tag; None when absent or malformed."""
    value = annotations.get(ANN_BUILD_COMMIT)
    if value in (None, ""):
        return None
    if not _shown(value):
        warnings.append(f"{ANN_BUILD_COMMIT} is not a short printable string; not shown")
        return None
    return str(value).strip()


def accelerators(annotations: Mapping[str, Any], warnings: list[str]) -> tuple[str, ...]:
    """``recommended-accelerators``: a JSON list of identifiers such as ``nvidia.com/gpu``."""
    raw = annotations.get(ANN_ACCELERATORS)
    if raw in (None, ""):
        return ()
    try:
        items = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError as e:
        warnings.append(f"{ANN_ACCELERATORS} is not JSON ({e}); not shown")
        return ()
    if not isinstance(items, list) or not all(_shown(i) for i in items):
        warnings.append(f"{ANN_ACCELERATORS} is not a JSON list of short strings; not shown")
        return ()
    return tuple(dict.fromkeys(items))


def import_errors(status: Any) -> tuple[str, ...]:
    """BYON import errors: ``status.tags[].conditions`` with ``status: "False"`` (an image
    import that failed), as ``"<tag>: <message>"``; anything malformed is left out."""
    if not isinstance(status, Mapping) or not isinstance(status.get("tags"), list):
        return ()
    errors: list[str] = []
    for entry in status["tags"]:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("conditions"), list):
            continue
        for condition in entry["conditions"]:
            if not isinstance(condition, Mapping) or str(condition.get("status")) != "False":
                continue
            message = condition.get("message") or condition.get("reason") or "import failed"
            errors.append(f"{entry.get('tag', '?')}: {str(message)[:500]}")
    return tuple(errors)


def _build_tag(build: Mapping[str, Any]) -> str | None:
    """``<stream>:<tag>`` a Build outputs to, or None when it is not an ImageStreamTag."""
    spec = build.get("spec")
    output = spec.get("output") if isinstance(spec, Mapping) else None
    to = output.get("to") if isinstance(output, Mapping) else None
    if not isinstance(to, Mapping) or to.get("kind", "ImageStreamTag") != "ImageStreamTag":
        return None
    name = to.get("name")
    return name if isinstance(name, str) and ":" in name else None


def _build_age(build: Mapping[str, Any]) -> tuple[int, str]:
    """Newest first by ``openshift.io/build.number``, then creationTimestamp (ISO strings
    sort by time)."""
    meta = build.get("metadata") or {}
    ann = meta.get("annotations") or {}
    try:
        number = int(str(ann.get(ANN_BUILD_NUMBER, "0")))
    except ValueError:
        number = 0
    return number, str(meta.get("creationTimestamp") or "")


def is_notebook_build(build: Mapping[str, Any]) -> bool:
    """Builds that may speak for a menu tag: ODH's label, or output to an ImageStreamTag."""
    meta = build.get("metadata")
    labels = meta.get("labels") if isinstance(meta, Mapping) else None
    if isinstance(labels, Mapping) and labels.get(LABEL_BUILD_TYPE) == BUILD_TYPE_NOTEBOOK:
        return True
    return _build_tag(build) is not None


def blocked_tags(builds: Iterable[Any]) -> dict[tuple[str, str], str]:
    """``(namespace, "<stream>:<tag>")`` → phase, for tags whose newest Build has a blocking
    phase. The output's namespace defaults to the Build's own. Malformed Builds are ignored."""
    newest: dict[tuple[str, str], tuple[tuple[int, str], str]] = {}
    for build in builds:
        if not isinstance(build, Mapping) or not is_notebook_build(build):
            continue
        tag = _build_tag(build)
        meta = build.get("metadata") or {}
        if tag is None or not isinstance(meta, Mapping):
            continue
        to = build["spec"]["output"]["to"]
        namespace = str(to.get("namespace") or meta.get("namespace") or "")
        phase = (
            build.get("status", {}).get("phase")
            if isinstance(build.get("status"), Mapping)
            else None
        )
        key, age = (namespace, tag), _build_age(build)
        if key not in newest or age > newest[key][0]:
            newest[key] = (age, str(phase or "New"))
    return {key: phase for key, (_, phase) in newest.items() if phase in BLOCKING_PHASES}
