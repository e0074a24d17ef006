"""Async subprocesses for builds: output streamed line by line, the whole group killed on cancel.

Every tool a build runs (uv, git, the validation script) goes through `run`: its output
reaches the build log as it is written, and cancelling the awaiting task (a cancelled or
timed-out build) terminates the process and everything it started, so a cancel really stops
the work. A tool dies with the service too (Linux's parent-death signal): a service killed
mid-build (SIGKILL, the OOM killer) leaves no uv or git working on for nobody
(`jupyterhub_ov.lifeline`).
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from ..lifeline import die_with_parent_killed

LineSink = Callable[[str], Awaitable[None]]
#: seconds between SIGTERM and SIGKILL when a process group is stopped
KILL_GRACE = 5.0
#: lines of output kept for error messages
TAIL = 40


@dataclass(frozen=True)
class Completed:
    returncode: int
    #: the last `TAIL` lines of output
    tail: tuple[str, ...]
    #: all output, when ``capture`` was asked for
    output: str = ""


class CommandFailed(RuntimeError):
    def __init__(self, cmd: Sequence[str], completed: Completed) -> None:
        self.completed = completed
        tail = "\n".join(completed.tail[-10:])
        super().__init__(f"{os.path.basename(cmd[0])} exited with {completed.returncode}:\n{tail}")


async def _stop(proc: asyncio.subprocess.Process) -> None:
    for sig, wait in ((signal.SIGTERM, KILL_GRACE), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            await asyncio.wait_for(proc.wait(), wait)
            return
        except TimeoutError:
            continue


async def run(
    cmd: Sequence[str],
    *,
    on_line: LineSink | None = None,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    capture: bool = False,
) -> Completed:
    """Run ``cmd`` (stdout and stderr merged), each line to ``on_line``.

    CommandFailed on a non-zero exit when ``check``. On cancellation the process group is
    terminated (then killed) before CancelledError propagates.
    """
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,  # its own group: a cancel stops its children too
        preexec_fn=die_with_parent_killed,  # a killed service leaves it no work to do
    )
    tail: list[str] = []
    captured: list[str] = []
    try:
        assert proc.stdout is not None
        async for raw in proc.stdout:
            line = raw.decode(errors="replace").rstrip("\r\n")
            tail.append(line)
            del tail[:-TAIL]
            if capture:
                captured.append(line)
            if on_line is not None:
                await on_line(line)
        returncode = await proc.wait()
    except BaseException:
        await asyncio.shield(_stop(proc))
        raise
    completed = Completed(returncode, tuple(tail), "\n".join(captured))
    if check and returncode != 0:
        raise CommandFailed(cmd, completed)
    return completed


#: the service's own Python settings: they would make uv and the inspected interpreters
#: see the service's environment instead of the one being built
_SERVICE_PYTHON = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CONDA_PREFIX")
#: the service's credentials from JupyterHub (its API token, OAuth client): a build runs
#: packages' own code (sdist builds, the validation), which must never see them
_SERVICE_SECRETS = ("JUPYTERHUB_", "JPY_")


def tool_env(**extra: str) -> dict[str, str]:
    """The environment for uv and the inspected interpreters: the service's, which holds the
    network settings the hub handed on (`jupyterhub_ov.netenv`: CA bundles, proxies,
    indexes) — but nothing of the service's own virtualenv, Python path or credentials; and
    uv never downloads an interpreter."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _SERVICE_PYTHON and not k.startswith(_SERVICE_SECRETS)
    }
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env.update(extra)
    return env
