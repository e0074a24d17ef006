"""Pure: what Tekton reports about a PipelineRun (and its TaskRuns), read into our terms.

A run's state is its ``Succeeded`` condition: ``Unknown`` while it is pending or running
(reasons ``Started``, ``Running``, ``PipelineRunPending``, ...), ``True`` once it succeeded
(``Succeeded``, ``Completed``), ``False`` once it failed (``Failed``, ``PipelineRunTimeout``,
...) or was cancelled (``Cancelled``, ``StoppedRunFinally``...). No condition yet: the
controller has not seen the run. The TaskRuns (``status.childReferences``) say which step
failed and why; their message goes into the admin's failure message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .manifests import CANCELLED, DIGEST_RESULT

RUNNING, SUCCEEDED, FAILED, CANCELLED_STATE = "running", "succeeded", "failed", "cancelled"
#: ``False`` reasons that mean the run was stopped on request, not that it failed
CANCEL_REASONS = frozenset({"Cancelled", "CancelledRunFinally", "StoppedRunFinally"})


@dataclass(frozen=True)
class RunState:
    """The ``Succeeded`` condition of a run: ``state`` is one of running, succeeded, failed,
    cancelled."""

    state: str
    reason: str = ""
    message: str = ""

    @property
    def done(self) -> bool:
        return self.state != RUNNING


def succeeded_condition(run: Mapping[str, Any]) -> Mapping[str, Any]:
    conditions = (run.get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c.get("type") == "Succeeded"), {})


def run_state(run: Mapping[str, Any]) -> RunState:
    condition = succeeded_condition(run)
    value = condition.get("status") or "Unknown"
    reason, message = str(condition.get("reason") or ""), str(condition.get("message") or "")
    if value == "True":
        return RunState(SUCCEEDED, reason, message)
    if value == "False":
        state = CANCELLED_STATE if reason in CANCEL_REASONS else FAILED
        return RunState(state, reason, message)
    return RunState(RUNNING, reason or "Pending", message)


def started(run: Mapping[str, Any]) -> bool:
    """Whether the controller has taken the run up (a condition or a start time)."""
    return bool(succeeded_condition(run) or (run.get("status") or {}).get("startTime"))


def cancel_requested(run: Mapping[str, Any]) -> bool:
    return (run.get("spec") or {}).get("status") == CANCELLED


def result(run: Mapping[str, Any], name: str = DIGEST_RESULT) -> str:
    """A pipeline result's value ("" if the run has none of that name)."""
    for entry in (run.get("status") or {}).get("results") or []:
        if entry.get("name") == name:
            return str(entry.get("value") or "").strip()
    return ""


def task_run_names(run: Mapping[str, Any]) -> list[str]:
    children = (run.get("status") or {}).get("childReferences") or []
    return [str(c["name"]) for c in children if c.get("kind") == "TaskRun" and c.get("name")]


def failure(run: Mapping[str, Any], task_runs: Sequence[Mapping[str, Any]] = ()) -> str:
    """Why a run did not succeed, with what its failed TaskRuns say, for the admin."""
    name = (run.get("metadata") or {}).get("name")
    state = run_state(run)
    text = f"The PipelineRun {name} ended {state.state} ({state.reason or 'no reason given'})"
    text += f": {state.message}" if state.message else ""
    for task_run in task_runs:
        task = run_state(task_run)
        if task.state in (FAILED, CANCELLED_STATE) and task.message:
            text += f"\n{(task_run.get('metadata') or {}).get('name')}: {task.message}"
    return text
