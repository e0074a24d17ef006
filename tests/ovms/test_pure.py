"""The local model server's pure parts: request limits, version routing, version states and
the /v1/config document (tables)."""

from __future__ import annotations

import pytest

from jupyterhub_ov.ovms import guard, state
from jupyterhub_ov.ovms.state import VersionStatus


@pytest.mark.parametrize(
    ("path", "split"),
    [
        ("/v2/models/m/versions/2/infer", ("/v2/models/m/infer", "2")),
        ("/v2/models/m/versions/2/ready", ("/v2/models/m/ready", "2")),
        ("/v2/models/m/versions/10", ("/v2/models/m", "10")),
        ("/v2/models/m/infer", ("/v2/models/m/infer", None)),
        ("/v2/models/m/versions/2/other", ("/v2/models/m/versions/2/other", None)),
    ],
)
def test_split_version(path: str, split: tuple[str, str | None]) -> None:
    assert guard.split_version(path) == split


@pytest.mark.parametrize(
    ("path", "served"),
    [
        ("/v2", True),
        ("/v2/health/live", True),
        ("/v2/health/ready", True),
        ("/v2/models/m", True),
        ("/v2/models/m/ready", True),
        ("/v2/models/m/versions/1/infer", True),
        ("/v1/config", True),
        ("/v1/config/reload", True),
        ("/metrics", True),
        ("/v1/models/m:predict", False),
        ("/v2/repository/models/m/load", False),
        ("/docs", False),
        ("/", False),
    ],
)
def test_served(path: str, served: bool) -> None:
    assert guard.served(path) is served


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        (b'{"inputs": [{"data": [1, 2, 3]}]}', 0),  # few brackets: not counted
        (b"[" * 40 + b"]" * 40, 33),  # counted up to the limit + 1
        (b'{"a": "' + b"[" * 40 + b'"}', 1),  # brackets in a string do not count
        (b'{"a": "\\"' + b"[" * 40 + b'"}', 1),  # an escaped quote stays in the string
        (b'{"a": "\\\\"' + b"[" * 40, 33),  # an escaped backslash ends it
        (b"[[[]]]" * 20, 3),
    ],
)
def test_json_depth(text: bytes, depth: int) -> None:
    assert guard.json_depth(text) == depth


def test_body_problem() -> None:
    deep = b"[" * 40 + b"]" * 40
    assert guard.body_problem(deep, None) == "the JSON body nests deeper than 32 levels"
    # the binary extension: only the JSON header counts, the tensor bytes after it do not
    assert guard.body_problem(b"{}" + deep, "2") == ""
    assert guard.body_problem(deep + b"{}", "80") != ""
    assert guard.body_problem(b'{"inputs": []}', None) == ""


@pytest.mark.parametrize(
    ("wanted", "loaded", "plan"),
    [
        ([1, 2], [], ([1, 2], [])),
        ([2], [1], ([2], [1])),
        ([1, 3], [1, 2, 3], ([], [2])),
        ([], [4], ([], [4])),
    ],
)
def test_plan(wanted: list[int], loaded: list[int], plan: tuple[list[int], list[int]]) -> None:
    assert state.plan(wanted, loaded) == plan


STATES = [
    VersionStatus(1, state.AVAILABLE),
    VersionStatus(2, state.LOADING, "FAILED_PRECONDITION", "bad"),
    VersionStatus(3, state.AVAILABLE),
    VersionStatus(4, state.END),
]


@pytest.mark.parametrize(
    ("requested", "serving"), [(None, 3), (1, 1), (2, None), (4, None), (9, None)]
)
def test_serving_version(requested: int | None, serving: int | None) -> None:
    assert state.serving_version(STATES, requested) == serving


def test_readiness_and_the_config_document() -> None:
    assert state.model_ready(STATES)
    assert not state.model_ready([VersionStatus(0, state.LOADING, "NOT_FOUND", "gone")])
    assert state.config_document({"m": STATES[:2], "empty": []}) == {
        "m": {
            "model_version_status": [
                {
                    "version": "2",
                    "state": "LOADING",
                    "status": {"error_code": "FAILED_PRECONDITION", "error_message": "bad"},
                },
                {
                    "version": "1",
                    "state": "AVAILABLE",
                    "status": {"error_code": "OK", "error_message": ""},
                },
            ]
        },
        "empty": {"model_version_status": []},
    }


def test_a_failed_version_is_tried_again_later_and_later() -> None:
    retries = state.Retries(first=1.0, most=4.0)
    assert retries.due(1, now=0.0)  # never failed: now
    assert [retries.failed(1, now=t) for t in (0.0, 1.0, 3.0, 7.0, 11.0)] == [1, 2, 4, 4, 4]
    assert not retries.due(1, now=14.9) and retries.due(1, now=15.0)
    assert retries.due(2, now=0.0)  # another version: its own
    retries.forget(1)  # loaded at last: the next failure starts from the first delay
    assert retries.due(1, now=0.0) and retries.failed(1, now=20.0) == 1.0
    retries.clear()  # POST /v1/config/reload: everything tried now
    assert retries.due(1, now=20.0)
