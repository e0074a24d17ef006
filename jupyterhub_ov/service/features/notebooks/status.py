"""Pure: the ``status`` of a cluster ``Notebook`` resource: its conditions (``Ready``,
``Building``, ``Degraded``) from a `NotebookRecord` or a `Problem`, and the merge patch that
writes only what changed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jupyterhub_ov.resourcestatus import condition, conditions, status_patch
from jupyterhub_ov.resourcestatus import timestamp as _timestamp

from .model import GROUP, PLURAL, display_name
from .record import NotebookRecord

__all__ = ["condition", "status_for", "status_patch"]


#: reasons of a Notebook the service builds nothing for
PRECONDITION_FAILED, INVALID_PARAMETERS = "PreconditionFailed", "InvalidParameters"


@dataclass(frozen=True)
class Problem:
    """Why nothing is built for a Notebook resource: a `Ready` condition's reason and message."""

    reason: str
    message: str


def resource_creator(namespace: str, name: str) -> str:
    """Who a Notebook resource's images are recorded as created by (the stream's creator)."""
    return f"{PLURAL}.{GROUP}/{namespace}/{name}"


def _record_conditions(record: NotebookRecord) -> list[tuple[str, bool, str, str]]:
    """``Ready``: an image is offered; ``Building``: a build runs; ``Degraded``: the last
    build or branch check went wrong. (States are `notebookstore`'s.)"""
    state = record.state
    if record.tags:
        ready = (True, "Published", f"{record.image} is offered as {display_name(record.name)}")
    elif state == "Failed":
        ready = (False, "BuildFailed", record.message)
    elif state == "Building":
        ready = (False, "Building", record.message)
    else:
        ready = (False, "Pending", record.message or "Waiting for the first build")
    if state == "Failed":
        degraded = (True, "BuildFailed", record.message)
    elif record.warning:
        degraded = (True, "RepositoryUnreachable", record.warning)
    else:
        degraded = (False, "AsExpected", "")
    building = (True, "Building", record.message) if state == "Building" else (False, "Idle", "")
    return [("Ready", *ready), ("Building", *building), ("Degraded", *degraded)]


def status_for(
    record: NotebookRecord | None,
    *,
    problem: Problem | None = None,
    generation: int | None = None,
    previous: Mapping[str, Any] | None = None,
    at: datetime,
) -> dict[str, Any]:
    """The ``status`` of a Notebook resource: what the service knows of it (``record``: the
    commit, dates, image and tags of its last published build) and its conditions — or, with
    a ``problem``, why nothing is built (the operator's exact message, in `Ready` and
    `Degraded`). A condition keeps the ``lastTransitionTime`` of ``previous`` (the current
    status) while its status stays the same, and absent values are left out: the same record
    gives the same status, so an unchanged Notebook is never written again.
    """
    fields: dict[str, Any] = {}
    if record is not None:
        fields = {
            "state": record.state,
            "message": record.message,
            "warning": record.warning,
            "commit": record.commit,
            "build_date": record.build_date and _timestamp(record.build_date),
            "latest_update_date": record.latest_update_date
            and _timestamp(record.latest_update_date),
            "last_check": record.last_check and _timestamp(record.last_check),
            "image": record.image,
            "tags": list(record.tags),
            "build_id": record.build_id,
        }
    if problem is not None:
        fields.update(state="Failed", message=problem.message)
        building = ("Building", False, "Idle", "")
        if record is not None and record.state == "Building":  # of parameters accepted before
            building = ("Building", True, "Building", record.message)
        wanted = [
            ("Ready", False, problem.reason, problem.message),
            building,
            ("Degraded", True, problem.reason, problem.message),
        ]
    elif record is not None:
        wanted = _record_conditions(record)
    else:
        raise ValueError("status_for needs a record or a problem")
    fields["conditions"] = conditions(wanted, previous, at)
    fields["observedGeneration"] = generation
    return {key: value for key, value in fields.items() if value is not None}
