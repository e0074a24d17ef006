"""The live journal of running builds: each event numbered, log lines batched to the store
in the background (tracked, so a stop waits for them and a failure is one log line), and
every event handed to the build's live listeners.

`Run` is one build's live state; the `BuildManager` owns the runs and the `Journal`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from .model import phases
from .model.phases import Transition
from .store import BuildEvent, BuildRecord, BuildStore

#: log lines are written to the database in batches at most this far apart (seconds)
FLUSH_INTERVAL = 0.25
FLUSH_LINES = 200
#: a log line longer than this is cut (one runaway line must not fill the database)
MAX_LINE = 4000


def utcnow() -> datetime:
    return datetime.now(UTC)


class Run:
    """One build's live state: its phase machine, event numbering, pending logs, listeners."""

    def __init__(self, record: BuildRecord, state: phases.BuildState, seq: int) -> None:
        self.record = record
        self.state = state
        self.seq = seq
        self.pending_logs: list[tuple[int, datetime, str]] = []
        self.listeners: set[asyncio.Queue[BuildEvent]] = set()
        self.task: asyncio.Task[None] | None = None
        self.cancelled_by: str | None = None
        #: set once the build's record exists in the store
        self.stored = asyncio.Event()
        self.flusher: asyncio.TimerHandle | None = None
        #: one write at a time: a flush that finds nothing pending returns only once the
        #: writes before it are stored (`events` reads the store right after its flush)
        self.flush_lock = asyncio.Lock()

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def publish(self, event: BuildEvent) -> None:
        for queue in self.listeners:
            queue.put_nowait(event)


class Journal:
    """Writes the runs' events to the store and hands them to their listeners."""

    def __init__(self, store: BuildStore, log: logging.Logger | logging.LoggerAdapter[Any]) -> None:
        self.store = store
        self.logger = log
        #: log writes made in the background: held until done, their failures logged once
        self._writes: set[asyncio.Task[None]] = set()

    def log_line(self, run: Run, line: str) -> None:
        at = utcnow()
        text = line.rstrip("\r\n")[:MAX_LINE]
        seq = run.next_seq()
        run.pending_logs.append((seq, at, text))
        run.publish(BuildEvent(seq, at, "log", text))
        if len(run.pending_logs) >= FLUSH_LINES:
            self.write_behind(run, self.flush(run))
        elif run.flusher is None:
            loop = asyncio.get_running_loop()
            run.flusher = loop.call_later(
                FLUSH_INTERVAL, lambda: self.write_behind(run, self.flush(run))
            )

    def write_behind(self, run: Run, write: Any) -> None:
        """Run a log write in the background, tracked: `stop` waits for it, and a failure is
        one clear log line (never "Task exception was never retrieved")."""
        task: asyncio.Task[None] = asyncio.ensure_future(write)
        self._writes.add(task)

        def done(task: asyncio.Task[None]) -> None:
            self._writes.discard(task)
            if not task.cancelled() and task.exception() is not None:
                self.logger.error(
                    "Could not store log lines of build %s: %s", run.record.id, task.exception()
                )

        task.add_done_callback(done)

    async def flush(
        self, run: Run, *, transition: tuple[int, Transition] | None = None, **fields: Any
    ) -> None:
        """Write pending log lines, then the transition and fields, in one transaction.
        ``message=`` alone updates the current phase's message (no transition)."""
        if run.flusher is not None:
            run.flusher.cancel()
            run.flusher = None
        if "message" in fields:
            run.record.message = fields["message"]
        async with run.flush_lock:
            logs, run.pending_logs = run.pending_logs, []
            if logs or transition or fields:
                await self.store.record(run.record.id, logs=logs, transition=transition, **fields)

    def close(self, run: Run) -> None:
        """The run ends: no timer left behind, and no pending line lost."""
        if run.flusher is not None:
            run.flusher.cancel()
            run.flusher = None
        if run.pending_logs:  # written by the last transition normally; never lose a line
            self.write_behind(run, self.store.record(run.record.id, logs=run.pending_logs))
            run.pending_logs = []

    async def drain(self) -> None:
        """Wait for the background writes (before the store closes)."""
        await asyncio.gather(*self._writes, return_exceptions=True)
