"""Reading Tekton's reports on a PipelineRun and its TaskRuns (plain dicts, no cluster)."""

from __future__ import annotations

from typing import Any

import pytest

from jupyterhub_ov.builds.backends.tekton import status
from jupyterhub_ov.builds.backends.tekton.status import RunState


def run(*conditions: dict[str, str], **status_fields: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "pandas-notebook-abc"},
        "spec": {},
        "status": {"conditions": list(conditions), **status_fields},
    }


def succeeded(value: str, reason: str, message: str = "") -> dict[str, str]:
    return {"type": "Succeeded", "status": value, "reason": reason, "message": message}


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ((), RunState("running", "Pending")),
        (({"type": "Other", "status": "False"},), RunState("running", "Pending")),
        (
            (succeeded("Unknown", "Running", "Tasks Completed: 0"),),
            RunState("running", "Running", "Tasks Completed: 0"),
        ),
        (
            (succeeded("True", "Succeeded", "all done"),),
            RunState("succeeded", "Succeeded", "all done"),
        ),
        ((succeeded("True", "Completed"),), RunState("succeeded", "Completed")),
        ((succeeded("False", "Failed", "1 failed"),), RunState("failed", "Failed", "1 failed")),
        (
            (succeeded("False", "PipelineRunTimeout", "late"),),
            RunState("failed", "PipelineRunTimeout", "late"),
        ),
        ((succeeded("False", "Cancelled", "stop"),), RunState("cancelled", "Cancelled", "stop")),
        ((succeeded("False", "StoppedRunFinally"),), RunState("cancelled", "StoppedRunFinally")),
    ],
)
def test_the_succeeded_condition_is_the_state(
    conditions: tuple[dict[str, str], ...], expected: RunState
) -> None:
    state = status.run_state(run(*conditions))
    assert state == expected
    assert state.done is (expected.state != "running")


def test_a_run_is_started_once_it_has_a_condition_or_a_start_time() -> None:
    assert not status.started({"metadata": {"name": "r"}, "spec": {}})
    assert status.started(run(startTime="2026-01-01T00:00:00Z"))
    assert status.started(run(succeeded("Unknown", "Started")))


def test_cancel_requests_and_results_are_read_from_spec_and_status() -> None:
    done = run(
        succeeded("True", "Succeeded"),
        results=[
            {"name": "IMAGE_URL", "value": "r/ns/x:1"},
            {"name": "IMAGE_DIGEST", "value": "sha256:1\n"},
        ],
    )
    assert status.result(done) == "sha256:1"
    assert status.result(done, "IMAGE_URL") == "r/ns/x:1"
    assert status.result(run(), "IMAGE_URL") == ""
    assert not status.cancel_requested(done)
    assert status.cancel_requested({**done, "spec": {"status": "Cancelled"}})


def test_a_failure_names_the_run_its_reason_and_the_failed_task_runs() -> None:
    failed = run(
        succeeded("False", "Failed", "Tasks Completed: 1 (Failed: 1, Cancelled 0), Skipped: 0"),
        childReferences=[
            {"kind": "TaskRun", "name": "pandas-notebook-abc-build"},
            {"kind": "Run", "name": "custom"},
        ],
    )
    task_runs = [
        {
            "metadata": {"name": "pandas-notebook-abc-build"},
            "status": {
                "conditions": [succeeded("False", "Failed", '"step-build" exited with code 1')]
            },
        },
        {
            "metadata": {"name": "fine"},
            "status": {"conditions": [succeeded("True", "Succeeded", "All Steps done")]},
        },
    ]

    assert status.task_run_names(failed) == ["pandas-notebook-abc-build"]
    assert status.failure(failed, task_runs) == (
        "The PipelineRun pandas-notebook-abc ended failed (Failed):"
        " Tasks Completed: 1 (Failed: 1, Cancelled 0), Skipped: 0\n"
        'pandas-notebook-abc-build: "step-build" exited with code 1'
    )
    assert status.failure(run(succeeded("False", ""))) == (
        "The PipelineRun pandas-notebook-abc ended failed (no reason given)"
    )
