"""Pure: what the servicecrash scenario concludes from what it saw (no I/O).

A build record is *stuck* when it does not end Success or Failure; *untruthful* when it says
Success but its image is not offered, says Failure but its image is offered, or has an empty
message. An image offered in the menu at any moment (the ImageStream watch, or the local
catalog scans) whose build did not end Success was *half-built*. Cluster objects or processes
still there after every build ended are *orphans*.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jupyterhub_ov.images.model import InvalidImage, is_notebook_stream, parse_image_stream

TERMINAL = ("Success", "Failure")
#: the cluster Build phases that still do work
ACTIVE_BUILD = ("New", "Pending", "Running")


def offered(stream: Mapping[str, Any]) -> set[str]:
    """``<stream>:<tag>`` of every tag the menu offers from this ImageStream (as
    `KubeImageCatalog` finds and parses it: a notebook stream by name or label, visible, the
    tag in spec.tags and status.tags, not outdated)."""
    if not is_notebook_stream(stream):
        return set()
    try:
        image = parse_image_stream(stream)
    except InvalidImage:
        return set()
    if not image.visible:
        return set()
    return {f"{image.name}:{tag.name}" for tag in image.offered_tags}


@dataclass
class Verdict:
    stuck: list[str] = field(default_factory=list)
    untruthful: list[str] = field(default_factory=list)
    half_built: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return [*self.stuck, *self.untruthful, *self.half_built]


def judge(
    records: Iterable[Mapping[str, Any]],
    *,
    offered_ever: Iterable[str],
    offered_now: Iterable[str],
) -> Verdict:
    """Records (``name``, ``phase``, ``message``, ``image``) against what the menu offered."""
    verdict = Verdict()
    ever, now = set(offered_ever), set(offered_now)
    succeeded: set[str] = set()
    for r in records:
        name, phase, image = r["name"], r["phase"], r.get("image") or ""
        if phase not in TERMINAL:
            verdict.stuck.append(f"{name}: still {phase}")
            continue
        if not (r.get("message") or "").strip():
            verdict.untruthful.append(f"{name}: {phase} without a message")
        if phase == "Success":
            succeeded.add(image)
            if image not in now:
                verdict.untruthful.append(f"{name}: Success, but {image or 'no image'} not offered")
        elif image and image in now:
            verdict.untruthful.append(f"{name}: Failure, but {image} is offered")
    verdict.half_built = sorted(f"{i}: offered, never built" for i in ever - succeeded)
    return verdict


def cluster_orphans(
    *, pods: Iterable[str], staging: Iterable[str], builds: Iterable[tuple[str, str]]
) -> list[str]:
    """Objects of builds that all ended: validation pods, staging streams, active Builds."""
    found = [f"Pod {p}" for p in pods] + [f"ImageStream {s}" for s in staging]
    found += [f"Build {name} {phase}" for name, phase in builds if phase in ACTIVE_BUILD]
    return sorted(found)


def stream_phase_problems(streams: Iterable[Mapping[str, Any]]) -> list[str]:
    """Notebook streams whose phase annotation is not the truth once every build ended: one
    still ``Validating`` (nothing validates it any more)."""
    found = []
    for s in streams:
        meta = s.get("metadata") or {}
        phase = (meta.get("annotations") or {}).get("opendatahub.io/notebook-image-phase")
        if phase == "Validating":
            found.append(f"ImageStream {meta.get('name')}: still Validating")
    return found


def duplicates(names: Iterable[str]) -> list[str]:
    """Names seen more than once."""
    seen: dict[str, int] = {}
    for n in names:
        seen[n] = seen.get(n, 0) + 1
    return sorted(n for n, count in seen.items() if count > 1)
