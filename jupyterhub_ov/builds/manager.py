"""The build manager: requests in, a backend doing the work, every step persisted and streamed.

It owns what BinderHub users miss: identical requests join one running build (by
`BuildRequest.key`); an image already published under the resolved tag means no build; a
concurrency limit (builds wait in Preparing for a slot) and a per-build timeout; a cancel
that stops the work (the backend's task is cancelled); logs stored per build and streamed
live; and a restart that resumes or fails every build that was in flight, with a reason.

Each transition goes through the pure phase machine, so a backend reporting phases out of
order fails its build instead of corrupting the record.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from .. import metrics
from ..errors import Conflict, NotFound
from . import workdir
from .backends.base import DETACH, BuildBackend, PublishedImage, detaching
from .errors import BuildFailed
from .journal import Journal, Run, utcnow
from .model import phases
from .model.phases import Phase, Transition
from .model.spec import BuildRequest, BuildType, SpecPolicy, parse_request
from .store import BuildEvent, BuildRecord, BuildStore

#: how far event numbers jump after a restart (more than the log lines ever held unflushed)
SEQ_GAP = 100_000
#: ended builds kept in memory for status reads
ENDED_CACHE = 5000


class _Reporter:
    """The `Reporter` a backend gets for one build."""

    def __init__(self, manager: BuildManager, run: Run) -> None:
        self._manager, self._run = manager, run

    async def phase(self, phase: Phase, message: str = "") -> None:
        await self._manager._transition(self._run, Phase(phase), message)

    async def log(self, line: str) -> None:
        self._manager.journal.log_line(self._run, line)

    async def remember(self, reference: str) -> None:
        self._run.record.backend_ref = reference
        await self._manager.journal.flush(self._run, backend_ref=reference)


class BuildManager:
    def __init__(
        self,
        *,
        store: BuildStore,
        backend: BuildBackend,
        policy: SpecPolicy,
        max_concurrent: int = 2,
        timeout: float = 3600.0,
        log: logging.Logger | logging.LoggerAdapter[Any] | None = None,
    ) -> None:
        self.store, self.backend, self.policy = store, backend, policy
        self.timeout = timeout
        self.log = log or logging.getLogger(__name__)
        self._slots = asyncio.Semaphore(max(1, max_concurrent))
        self._runs: dict[str, Run] = {}
        self._by_key: dict[str, str] = {}
        self._ended: OrderedDict[str, BuildRecord] = OrderedDict()
        #: backend builds actually started (not joined, not found existing): for benchmarks
        self.builds_started = 0
        #: the live runs' events: numbered, batched to the store, streamed to listeners
        self.journal = Journal(store, self.log)

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Resume or fail what was in flight when the service last stopped: first remove the
        scratch directories builds killed with it left (`workdir`), last stop the backend's
        work that no build follows any more (`BuildBackend.sweep`)."""
        removed = await asyncio.to_thread(workdir.clear, self.backend.work_dir)
        if removed:
            self.log.warning(
                "Removed %d scratch directories of builds killed with the service: %s",
                len(removed),
                ", ".join(removed),
            )
        for record in await self.store.in_flight():
            await self._recover(record)
        following = [r.record.resolved for r in self._runs.values() if r.record.resolved]
        try:
            stopped = await self.backend.sweep(following)
        except Exception:
            self.log.exception("Could not look for builds that nobody follows")
            return
        if stopped:
            self.log.warning(
                "Stopped %d builds nobody follows: %s", len(stopped), ", ".join(stopped)
            )

    async def stop(self) -> None:
        """Stop following builds, leaving them in flight for the next start to pick up."""
        tasks = [r.task for r in self._runs.values() if r.task and not r.task.done()]
        for task in tasks:
            task.cancel(DETACH)
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.journal.drain()  # what the builds logged last, before the store closes

    # -- the API the handlers use ------------------------------------------------------------

    async def submit(
        self, body: Any, *, creator: str, retry_of: str = ""
    ) -> tuple[BuildRecord, bool]:
        """A new build for a request body, or the running build an identical one joined.

        Raises `spec.InvalidBuildRequest` (nothing is recorded or run) for a bad body.
        """
        request = parse_request(body, creator=creator, policy=self.policy)
        return await self.submit_request(request, retry_of=retry_of)

    async def submit_request(
        self, request: BuildRequest, retry_of: str = ""
    ) -> tuple[BuildRecord, bool]:
        """`submit` for a request the service made itself (already validated)."""
        running = self._by_key.get(request.key)
        if running is not None:
            return self._runs[running].record, False
        now = utcnow()
        record = BuildRecord(
            id=uuid.uuid4().hex,
            request=request,
            backend=self.backend.kind,
            phase=Phase.PREPARING,
            message="Waiting for a build slot",
            created=now,
            updated=now,
            retry_of=retry_of,
        )
        state = phases.start(request.build_type, now, record.message)
        run = Run(record, state, seq=1)
        self._runs[record.id] = run
        self._by_key[request.key] = record.id  # before any await: a twin request joins
        try:
            await self.store.create(record, state.history[0])
        except BaseException:
            self._forget(run)
            raise
        run.stored.set()
        self._start_task(run, self._build(run))
        return record, True

    async def get(self, build_id: str) -> BuildRecord:
        """A running build from memory; an ended one from the store, then from a cache (an
        ended build never changes): status reads do not queue on the database."""
        run = self._runs.get(build_id)
        if run is not None:
            return replace(run.record, transitions=list(run.state.history))
        record = self._ended.get(build_id)
        if record is not None:
            self._ended.move_to_end(build_id)
            return record
        record = await self.store.get(build_id)
        if record is None:
            raise NotFound(build_id)
        if record.terminal and build_id not in self._runs:
            self._ended[build_id] = record
            while len(self._ended) > ENDED_CACHE:
                self._ended.popitem(last=False)
        return record

    async def list_builds(self, **filters: Any) -> tuple[list[BuildRecord], int]:
        return await self.store.list_builds(**filters)

    async def cancel(self, build_id: str, *, by: str) -> BuildRecord:
        run = self._runs.get(build_id)
        if run is None or run.task is None:
            record = await self.get(build_id)
            raise Conflict(f"Build {build_id} already ended ({record.phase}).")
        run.cancelled_by = by
        run.task.cancel()
        await asyncio.gather(run.task, return_exceptions=True)
        return await self.get(build_id)

    async def retry(self, build_id: str, *, by: str) -> tuple[BuildRecord, bool]:
        record = await self.get(build_id)
        if not record.terminal:
            raise Conflict(f"Build {build_id} is still {record.phase}; cancel it first.")
        request = parse_request(record.request.to_json(), creator=by, policy=self.policy)
        # what the service itself set (a fixed tag, the strategy) is kept
        return await self.submit_request(
            replace(request, **record.request.internal), retry_of=build_id
        )

    async def delete(self, build_id: str) -> None:
        if build_id in self._runs:
            raise Conflict(f"Build {build_id} is still running; cancel it first.")
        await self.get(build_id)
        await self.store.delete(build_id)
        self._ended.pop(build_id, None)

    async def log_text(self, build_id: str) -> str:
        await self.get(build_id)
        await self._flush_if_running(build_id)
        lines = await self.store.events(build_id, kind="log", limit=10_000_000)
        return "".join(e.text + "\n" for e in lines)

    async def events(self, build_id: str, *, after: int = 0) -> AsyncIterator[BuildEvent]:
        """The build's events after ``after``: stored ones, then live ones; ends after the
        terminal phase. Listening starts before reading the store, so nothing falls between."""
        queue: asyncio.Queue[BuildEvent] = asyncio.Queue()
        run = self._runs.get(build_id)
        if run is not None:
            run.listeners.add(queue)
        try:
            record = await self.get(build_id)
            if run is not None:
                await run.stored.wait()  # a joiner may ask before the record is written
                await self.journal.flush(run)
            last = after
            for event in await self.store.events(build_id, after=after, limit=10_000_000):
                last = event.seq
                yield event
                if event.kind == "phase" and event.phase in phases.TERMINAL:
                    return
            if run is None or record.terminal:
                return
            while True:
                event = await queue.get()
                if event.seq <= last:
                    continue
                last = event.seq
                yield event
                if event.kind == "phase" and event.phase in phases.TERMINAL:
                    return
        finally:
            if run is not None:
                run.listeners.discard(queue)

    # -- running a build -------------------------------------------------------------------

    def _start_task(self, run: Run, work: Any) -> None:
        run.task = asyncio.create_task(self._guarded(run, work), name=f"build-{run.record.id}")

    async def _guarded(self, run: Run, work: Any) -> None:
        """Run ``work`` within the timeout; whatever happens, the build ends recorded."""
        try:
            async with asyncio.timeout(self.timeout):
                await work
        except asyncio.CancelledError as e:
            if detaching(e):
                raise
            await self._fail(run, f"Cancelled by {run.cancelled_by or 'the service'}")
        except BaseException as e:
            await self._end_failed(run, e)
        finally:
            self._forget(run)

    async def _build(self, run: Run) -> None:
        """Resolve, skip if published, else build (also for a build recovered before it
        built anything: it goes on from Preparing or Resolving)."""
        request = run.record.request
        async with self._slots:
            if (
                run.state.phase is Phase.PREPARING
                and request.build_type is not BuildType.IMPORT_IMAGE
            ):
                await self._transition(run, Phase.RESOLVING, "Resolving the build spec")
            else:
                await self.journal.flush(run, message="Resolving the build spec")
            resolved = await self.backend.resolve(request, _Reporter(self, run))
            run.record.resolved = resolved
            await self.journal.flush(run, resolved=resolved, image=resolved.image)
            existing = await self.backend.find(resolved)
            if existing is not None:
                await self._succeed(run, existing, f"The image {existing.image} already exists")
                return
            self.builds_started += 1
            published = await self.backend.build(resolved, _Reporter(self, run))
            await self._succeed(run, published, f"Published {published.image}")

    async def _follow(self, run: Run) -> None:
        """After a restart: follow the build the backend left running."""
        record = run.record
        assert record.resolved is not None
        published = await self.backend.reattach(
            record.resolved, record.backend_ref, _Reporter(self, run)
        )
        await self._succeed(run, published, f"Published {published.image}")

    async def _succeed(self, run: Run, image: PublishedImage, message: str) -> None:
        record = run.record
        record.image, record.reference = image.image, image.reference
        record.python_version = image.python_version
        record.packages = [{"name": p.name, "version": p.version} for p in image.packages]
        await self._transition(
            run,
            Phase.SUCCESS,
            message,
            image=record.image,
            reference=record.reference,
            python_version=record.python_version,
            packages=record.packages,
        )

    async def _end_failed(self, run: Run, error: BaseException) -> None:
        if isinstance(error, BuildFailed):
            message = str(error)
        elif isinstance(error, TimeoutError):
            message = f"The build took longer than {self.timeout:g} s and was stopped"
        elif isinstance(error, phases.InvalidTransition):
            message = f"Internal error: the {self.backend.kind} backend reported {error}"
        else:
            self.log.error("Build %s failed unexpectedly", run.record.id, exc_info=error)
            message = f"Internal error: {type(error).__name__}: {error}"
        await self._fail(run, message)
        if not isinstance(error, Exception):
            raise error  # KeyboardInterrupt, SystemExit: recorded, and on they go

    async def _fail(self, run: Run, message: str) -> None:
        if not run.state.terminal:
            await self._transition(run, Phase.FAILURE, message)

    # -- recording -------------------------------------------------------------------------

    async def _transition(self, run: Run, phase: Phase, message: str, **fields: Any) -> None:
        at = utcnow()
        left = run.state.history[-1]
        run.state = phases.advance(run.state, phase, at, message)  # InvalidTransition
        self._observe(run, left, at)
        run.record.phase, run.record.message, run.record.updated = phase, message, at
        transition = Transition(phase, at, message)
        seq = run.next_seq()
        await self.journal.flush(run, transition=(seq, transition), **fields)
        run.publish(BuildEvent(seq, at, "phase", message, phase))

    @staticmethod
    def _observe(run: Run, left: Transition, at: Any) -> None:
        """Metrics of a transition: how long the phase it left lasted, and the build's
        outcome once it ends."""
        build_type = str(run.record.request.build_type.value)
        seconds = max(0.0, (at - left.at).total_seconds())
        metrics.BUILD_PHASE_DURATION.labels(build_type, left.phase.value).observe(seconds)
        if run.state.terminal:
            metrics.BUILDS.labels(build_type, run.state.phase.value).inc()

    def queue_length(self) -> int:
        """Builds in flight still waiting for a build slot."""
        return sum(1 for r in self._runs.values() if r.state.phase is Phase.PREPARING)

    def in_flight(self) -> int:
        return len(self._runs)

    async def _flush_if_running(self, build_id: str) -> None:
        run = self._runs.get(build_id)
        if run is not None:
            await self.journal.flush(run)

    def _forget(self, run: Run) -> None:
        self.journal.close(run)
        self._runs.pop(run.record.id, None)
        if self._by_key.get(run.record.request.key) == run.record.id:
            del self._by_key[run.record.request.key]

    # -- after a restart -------------------------------------------------------------------

    async def _recover(self, record: BuildRecord) -> None:
        full = await self.store.get(record.id)
        assert full is not None and full.transitions
        state = phases.BuildState(record.request.build_type, tuple(full.transitions))
        # numbers given out live but lost with the process (unflushed log lines) are never
        # reused: a client resuming from one of them must not skip what comes next
        run = Run(full, state, seq=await self.store.last_seq(record.id) + SEQ_GAP)
        run.stored.set()
        self._runs[record.id] = run
        self._by_key[record.request.key] = record.id
        if state.phase in (Phase.PREPARING, Phase.RESOLVING) and not record.backend_ref:
            # nothing was built yet: run it again (resolving has no side effects)
            self.log.info("Resuming build %s from %s", record.id, state.phase)
            self._start_task(run, self._build(run))
        elif (
            self.backend.can_reattach
            and record.resolved
            and (record.backend_ref or state.phase is Phase.BUILDING)
        ):
            # also a build killed after starting its cluster build, before remembering it
            self.log.info("Following build %s (%s) again", record.id, record.backend_ref)
            self._start_task(run, self._follow(run))
        else:
            self.log.warning("Build %s was interrupted while %s", record.id, state.phase)
            reason = phases.interrupted_message(state.phase)
            try:
                await self.backend.discard(record.resolved, record.backend_ref, reason)
            except Exception:
                self.log.exception("Could not clean up after interrupted build %s", record.id)
            await self._fail(run, reason)
            self._forget(run)
