"""Run code in a kernel of a running single-user server through the Jupyter server API."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import requests
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect


def _message(code: str, session: str) -> dict:
    return {
        "header": {
            "msg_id": uuid.uuid4().hex,
            "msg_type": "execute_request",
            "username": "test",
            "session": session,
            "date": datetime.now(UTC).isoformat(),
            "version": "5.3",
        },
        "parent_header": {},
        "metadata": {},
        "content": {
            "code": code,
            "silent": False,
            "store_history": False,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        },
        "channel": "shell",
        "buffers": [],
    }


async def run_code(hub_url: str, user: str, token: str, code: str, timeout: float = 60) -> str:
    """stdout of `code`; raises AssertionError with the traceback if it fails."""
    base = f"{hub_url}/user/{user}/api/kernels"
    headers = {"Authorization": f"token {token}"}
    r = await asyncio.to_thread(
        requests.post, base, json={"name": "python3"}, headers=headers, timeout=30
    )
    assert r.status_code == 201, (r.status_code, r.text)
    kernel_id = r.json()["id"]
    ws_url = base.replace("http://", "ws://") + f"/{kernel_id}/channels"
    ws = await websocket_connect(HTTPRequest(ws_url, headers=headers, connect_timeout=30))
    try:
        request = _message(code, uuid.uuid4().hex)
        await ws.write_message(json.dumps(request))
        return await asyncio.wait_for(_collect(ws, request["header"]["msg_id"]), timeout)
    finally:
        ws.close()
        await asyncio.to_thread(requests.delete, f"{base}/{kernel_id}", headers=headers, timeout=30)


async def _collect(ws, msg_id: str) -> str:
    out: list[str] = []
    error = None
    while True:
        raw = await ws.read_message()
        assert raw is not None, "kernel websocket closed"
        msg = json.loads(raw)
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream" and content["name"] == "stdout":
            out.append(content["text"])
        elif kind == "error":
            error = "\n".join(content["traceback"])
        elif kind == "status" and content["execution_state"] == "idle":
            assert error is None, error
            return "".join(out)
