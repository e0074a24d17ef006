"""Helpers shared by the simulator's tests."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from kubernetes_asyncio import watch
from kubernetes_asyncio.client import ApiException


def status_of(error: ApiException) -> dict[str, Any]:
    """The Kubernetes Status body of a failed client call."""
    assert error.body is not None
    body: dict[str, Any] = json.loads(error.body)
    return body


async def eventually(predicate: Callable[[], bool], timeout: float = 10) -> None:
    """Wait until ``predicate()`` holds, checking every 10 ms, failing after ``timeout``.

    For state held by code we do not own (KubeSpawner's reflector) and that offers no event.
    """
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - no event to wait on in the observed code
            await asyncio.sleep(0.01)


class RawHTTP:
    """Plain HTTP to the simulator, for what the generated client cannot express."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.base = base

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        content_type: str = "application/json",
        parse: bool = True,
    ) -> tuple[int, Any, dict[str, str]]:
        data = None if body is None else json.dumps(body)
        headers = {"Content-Type": content_type}
        async with self.session.request(method, self.base + path, data=data, headers=headers) as r:
            text = await r.text()
            is_json = parse and r.content_type == "application/json" and text
            parsed = json.loads(text) if is_json else text
            return r.status, parsed, dict(r.headers)


async def watch_until(
    list_method: Any,
    *args: Any,
    predicate: Callable[[dict[str, Any]], bool],
    name: str | None = None,
    field_selector: str | None = None,
    timeout: float = 10,
) -> dict[str, Any]:
    """Watch objects (one, by name) until ``predicate(raw object)`` holds; return that object."""
    selector = field_selector or f"metadata.name={name}"
    async with watch.Watch() as stream, asyncio.timeout(timeout):
        async for event in stream.stream(
            list_method, *args, field_selector=selector, timeout_seconds=int(timeout)
        ):
            if event["type"] != "DELETED" and predicate(event["raw_object"]):
                obj: dict[str, Any] = event["raw_object"]
                return obj
    raise AssertionError(f"{selector}: nothing satisfied the condition")


async def wait_deleted(
    read: Callable[[], Awaitable[Any]],
    list_method: Any,
    *args: Any,
    name: str,
    timeout: float = 10,
) -> None:
    """Return once the named object is gone: now, or by a DELETED event after our read."""
    try:
        current = await read()
    except ApiException as error:
        if error.status == 404:
            return
        raise
    meta = current["metadata"] if isinstance(current, dict) else current.to_dict()["metadata"]
    version = meta.get("resourceVersion") or meta.get("resource_version")
    async with watch.Watch() as stream, asyncio.timeout(timeout):
        async for event in stream.stream(
            list_method,
            *args,
            field_selector=f"metadata.name={name}",
            resource_version=version,
            timeout_seconds=int(timeout),
        ):
            if event["type"] == "DELETED":
                return
    raise AssertionError(f"{name} was not deleted")


KUBECTL = shutil.which("kubectl", path=str(Path(sys.executable).parent)) or shutil.which("kubectl")


class Kubectl:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    async def start(self, *args: str) -> asyncio.subprocess.Process:
        assert KUBECTL is not None
        return await asyncio.create_subprocess_exec(
            KUBECTL,
            *args,
            env=self.env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )

    async def __call__(self, *args: str, stdin: str | None = None, ok: bool = True) -> str:
        process = await self.start(*args)
        out, _ = await asyncio.wait_for(process.communicate(stdin.encode() if stdin else None), 30)
        text = out.decode()
        assert (process.returncode == 0) == ok, f"kubectl {' '.join(args)}: {text}"
        return text

    async def json(self, *args: str) -> Any:
        return json.loads(await self(*args, "-o", "json"))
