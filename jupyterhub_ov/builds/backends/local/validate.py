"""BYON validation of a local environment: can it run a notebook server for the hub?

Two steps, both with the environment's own interpreter, a throw-away ``$HOME`` and the
output streamed to the build log:

1. the image check (`imagecheck`, the same script the OpenShift validation pod runs, its
   report parsed by `validation`): Python no older than the service's floor; ``import
   jupyterhub``, ``import jupyterlab`` and ``import jupyterhub.singleuser`` (the module the
   spawner runs); ``$HOME`` set and writable. It also reports the Python version and the
   top-level packages of the environment's own site directories (for a layer: the layer
   only), which are recorded;
2. a real server: ``python -m jupyter_server`` on a free 127.0.0.1 port with a random token
   must answer ``/api/status``, serve ``/lab`` and the main script that page loads (so
   JupyterLab's server extension and its assets are really found and served), then it is
   stopped. ``jupyterhub.singleuser`` itself is not started: it authenticates every
   request against a running hub, which a build does not have; it is the same
   jupyter_server with the same extensions plus the hub's auth, whose import step 1 checks.

A failed check raises `BuildFailed` naming it.
"""

from __future__ import annotations

import asyncio
import html
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from jupyterhub.utils import random_port
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from jupyterhub_ov.builds import validation, workdir
from jupyterhub_ov.builds.process import LineSink, run
from jupyterhub_ov.images.local import python_of

from ...errors import BuildFailed
from ...process import tool_env

#: seconds between requests while the server starts
POLL = 0.25
#: the first script of JupyterLab's page, served from the server itself (its main bundle)
_SCRIPT = re.compile(r'<script[^>]+src="(/[^"]+)"')


@dataclass(frozen=True)
class Validated:
    python_version: str
    #: top-level packages of the environment's own site directories: (name, version)
    packages: tuple[tuple[str, str], ...]


def validation_env(prefix: str, home: str, token: str) -> dict[str, str]:
    env = {k: v for k, v in tool_env().items() if not k.startswith(("JUPYTER", "UV_", "IPYTHON"))}
    env.update(
        HOME=home,
        JUPYTER_CONFIG_DIR=os.path.join(home, ".jupyter"),
        JUPYTER_DATA_DIR=os.path.join(home, ".local", "share", "jupyter"),
        JUPYTER_RUNTIME_DIR=os.path.join(home, ".local", "share", "jupyter", "runtime"),
        JUPYTER_TOKEN=token,
        PATH=os.pathsep.join([os.path.join(prefix, "bin"), os.environ.get("PATH", "")]),
    )
    return env


async def validate_environment(
    prefix: str, *, timeout: float, on_line: LineSink, work_dir: str
) -> Validated:
    """Run both steps for the environment at ``prefix`` (its home a scratch directory of
    ``work_dir``); BuildFailed says what failed."""
    python = await asyncio.to_thread(python_of, prefix)
    if python is None:
        raise BuildFailed(f"Validation failed: {prefix} has no bin/python")
    stage = ["the check script"]
    async with workdir.scratch(work_dir, "validate") as home:
        env = validation_env(prefix, home, secrets.token_hex(16))
        try:
            return await asyncio.wait_for(_validate(python, home, env, on_line, stage), timeout)
        except TimeoutError:
            raise BuildFailed(
                f"Validation failed: {stage[0]} did not finish within {timeout:g} s"
            ) from None


async def _validate(
    python: str, home: str, env: Mapping[str, str], on_line: LineSink, stage: list[str]
) -> Validated:
    async def shown(line: str) -> None:
        if not line.startswith(validation.MARKER):
            await on_line(line)

    cmd = validation.command(None, python, site_only=True, isolated=True)
    done = await run(cmd, env=env, on_line=shown, capture=True, check=False)
    report = validation.parse_report(done.output)
    if report is None:
        tail = "\n".join(done.tail[-10:])
        raise BuildFailed(f"Validation failed: the check script did not run:\n{tail}")
    if not report.ok:
        raise BuildFailed(validation.failure_message(report, done.output))
    stage[0] = "the notebook server start"
    await _serve(python, home, env, on_line)
    return Validated(
        python_version=report.python,
        packages=tuple((p.name, p.version) for p in report.packages),
    )


async def _serve(python: str, home: str, env: Mapping[str, str], on_line: LineSink) -> None:
    """Start the server, wait for it to answer, stop it (always, also when cancelled)."""
    port = random_port()
    cmd = [
        python,
        "-m",
        "jupyter_server",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.open_browser=False",
        f"--ServerApp.root_dir={home}",
    ]
    if os.geteuid() == 0:
        cmd.append("--allow-root")  # jupyter_server refuses root otherwise
    server = asyncio.create_task(run(cmd, env=env, on_line=on_line, cwd=home, check=False))
    try:
        await _wait_answering(f"http://127.0.0.1:{port}", env["JUPYTER_TOKEN"], server)
    finally:
        await _stop(server)


async def _wait_answering(url: str, token: str, server: asyncio.Task) -> None:
    headers = {"Authorization": f"token {token}"}
    while await _status(f"{url}/api/status", headers) != 200:
        if server.done():
            completed = server.result()
            tail = "\n".join(completed.tail[-10:])
            raise BuildFailed(
                f"Validation failed: the notebook server exited with {completed.returncode}"
                f" before answering:\n{tail}"
            )
        await asyncio.sleep(POLL)
    code, page = await _get(f"{url}/lab", headers, timeout=30)
    script = _SCRIPT.search(page)
    if code == 200 and script:
        code, _ = await _get(url + html.unescape(script.group(1)), headers, timeout=30)
        what = f"its script {script.group(1)}"
    else:
        what = "/lab"
    if code != 200 or not script:
        raise BuildFailed(
            "Validation failed: the notebook server started but does not serve JupyterLab"
            f" (GET {what} answered {code or 'nothing'})"
        )


async def _status(url: str, headers: Mapping[str, str]) -> int:
    return (await _get(url, headers))[0]


async def _get(url: str, headers: Mapping[str, str], timeout: float = 5) -> tuple[int, str]:
    """The HTTP status and text of a GET; status 0 when nothing answered."""
    try:
        response = await AsyncHTTPClient().fetch(
            url, headers=dict(headers), raise_error=False, request_timeout=timeout
        )
    except (OSError, HTTPClientError):
        return 0, ""
    return response.code, (response.body or b"").decode(errors="replace")


async def _stop(task: asyncio.Task) -> None:
    """Cancel the server's task and wait until its process group is gone, even if we are
    cancelled meanwhile (nothing may outlive the build); then re-raise that cancel."""
    task.cancel()
    interrupted = False
    while not task.done():
        try:
            await asyncio.wait([task])
        except asyncio.CancelledError:
            interrupted = True
    if interrupted:
        raise asyncio.CancelledError
