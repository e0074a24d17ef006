"""The spawn scenarios' pure checkers: object census and failure messages."""

from __future__ import annotations

import pytest

from reliability.checks import CLAIMS, KILL_STEPS, PODS, Census, clear_failure


def obj(name: str, user: str = "ann") -> dict:
    return {"metadata": {"name": name, "labels": {"hub.jupyter.org/username": user}}}


def test_census_counts_duplicates_and_leftovers() -> None:
    c = Census()
    c.observe(CLAIMS, "ADDED", obj("a"))
    c.observe(CLAIMS, "MODIFIED", obj("a"))
    assert c.duplicates(CLAIMS) == 0
    c.observe(CLAIMS, "ADDED", obj("b"))  # a second claim while the first exists
    assert c.duplicates(CLAIMS) == 1
    c.observe(CLAIMS, "DELETED", obj("a"))
    c.observe(PODS, "ADDED", obj("p", "bob"))
    c.observe(PODS, "ADDED", obj("unlabelled", ""))
    assert (c.left(CLAIMS), c.left(PODS), c.left(PODS, ["ann"])) == (1, 1, 0)
    assert c.of("bob") == {"claims": 0, "pvcs": 0, "pods": 1}


@pytest.mark.parametrize(
    ("message", "clear"),
    [
        ("Spawn failed: Your storage bucket is not ready: ...", True),
        ("Spawn failed: pod default/jupyter-x did not start in 600 seconds!", True),
        ("Spawn failed: (429)\nReason: Too Many Requests\nHTTP response headers: ...", False),
        ("Spawn failed: (500)\nReason: error", False),
        ("Spawn failed: ", False),
    ],
)
def test_clear_failure(message: str, clear: bool) -> None:
    assert clear_failure(message) is clear


def claim(phase: str = "", user: str = "ann") -> dict:
    body = obj("jupyter-bucket-" + user, user)
    return {**body, "status": {"phase": phase}} if phase else body


def pod(phase: str, scheduled: bool, user: str = "ann") -> dict:
    conditions = [{"type": "PodScheduled", "status": "True"}] if scheduled else []
    return {**obj("jupyter-" + user, user), "status": {"phase": phase, "conditions": conditions}}


AFTER_CLAIM, WAITING_BOUND, AFTER_POD, IN_PROGRESS = KILL_STEPS


@pytest.mark.parametrize(
    ("step", "event", "body", "matches"),
    [
        (AFTER_CLAIM, "ADDED", claim(), True),
        (AFTER_CLAIM, "ADDED", claim(user="bob"), False),  # another user's
        (AFTER_CLAIM, "MODIFIED", claim("Pending"), False),
        (WAITING_BOUND, "MODIFIED", claim("Pending"), True),
        (WAITING_BOUND, "MODIFIED", claim(), False),  # the finalizer added, no phase yet
        (WAITING_BOUND, "MODIFIED", claim("Bound"), False),
        (AFTER_POD, "ADDED", pod("", False), True),
        (AFTER_POD, "MODIFIED", pod("Pending", True), False),
        (IN_PROGRESS, "MODIFIED", pod("Pending", True), True),
        (IN_PROGRESS, "MODIFIED", pod("Pending", False), False),  # not scheduled yet
        (IN_PROGRESS, "MODIFIED", pod("Running", True), False),
        (IN_PROGRESS, "ADDED", pod("Pending", True), False),
    ],
)
def test_kill_steps_match_their_store_event(step, event, body, matches) -> None:
    assert step.matches("ann", event, body) is matches


def test_kill_steps_come_in_a_spawns_order() -> None:
    assert [s.kind for s in KILL_STEPS] == [CLAIMS, CLAIMS, PODS, PODS]
    assert [s.pull_held for s in KILL_STEPS] == [False, False, False, True]
