"""Conditions and status patches shared by the reconcilers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jupyterhub_ov.resourcestatus import conditions, status_patch

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_a_condition_keeps_its_transition_time_while_its_status_stays() -> None:
    first = {
        "conditions": conditions([("Ready", False, "Wait", "a"), ("Busy", True, "B", "")], None, AT)
    }
    later = conditions(
        [("Ready", True, "Done", "b"), ("Busy", True, "B", "still")], first, AT + timedelta(hours=1)
    )
    assert [(c["type"], c["status"], c["lastTransitionTime"]) for c in later] == [
        ("Ready", "True", "2026-12-01T13:00:00Z"),  # changed: now
        ("Busy", "True", "2026-12-01T12:00:00Z"),  # same status: kept
    ]
    assert later[1]["message"] == "still"


def test_the_patch_holds_what_changed_and_drops_what_is_gone() -> None:
    assert status_patch({"a": 1, "b": 2}, {"a": 1, "b": 2}) is None
    assert status_patch(None, {"a": 1}) == {"status": {"a": 1}}
    assert status_patch({"a": 1, "b": 2}, {"a": 3}) == {"status": {"a": 3, "b": None}}
