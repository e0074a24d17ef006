"""The manager's side of the backend contract, for tests: a recording `Reporter` whose
phases go through the real phase machine, and `drive`, which calls a backend as the build
manager does. They are the test harness, not stand-ins for the backend under test."""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone

from jupyterhub_ov.builder import phases, spec
from jupyterhub_ov.builder.backends.base import BuildBackend, PublishedImage
from jupyterhub_ov.builder.phases import Phase

Action = Callable[[str], Awaitable[None]]


def _now() -> datetime:
    return datetime.now(timezone.utc)


class RecordingReporter:
    """Records phases (InvalidTransition if the backend breaks the machine), log lines and
    references; ``on(pattern, action)`` runs ``action`` once, inside the backend's call, the
    first time a log line or ``phase <Phase>`` event matches."""

    def __init__(self, build_type: str) -> None:
        self.state = phases.start(build_type, _now())
        self.lines: list[str] = []
        self.references: list[str] = []
        self._actions: list[tuple[re.Pattern[str], Action]] = []

    @property
    def phases(self) -> list[Phase]:
        return [t.phase for t in self.state.history]

    def on(self, pattern: str, action: Action) -> None:
        self._actions.append((re.compile(pattern), action))

    async def _event(self, text: str) -> None:
        for entry in list(self._actions):
            if entry[0].search(text):
                self._actions.remove(entry)
                await entry[1](text)

    async def phase(self, phase: Phase, message: str = "") -> None:
        self.state = phases.advance(self.state, phase, _now(), message)
        await self._event(f"phase {phase}")

    async def log(self, line: str) -> None:
        self.lines.append(line)
        await self._event(line)

    async def remember(self, reference: str) -> None:
        self.references.append(reference)


async def drive(
    backend: BuildBackend, request: spec.BuildRequest, reporter: RecordingReporter
) -> PublishedImage:
    """Resolve, find, build and report Resolving/Success around them, as the manager does."""
    if request.build_type != spec.IMPORT_IMAGE:
        await reporter.phase(Phase.RESOLVING)
    resolved = await backend.resolve(request, reporter)
    published = await backend.find(resolved)
    if published is None:
        published = await backend.build(resolved, reporter)
    await reporter.phase(Phase.SUCCESS)
    return published


def processes_mentioning(text: str) -> list[str]:
    """``pid: command line`` of every live process whose command line contains ``text``."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # ended meanwhile
        if text in cmdline:
            found.append(f"{pid}: {cmdline}")
    return found
