"""Local mode: the processes of model servers, each kept running.

A `Replica` is one process of the ovms program (`python -m jupyterhub_ov.ovms ...`), in a
process group of its own. Before each start it asks its ``prepare`` for the command line and
environment (the environment may carry an S3 key; the replica passes it to the child and
keeps it nowhere). When the process exits by itself it is started again after a capped
exponential backoff (reset once a run lasted `HEALTHY_SECONDS`), and the replica's `status`
says how often it restarted, how it last exited and its last log lines — with every secret
of the launch replaced by ``***``. `Replica.stop` sends SIGTERM to the group, then SIGKILL
after ``stop_timeout``: nothing of it outlives the stop. A service killed before it could
stop its processes leaves them running: each carries `MARK` in its environment, and
`stop_leftovers` ends those groups when the service starts again. Everything is asyncio (the
one scan of /proc runs in a thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import psutil

from jupyterhub_ov.lifeline import die_with_parent

#: a run at least this long resets the backoff to its first delay
HEALTHY_SECONDS = 30.0
#: the log lines a replica keeps for its status
LOG_LINES = 40
#: the variable marking a process as a model server of one service (its value: the service's
#: mark), so a restarted service finds the ones a killed predecessor left behind
MARK = "JUPYTERHUB_OV_MODEL_SERVER_OF"
_MASK = "***"


@dataclass(frozen=True)
class Launch:
    """What one start of a process runs: its command line and whole environment."""

    argv: list[str]
    env: dict[str, str] = field(repr=False)
    #: values never to show (in the log lines kept, in messages)
    secrets: tuple[str, ...] = field(default=(), repr=False)


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, _MASK)
    return text


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


class Replica:
    """One supervised process (see the module's doc)."""

    def __init__(
        self,
        label: str,
        prepare: Callable[[], Awaitable[Launch]],
        *,
        log: logging.Logger | logging.LoggerAdapter[Any],
        stop_timeout: float = 10.0,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
    ) -> None:
        self.label = label
        self._prepare = prepare
        self.log = log
        self.stop_timeout = stop_timeout
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.restarts = 0
        self.last_exit: int | None = None
        self.last_error = ""
        self.lines: deque[str] = deque(maxlen=LOG_LINES)
        self.proc: asyncio.subprocess.Process | None = None
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        #: set each time a process has been started (tests and callers wait on it)
        self.started = asyncio.Event()

    @property
    def pid(self) -> int | None:
        proc = self.proc
        return proc.pid if proc is not None and proc.returncode is None else None

    @property
    def running(self) -> bool:
        return self.pid is not None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"replica {self.label}")

    def status(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "restarts": self.restarts,
            "last_exit": None if self.last_exit is None else describe_exit(self.last_exit),
            "last_error": self.last_error,
            "log": list(self.lines),
        }

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        delay = self.backoff_base
        while not self._stopping.is_set():
            began = loop.time()
            try:
                launch = await self._prepare()
            except Exception as e:  # S3 unreachable, ...: shown, and tried again
                self.last_error = f"could not start: {e}"
                self.log.warning("Model server %s could not start: %s", self.label, e)
            else:
                if self._stopping.is_set():  # stopped while preparing: start nothing
                    return
                code = await self._once(launch)
                if self._stopping.is_set():
                    return
                self.restarts += 1
                self.last_exit = code
                self.last_error = describe_exit(code)
                if loop.time() - began >= HEALTHY_SECONDS:
                    delay = self.backoff_base
                self.log.warning(
                    "Model server %s %s; starting again in %.1f s",
                    self.label,
                    self.last_error,
                    delay,
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            delay = min(delay * 2, self.backoff_max)

    async def _once(self, launch: Launch) -> int:
        proc = await asyncio.create_subprocess_exec(
            *launch.argv,
            env=launch.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole
            preexec_fn=die_with_parent,  # a killed service leaves no server serving on
        )
        self.proc = proc
        if self._stopping.is_set():  # stopped while it was being started
            self._kill_group(proc.pid, signal.SIGTERM)
        self.started.set()
        self.log.info("Model server %s started (pid %s)", self.label, proc.pid)
        assert proc.stdout is not None
        reader = asyncio.create_task(self._read(proc.stdout, launch.secrets))
        code = await proc.wait()
        self._kill_group(proc.pid, signal.SIGKILL)  # what it left behind in its group
        await reader
        return code

    async def _read(self, stream: asyncio.StreamReader, secrets: tuple[str, ...]) -> None:
        while line := await stream.readline():
            self.lines.append(scrub(line.decode("utf-8", "replace").rstrip(), secrets))

    @staticmethod
    def _kill_group(pgid: int, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)

    async def stop(self) -> None:
        """SIGTERM to the process group, SIGKILL after ``stop_timeout``; no restart after."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is None:
            return
        if self.pid is not None:
            self._kill_group(self.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.shield(task), self.stop_timeout)
        except TimeoutError:
            self.log.warning("Model server %s ignored SIGTERM; killing it", self.label)
            if self.proc is not None:
                self._kill_group(self.proc.pid, signal.SIGKILL)
            await task


def _marked_groups(mark: str) -> list[int]:
    """The process groups led by processes carrying ``MARK=mark`` (blocking: /proc)."""
    found = []
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == process.pid and process.environ().get(MARK) == mark:
                found.append(process.pid)
        except (psutil.Error, ProcessLookupError):  # gone, or not ours to read
            continue
    return found


async def stop_leftovers(mark: str, log: logging.Logger | logging.LoggerAdapter[Any]) -> int:
    """SIGKILL the process groups a previous run of the service with this ``mark`` left
    (it was killed before it could stop them); how many there were."""
    groups = await asyncio.to_thread(_marked_groups, mark)
    for pgid in groups:
        log.warning("Stopping model server process group %s left by a previous run", pgid)
        Replica._kill_group(pgid, signal.SIGKILL)
    return len(groups)
