"""Pure: the ``status`` of a ``CustomNBImage`` resource, from its build or its problems.

``phase`` follows the design's state diagram: the build's phase (the build service's phases
are the design's), except that an import, which the design has start in ``Importing``
("scheduled, the image stream not created yet"), shows ``Importing`` while its build waits in
``Preparing``. Beside it: ``buildId`` (the build in the service: ``api/builds/<id>``),
``image`` (``<name>:<tag>``, the menu's reference), ``tag``, ``imageReference`` (the
published, digest-pinned reference), ``observedGeneration`` and three conditions with
messages: ``Valid`` (the spec is a request the service accepts; if not, every problem),
``Building`` (a build runs) and ``Ready`` (the image is published and offered).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from jupyterhub_ov.builds.model.phases import Phase
from jupyterhub_ov.builds.model.records import BuildRecord
from jupyterhub_ov.builds.model.spec import BuildType
from jupyterhub_ov.resourcestatus import Wanted, conditions, status_patch

__all__ = ["INVALID_SPEC", "resource_phase", "status_for", "status_patch"]

INVALID_SPEC = "InvalidSpec"


def resource_phase(build_type: str, phase: Phase) -> str:
    """The resource's ``status.phase`` for its build's phase."""
    if build_type == BuildType.IMPORT_IMAGE and phase is Phase.PREPARING:
        return str(Phase.IMPORTING)
    return str(phase)


def _conditions(record: BuildRecord) -> list[Wanted]:
    phase, message = record.phase, record.message
    valid = ("Valid", True, "Accepted", f"A valid {record.request.build_type} request")
    if phase is Phase.SUCCESS:
        return [
            valid,
            ("Building", False, "Built", message),
            (
                "Ready",
                True,
                "Published",
                f"{record.image} is offered as {record.request.display_name}",
            ),
        ]
    if phase is Phase.FAILURE:
        return [
            valid,
            ("Building", False, "BuildFailed", message),
            ("Ready", False, "BuildFailed", message),
        ]
    shown = resource_phase(record.request.build_type, phase)
    return [valid, ("Building", True, shown, message), ("Ready", False, shown, message)]


def status_for(
    record: BuildRecord | None,
    *,
    problems: Sequence[str] = (),
    generation: int | None = None,
    previous: Mapping[str, Any] | None = None,
    at: datetime,
) -> dict[str, Any]:
    """The status for the resource's build ``record``, or, with ``problems`` (an invalid
    spec: nothing is built), ``Failure`` listing them all. A condition keeps the
    ``lastTransitionTime`` of ``previous`` while its status stays the same, so the same
    record gives the same status and an unchanged resource is never written again."""
    fields: dict[str, Any] = {}
    if problems:
        message = "; ".join(problems)
        fields["phase"] = str(Phase.FAILURE)
        wanted = [
            ("Valid", False, INVALID_SPEC, message),
            ("Building", False, INVALID_SPEC, "Nothing is built for an invalid spec"),
            ("Ready", False, INVALID_SPEC, message),
        ]
    elif record is not None:
        resolved = record.resolved
        fields = {
            "phase": resource_phase(record.request.build_type, record.phase),
            "buildId": record.id,
            "image": record.image or (resolved.image if resolved else None),
            "tag": resolved.tag if resolved else None,
            "imageReference": record.reference or None,
        }
        wanted = _conditions(record)
    else:
        raise ValueError("status_for needs a record or problems")
    fields["conditions"] = conditions(wanted, previous, at)
    fields["observedGeneration"] = generation
    return {key: value for key, value in fields.items() if value is not None}
