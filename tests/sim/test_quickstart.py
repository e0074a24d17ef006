"""The config ``jupyterhub-ov-sim`` prints works as printed: a real hub spawns a real server.

The simulator runs as its command (``python -m jupyterhub_ov_sim``); the test takes the
kubeconfig and the jupyterhub_config.py from its output and adds only plumbing a shared test
machine needs (free ports, the proxy's path, an API token), never a spawner setting.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from ..util import free_port
from .hubs import CHP, TOKEN, api, kubespawner_hub, until_ready

pytestmark = pytest.mark.e2e


def printed_config(banner: str) -> tuple[Path, str]:
    """The exported KUBECONFIG and the jupyterhub_config.py lines of the simulator's banner."""
    lines = banner.splitlines()
    (export,) = [line for line in lines if line.strip().startswith("export KUBECONFIG=")]
    start = lines.index("  # jupyterhub_config.py") + 1
    end = lines.index("", start)
    return Path(export.split("=", 1)[1]), textwrap.dedent("\n".join(lines[start:end])) + "\n"


def plumbing(ports: dict[str, int]) -> str:
    return f"""
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {ports["proxy"]}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {ports["hub"]}
c.ConfigurableHTTPProxy.command = [{str(CHP)!r}]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{ports["proxy_api"]}"
c.JupyterHub.services = [{{"name": "quickstart", "api_token": {TOKEN!r}}}]
c.JupyterHub.load_roles = [{{
    "name": "quickstart",
    "scopes": ["admin:users", "admin:servers", "read:users", "access:servers"],
    "services": ["quickstart"],
}}]
"""


@asynccontextmanager
async def simulator(state_dir: Path) -> AsyncIterator[str]:
    """``python -m jupyterhub_ov_sim``; yields what it printed before "Press Ctrl+C"."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "jupyterhub_ov_sim", "--state-dir", str(state_dir),
        "--log-level", "WARNING", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        lines: list[str] = []
        async with asyncio.timeout(30):
            while not lines or "Press Ctrl+C" not in lines[-1]:
                line = (await process.stdout.readline()).decode()
                assert line, "the simulator exited:\n" + "".join(lines)
                lines.append(line)
        yield "".join(lines)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.communicate(), 30)


async def test_the_printed_hub_config_spawns_a_server(tmp_path: Path) -> None:
    async with simulator(tmp_path / "sim") as banner:
        kubeconfig, config = printed_config(banner)
        assert 'c.KubeSpawner.cmd = ["jupyterhub-singleuser"]' in config
        assert ('c.KubeSpawner.args = ["--allow-root"]' in config) == (os.geteuid() == 0)
        assert "not on the simulator's PATH" not in banner
        ports = {name: free_port() for name in ("proxy", "hub", "proxy_api")}
        (tmp_path / "hub").mkdir()
        hub_config = config + plumbing(ports)
        async with (
            kubespawner_hub(tmp_path / "hub", hub_config, kubeconfig, ports["proxy"]) as hub,
            aiohttp.ClientSession() as http,
        ):
            assert (await api(http, "POST", f"{hub}/hub/api/users/ann"))[0] == 201
            status, _ = await api(http, "POST", f"{hub}/hub/api/users/ann/server")
            assert status in (201, 202)
            await until_ready(http, hub, "ann", 60)
            status, body = await api(http, "GET", f"{hub}/user/ann/api/status")
            assert status == 200, body
            assert "started" in body
            assert (await api(http, "DELETE", f"{hub}/hub/api/users/ann/server"))[0] in (202, 204)


async def progress_messages(http: aiohttp.ClientSession, url: str) -> AsyncIterator[str]:
    """The messages of a spawn's progress stream (server-sent events)."""
    async with http.get(url, headers={"Authorization": f"token {TOKEN}"}) as response:
        assert response.status == 200, await response.text()
        async for line in response.content:
            if line.startswith(b"data:"):
                yield json.loads(line[5:]).get("message", "")


async def test_a_command_the_kubelet_cannot_run_shows_in_kubespawner_s_progress(
    tmp_path: Path,
) -> None:
    """KubeSpawner's progress shows the kubelet's Failed event with the runtime's message."""
    async with simulator(tmp_path / "sim") as banner:
        kubeconfig, config = printed_config(banner)
        ports = {name: free_port() for name in ("proxy", "hub", "proxy_api")}
        (tmp_path / "hub").mkdir()
        broken = 'c.KubeSpawner.cmd = ["no-such-singleuser"]\nc.KubeSpawner.start_timeout = 30\n'
        hub_config = config + plumbing(ports) + broken
        async with (
            kubespawner_hub(tmp_path / "hub", hub_config, kubeconfig, ports["proxy"]) as hub,
            aiohttp.ClientSession() as http,
        ):
            assert (await api(http, "POST", f"{hub}/hub/api/users/bea"))[0] == 201
            assert (await api(http, "POST", f"{hub}/hub/api/users/bea/server"))[0] == 202
            seen: list[str] = []
            async with asyncio.timeout(25):  # well before the spawn's own timeout
                async for message in progress_messages(
                    http, f"{hub}/hub/api/users/bea/server/progress"
                ):
                    seen.append(message)
                    if "executable file not found" in message:
                        break
            assert seen[-1].endswith(
                '[Warning] Error: container create failed: exec: "no-such-singleuser":'
                " executable file not found in $PATH"
            ), seen
