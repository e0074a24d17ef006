"""The manager's side of the backend contract, for tests: a recording `Reporter` whose phases
go through the real phase machine, and the calls the build manager makes (`resolve`,
`run_build`, `drive`). They are the test harness, not stand-ins for the backend under test.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from jupyterhub_ov.builds.backends.base import BuildBackend, PublishedImage
from jupyterhub_ov.builds.model import phases, spec
from jupyterhub_ov.builds.model.phases import Phase
from jupyterhub_ov.builds.model.spec import BuildRequest, ResolvedBuild
from tests import procs

Action = Callable[[str], Awaitable[None]]


def _now() -> datetime:
    return datetime.now(UTC)


class RecordingReporter:
    """Records phases (InvalidTransition inside the backend if it breaks the machine), log
    lines and remembered references. A test waits with `until` (woken by each report, no
    polling), or hooks `on(pattern, action)`: ``action`` runs once, inside the backend's
    call, the first time a log line or ``phase <Phase>`` matches."""

    def __init__(self, build_type: str) -> None:
        self.state = phases.start(build_type, _now())
        self.lines: list[str] = []
        self.remembered: list[str] = []
        self._actions: list[tuple[re.Pattern[str], Action]] = []
        self._changed = asyncio.Event()

    @classmethod
    def start(cls, build_type: str) -> RecordingReporter:
        return cls(build_type)

    @property
    def path(self) -> tuple[Phase, ...]:
        return tuple(t.phase for t in self.state.history)

    @property
    def phases(self) -> list[Phase]:
        return list(self.path)

    def on(self, pattern: str, action: Action) -> None:
        self._actions.append((re.compile(pattern), action))

    async def _event(self, text: str) -> None:
        self._changed.set()
        self._changed = asyncio.Event()
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
        self.remembered.append(reference)
        await self._event(f"remember {reference}")

    async def until(self, condition: Callable[[], bool], timeout: float = 60) -> None:
        """Return once ``condition()`` holds, woken by each report (no polling)."""
        async with asyncio.timeout(timeout):
            while not condition():
                await self._changed.wait()

    async def succeed(self) -> None:
        self.state = phases.advance(self.state, Phase.SUCCESS, _now())

    def fail(self, message: str) -> None:
        self.state = phases.fail(self.state, _now(), message)


async def resolve(
    backend: BuildBackend, request: BuildRequest, reporter: RecordingReporter | None = None
) -> tuple[ResolvedBuild, RecordingReporter]:
    """Preparing → (Resolving) → resolved, as the manager does before building."""
    reporter = reporter or RecordingReporter(request.build_type)
    if request.build_type != spec.BuildType.IMPORT_IMAGE:
        await reporter.phase(Phase.RESOLVING)
    return await backend.resolve(request, reporter), reporter


async def run_build(
    backend: BuildBackend, request: BuildRequest
) -> tuple[PublishedImage, ResolvedBuild, RecordingReporter]:
    """The whole path of a new image: it must not exist yet, then build it to Success."""
    resolved, reporter = await resolve(backend, request)
    assert await backend.find(resolved) is None, f"{resolved.image} exists before its build"
    published = await backend.build(resolved, reporter)
    await reporter.succeed()
    return published, resolved, reporter


async def drive(
    backend: BuildBackend, request: BuildRequest, reporter: RecordingReporter
) -> PublishedImage:
    """Resolve, find, build and report Resolving/Success around them, as the manager does."""
    resolved, _ = await resolve(backend, request, reporter)
    published = await backend.find(resolved)
    if published is None:
        published = await backend.build(resolved, reporter)
    await reporter.succeed()
    return published


def processes_mentioning(text: str) -> list[str]:
    """``pid: command line`` of every running process whose command line contains ``text``."""
    return [f"{p.pid}: {procs.command(p)}" for p in procs.mentioning(text)]
