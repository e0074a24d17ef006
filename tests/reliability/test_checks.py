"""The spawn scenarios' pure checkers: object census and failure messages."""

from __future__ import annotations

import pytest

from reliability.checks import CLAIMS, PODS, Census, clear_failure


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
