"""Per-model readiness from an OpenVINO Model Server's /v1/config: the document as model
states (tables), and the reader against a real HTTP server's answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application, RequestHandler

from jupyterhub_ov.service.features.modelservers.readiness import (
    MAX_BODY,
    ModelState,
    ReadinessError,
    model_states,
    read_model_states,
)
from tests.util import free_port

OK = {"error_code": "OK", "error_message": ""}


def version(v: str, state: str, code: str = "OK", message: str = "") -> dict[str, Any]:
    return {"version": v, "state": state, "status": {"error_code": code, "error_message": message}}


DENIED = "s3://models/tiny: S3 error AccessDenied: Access Denied"


@pytest.mark.parametrize(
    ("doc", "states"),
    [
        (
            {"tiny": {"model_version_status": [version("2", "AVAILABLE"), version("1", "END")]}},
            [ModelState("tiny", True, ("2",))],
        ),
        (
            {
                "b": {
                    "model_version_status": [version("10", "AVAILABLE"), version("9", "AVAILABLE")]
                },
                "a": {
                    "model_version_status": [version("0", "LOADING", "PERMISSION_DENIED", DENIED)]
                },
            },
            [
                ModelState("a", False, (), f"the model path: PERMISSION_DENIED: {DENIED}"),
                ModelState("b", True, ("9", "10")),
            ],
        ),
        (
            {
                "m": {
                    "model_version_status": [version("3", "LOADING", "FAILED_PRECONDITION", "bad")]
                }
            },
            [ModelState("m", False, (), "version 3: FAILED_PRECONDITION: bad")],
        ),
        (
            {"m": {"model_version_status": [version("1", "LOADING")]}},
            [ModelState("m", False, ())],
        ),
        (
            {"m": {"model_version_status": []}},
            [ModelState("m", False, ())],
        ),
        ({}, []),
    ],
)
def test_model_states(doc: dict[str, Any], states: list[ModelState]) -> None:
    assert model_states(doc) == states


def test_a_state_as_json() -> None:
    assert ModelState("a", False, (), "why").to_json() == {
        "name": "a",
        "ready": False,
        "versions": [],
        "message": "why",
    }
    assert ModelState("b", True, ("1",)).to_json() == {
        "name": "b",
        "ready": True,
        "versions": ["1"],
    }


@pytest.mark.parametrize("doc", [[], {"m": []}, {"m": {"model_version_status": {}}}])
def test_not_a_config_document(doc: Any) -> None:
    with pytest.raises(ValueError):
        model_states(doc)


class Answer(RequestHandler):
    def initialize(self, kind: str) -> None:
        self.kind = kind

    async def get(self) -> None:
        if self.kind == "ok":
            self.write({"m": {"model_version_status": [version("1", "AVAILABLE")]}})
        elif self.kind == "error":
            self.set_status(500)
        elif self.kind == "huge":
            for _ in range(MAX_BODY // 65536 + 2):
                self.write(b" " * 65536)
                await self.flush()
        elif self.kind == "slow":
            await asyncio.sleep(5)
        else:
            self.write(b"{not json")


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    app = Application(
        [
            (f"/{kind}/v1/config", Answer, {"kind": kind})
            for kind in ("ok", "error", "huge", "slow", "garbage")
        ]
    )
    server = HTTPServer(app)
    [sock] = bind_sockets(0, "127.0.0.1")
    server.add_sockets([sock])
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.stop()


async def test_the_reader(base_url: str) -> None:
    assert await read_model_states(f"{base_url}/ok") == [ModelState("m", True, ("1",))]


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("error", "/error/v1/config answered 500"),
        ("huge", f"the answer is over {MAX_BODY} bytes"),
        ("slow", "Timeout"),
        ("garbage", "/garbage/v1/config: "),
    ],
)
async def test_the_reader_fails_clearly(base_url: str, kind: str, message: str) -> None:
    with pytest.raises(ReadinessError, match=message):
        await read_model_states(f"{base_url}/{kind}", timeout=1)


async def test_an_unreachable_server() -> None:
    with pytest.raises(ReadinessError, match="/v1/config"):
        await read_model_states(f"http://127.0.0.1:{free_port()}", timeout=1)
