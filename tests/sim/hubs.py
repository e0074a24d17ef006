"""A real JupyterHub subprocess with KubeSpawner against a simulator, and its REST API."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ..util import REPO

CHP = REPO / "node_modules" / ".bin" / "configurable-http-proxy"
TOKEN = "sim-e2e-token-0123456789abcdef"


@asynccontextmanager
async def kubespawner_hub(
    directory: Path, config: str, kubeconfig: Path, proxy_port: int
) -> AsyncIterator[str]:
    """``jupyterhub -f`` of ``config`` in ``directory`` with ``KUBECONFIG``; yields its URL.

    kubernetes_asyncio reads ``KUBECONFIG`` at import time, so it is set in the hub's
    environment, not in ours.
    """
    if not CHP.exists():
        pytest.fail(f"configurable-http-proxy is not installed at {CHP} (npm install)")
    config_file = directory / "jupyterhub_config.py"
    await asyncio.to_thread(config_file.write_text, config)
    env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    log = await asyncio.to_thread((directory / "hub.log").open, "wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "jupyterhub", "-f", str(config_file),
        cwd=directory, env=env, stdout=log, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{proxy_port}"
    try:
        await _wait_for_hub(url, process)
        yield url
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()
                await process.wait()
        log.close()


async def _wait_for_hub(url: str, process: asyncio.subprocess.Process) -> None:
    async with aiohttp.ClientSession() as http, asyncio.timeout(60):
        while process.returncode is None:
            try:
                async with http.get(f"{url}/hub/api/") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)  # noqa: ASYNC110 - polling another process's port
    raise AssertionError(f"the hub exited with {process.returncode}")


async def api(http: aiohttp.ClientSession, method: str, url: str) -> tuple[int, Any]:
    headers = {"Authorization": f"token {TOKEN}"}
    async with http.request(method, url, headers=headers) as response:
        text = await response.text()
        return response.status, json.loads(text) if text.strip().startswith(("{", "[")) else text


async def until_ready(http: aiohttp.ClientSession, hub: str, user: str, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while True:
            _, model = await api(http, "GET", f"{hub}/hub/api/users/{user}")
            if model["servers"].get("", {}).get("ready"):
                return
            await asyncio.sleep(0.2)  # noqa: ASYNC110 - the hub offers no event to wait on
