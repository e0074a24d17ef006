"""The platform service as a process to SIGKILL and start again, and what to look at around it
(the servicecrash scenario): its build database read directly, processes counted by command
line, and a package index whose answers wait behind a gate (so a build can be caught in
Resolving by watching its phase, not by sleeping)."""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import os
import sqlite3
import subprocess
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyterhub_ov.builds.model.spec import image_name
from tests import procs
from tests.service.standalone import service_process, stop

from . import crashcheck

#: how long a gated index request waits for the gate at most (then it answers anyway)
GATE_TIMEOUT = 60.0


@dataclass
class Service:
    """``python -m jupyterhub_ov.service`` in ``cwd`` (which holds its config file)."""

    cwd: Path
    env: Mapping[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ()
    proc: subprocess.Popen[str] | None = None
    kills: int = 0
    #: the URL prefix it answers under (a new port at each start)
    base: str = ""
    _exits: contextlib.ExitStack | None = None

    def start(self) -> None:
        exits = contextlib.ExitStack()
        self.proc, self.base = exits.enter_context(
            service_process(self.cwd, *self.args, env=self.env, log=self.cwd / "service.log")
        )
        self._exits = exits

    def kill(self) -> int:
        """SIGKILL, as the OOM killer or a node loss does; its pid."""
        assert self.proc is not None and self._exits is not None
        pid = self.proc.pid
        self.proc.kill()
        self.proc.wait(30)
        self._exits.close()
        self.proc, self.kills = None, self.kills + 1
        return pid

    def stop(self) -> None:
        """SIGTERM (it must exit cleanly), if running."""
        if self.proc is not None and self._exits is not None:
            try:
                stop(self.proc)
            finally:
                self._exits.close()
                self.proc = None


def builds(db: Path) -> dict[str, dict[str, Any]]:
    """The build records by name: ``{name: row}`` of the newest build of each name."""
    if not db.exists():
        return {}
    with contextlib.closing(sqlite3.connect(db, timeout=10)) as conn:
        conn.row_factory = sqlite3.Row
        try:
            rows = conn.execute(
                "SELECT id, name, build_type, phase, message, image, backend_ref, created"
                " FROM builds ORDER BY created"
            ).fetchall()
        except sqlite3.OperationalError:  # the service has not made its tables yet
            return {}
    return {row["name"]: dict(row) for row in rows}


def all_builds(db: Path) -> list[dict[str, Any]]:
    if not db.exists():
        return []
    with contextlib.closing(sqlite3.connect(db, timeout=10)) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute("SELECT id, name, phase, message, image FROM builds").fetchall()
    return [dict(row) for row in rows]


def wait_phase(db: Path, name: str, *phases: str, timeout: float = 60) -> dict[str, Any]:
    """Poll the database (every 10 ms) until the newest build of the image ``name`` (a
    request's ``metadata.name`` made an image name) is in ``phases``."""
    name = image_name(name)
    deadline = time.monotonic() + timeout
    while True:
        row = builds(db).get(name)
        if row is not None and row["phase"] in phases:
            return row
        if time.monotonic() > deadline:
            raise TimeoutError(f"build {name} is {row and row['phase']}, not {phases}")
        time.sleep(0.01)


def strays_mentioning(text: str) -> list[tuple[int, str]]:
    """Running processes whose command line contains ``text`` and that are neither ours nor
    our relatives (the simulator's pods run as our children): what a killed service left
    running (pid, command)."""
    us = os.getpid()
    return [
        (p.pid, procs.command(p)[:200])
        for p in procs.mentioning(text)
        if not procs.related(p.pid, us)
    ]


class GatedIndex:
    """A find-links page of ``directory``'s wheels over HTTP on loopback; while `closed`,
    every request waits (at most `GATE_TIMEOUT`), so uv stays in Resolving."""

    def __init__(self, directory: Path) -> None:
        self.open = threading.Event()
        self.open.set()
        gate = self.open

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args: Any, **kw: Any) -> None:
                super().__init__(*args, directory=str(directory), **kw)

            def do_GET(self) -> None:
                gate.wait(GATE_TIMEOUT)
                super().do_GET()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @contextlib.contextmanager
    def running(self) -> Iterator[GatedIndex]:
        self._thread.start()
        try:
            yield self
        finally:
            self.open.set()
            self.server.shutdown()
            self.server.server_close()

    def close(self) -> None:
        self.open.clear()


@dataclass(kw_only=True)
class Crash:
    """What every mode of the scenario does around its service: kill it, count what it
    left running, undo the slowness that held a phase, start it again, wait for the end."""

    work: Path
    service: Service
    index: GatedIndex
    #: processes the killed services left (by command line), counted at each kill
    orphaned: list[str] = field(default_factory=list)
    kills: list[str] = field(default_factory=list)

    @property
    def db(self) -> Path:
        return self.work / "builds.sqlite"

    async def phase(self, name: str, *phases: str, timeout: float = 60) -> dict[str, Any]:
        return await asyncio.to_thread(wait_phase, self.db, name, *phases, timeout=timeout)

    def undo_slowness(self) -> None:
        """What made phases last (the gated index; a mode adds its own) ends."""
        self.index.open.set()

    async def kill_and_restart(
        self, label: str, while_down: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        """SIGKILL the service (if a store hook has not already), count what it left
        running, undo the slowness, ``while_down()``, start it."""
        await asyncio.to_thread(self.service.kill)
        self.kills.append(label)
        # what the dead service still runs (uv, git, a validation) after a grace is
        # orphaned work (the gated index still holds uv's answer: a uv that outlived the
        # service is seen)
        self.orphaned += [f"after the kill in {label}: {cmd}" for cmd in await self.leftover()]
        self.undo_slowness()
        if while_down is not None:
            await while_down()
        await asyncio.to_thread(self.service.start)

    async def leftover(self, grace: float = 3.0) -> list[str]:
        """Processes of the killed service still alive ``grace`` seconds after the kill."""
        deadline = asyncio.get_running_loop().time() + grace
        while True:
            left = []
            for text in (str(self.work), self.index.url):
                left += [cmd for _, cmd in await asyncio.to_thread(strays_mentioning, text)]
            if not left or asyncio.get_running_loop().time() > deadline:
                return left
            await asyncio.sleep(0.1)

    async def all_ended(self, timeout: float = 120) -> None:
        def running() -> bool:
            return any(r["phase"] not in crashcheck.TERMINAL for r in all_builds(self.db))

        async with asyncio.timeout(timeout):
            while await asyncio.to_thread(running):  # noqa: ASYNC110 - the service's database
                await asyncio.sleep(0.1)
