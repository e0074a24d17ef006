"""The fuzzing scenario's tally: what counts as a 5xx, a broken answer and a plain user's
write that got through."""

from __future__ import annotations

import pytest

from reliability.fuzztally import KEEP, Tally, answers


def figures_of(tally: Tally) -> dict[str, tuple[object, bool]]:
    return {f.name.split(": ", 1)[1]: (f.ours, f.ok) for f in tally.figures("fuzzing", "api")}


def test_clean_answers_pass_and_are_counted() -> None:
    t = Tally("admin", writer=True)
    t.record("get", "/api/builds", 200, {})
    t.record("POST", "/api/builds", 201, {})
    t.record("POST", "/api/builds", 422, {}, stateful=True)
    got = figures_of(t)
    assert got["operations fuzzed"] == (2, True)
    assert got["cases sent (stateful steps)"] == ("3 (1)", True)
    assert got["answers"] == ("2xx 2, 4xx 1", True)
    assert got["5xx answers"] == (0, True)
    assert got["answers breaking the OpenAPI document"] == (0, True)
    assert "writes that succeeded" not in got  # an admin's writes may succeed
    assert t.findings == []


@pytest.mark.parametrize(
    ("status", "failed"),
    [
        (500, {}),
        (503, {}),
        # schemathesis' own verdict counts even when the status looks fine
        (200, {"not_a_server_error": "Server error"}),
    ],
)
def test_server_errors_fail(status: int, failed: dict[str, str]) -> None:
    t = Tally("admin", writer=True)
    t.record("GET", "/api/builds/{id}", status, failed)
    assert figures_of(t)["5xx answers"] == (1, False)
    assert t.findings[0].startswith(f"GET /api/builds/{{id}} -> {status}")


@pytest.mark.parametrize(
    "check",
    [
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
    ],
)
def test_conformance_failures_fail(check: str) -> None:
    t = Tally("plain user", writer=False)
    t.record("GET", "/api/builds", 200, {check: "bad", "other": "x"})
    assert figures_of(t)["answers breaking the OpenAPI document"] == (1, False)
    assert f"{check}: bad" in t.findings[0]


def test_other_checks_are_not_counted() -> None:
    t = Tally("admin", writer=True)
    t.record("POST", "/api/builds", 422, {"negative_data_rejection": "accepted"})
    assert figures_of(t)["answers breaking the OpenAPI document"] == (0, True)


@pytest.mark.parametrize(
    ("method", "status", "succeeded"),
    [
        ("POST", 201, 1),
        ("delete", 204, 1),
        ("PUT", 200, 1),
        ("POST", 403, 0),
        ("POST", 422, 0),
        ("GET", 200, 0),  # reads are the user role's
    ],
)
def test_plain_user_writes(method: str, status: int, succeeded: int) -> None:
    t = Tally("plain user", writer=False)
    t.record(method, "/api/modelservers", status, {})
    assert figures_of(t)["writes that succeeded"] == (succeeded, succeeded == 0)


def test_findings_are_bounded() -> None:
    t = Tally("admin", writer=True)
    for _ in range(KEEP + 3):
        t.record("GET", "/api/builds", 500, {})
    assert (t.server_errors, len(t.findings)) == (KEEP + 3, KEEP)


def test_answers_text() -> None:
    assert answers({}) == "none"
    assert answers({"4xx": 3, "2xx": 5}) == "2xx 5, 4xx 3"
