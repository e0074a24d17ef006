"""What drives a backend in tests: a recording `Reporter` that checks every phase it is told.

`RecordingReporter` advances a real `phases.BuildState` (an impossible transition raises
InvalidTransition inside the backend, failing the test), keeps the log lines and remembered
references, and lets a test wait for any of it without sleeping. `run_build` walks a request
through a backend as the build manager does: Preparing, Resolving (not for imports), resolve,
find, build, Success.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from jupyterhub_ov.builder import phases, spec
from jupyterhub_ov.builder.backends.base import BuildBackend, PublishedImage
from jupyterhub_ov.builder.phases import BuildState, Phase
from jupyterhub_ov.builder.spec import BuildRequest, ResolvedBuild


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class RecordingReporter:
    state: BuildState
    lines: list[str] = field(default_factory=list)
    remembered: list[str] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    def start(cls, build_type: str) -> RecordingReporter:
        return cls(phases.start(build_type, _now()))

    @property
    def path(self) -> tuple[Phase, ...]:
        return tuple(t.phase for t in self.state.history)

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def phase(self, phase: Phase, message: str = "") -> None:
        self.state = phases.advance(self.state, phase, _now(), message)
        self._wake()

    async def log(self, line: str) -> None:
        self.lines.append(line)
        self._wake()

    async def remember(self, reference: str) -> None:
        self.remembered.append(reference)
        self._wake()

    async def until(self, condition: Callable[[], bool], timeout: float = 60) -> None:
        """Return once ``condition()`` holds, woken by each report (no polling)."""
        async with asyncio.timeout(timeout):
            while not condition():
                changed = self._changed
                await changed.wait()

    async def succeed(self) -> None:
        self.state = phases.advance(self.state, Phase.SUCCESS, _now())

    def fail(self, message: str) -> None:
        self.state = phases.fail(self.state, _now(), message)


async def resolve(
    backend: BuildBackend, request: BuildRequest, reporter: RecordingReporter | None = None
) -> tuple[ResolvedBuild, RecordingReporter]:
    """Preparing → (Resolving) → resolved, as the manager does before building."""
    reporter = reporter or RecordingReporter.start(request.build_type)
    if request.build_type != spec.IMPORT_IMAGE:
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
