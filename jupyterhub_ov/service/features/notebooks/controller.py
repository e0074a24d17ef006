"""The OpenVINO notebook image, kept built: ``Notebook`` records in, builds out, auto-update.

What the OpenVINO Toolkit Operator's notebook controller does, on the build service: a
``Notebook`` (created from the panel, the REST API, or a cluster resource reconciled by
`notebook_cluster`) gets the ``openvino-notebook`` image built from its repository — tagged
with its name the first time and ``<name>-<build date>`` afterwards (`openvino.image_tag`).
With ``auto_update_image``, the head commit of ``git_ref`` is compared with the last built
commit every ``reconcile_duration_multiplier`` minutes; a change builds a new tag, no change
does nothing. A repository that cannot be read leaves a warning on the record (and in the
log) and is tried again a period later; the published images stay as they are.

The builds are ordinary builds of the `BuildManager` (listed, logged, cancellable in the
panel): a GitRepository request pinned to the commit that was checked, from the repository's
Dockerfile where the backend builds Dockerfiles (OpenShift), otherwise as an environment
with the `packages` (``openvino``) added to the repository's requirements (local).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from traitlets import Float, List, Unicode
from traitlets.config import LoggingConfigurable

from jupyterhub_ov.builds.errors import BuildFailed
from jupyterhub_ov.builds.manager import BuildManager, utcnow
from jupyterhub_ov.builds.model.phases import Phase
from jupyterhub_ov.builds.model.spec import DOCKERFILE, BuildRequest, BuildType, SpecPolicy
from jupyterhub_ov.builds.resolve import resolve_commit
from jupyterhub_ov.errors import Conflict, NotFound

from . import model as openvino
from .record import BUILDING, FAILED, READY, NotebookRecord, changed
from .store import NotebookStore

Listener = Callable[[NotebookRecord], Awaitable[None]]


class NotebookController(LoggingConfigurable):
    """The build service's OpenVINO notebook image (`openvino-notebook`): `Notebook` requests
    from the panel, the REST API or (with `OpenVINONotebooks.watch_cluster`) the cluster become
    builds of that image, rebuilt when their git branch moves if auto-update is on. On only
    with "notebooks" in `PlatformService.features`; what it does:
    [docs/builder.md](builder.md#the-openvino-notebook-image-notebook).
    """

    period_unit = Float(
        60.0,
        config=True,
        help="""Seconds in one unit of a Notebook's reconcile_duration_multiplier (minutes,
        as the operator counts them): with auto-update the branch is checked every
        multiplier × period_unit seconds. Shorten it only for tests and demonstrations.""",
    )
    packages = List(
        Unicode(),
        default_value=["openvino"],
        config=True,
        help="""Requirements (PEP 508) added to the repository's requirements.txt where the
        backend builds environments instead of the repository's Dockerfile (the local
        backend); the OpenShift backend builds the Dockerfile and ignores them.""",
    )

    def __init__(self, *, manager: BuildManager, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.manager = manager
        self.store = NotebookStore(manager.store.database)
        self.policy: SpecPolicy = manager.policy
        self.listeners: list[Listener] = []
        self._records: dict[str, NotebookRecord] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        #: woken by every change: the poller computes the next check again
        self._wake = asyncio.Event()
        #: names whose check is under way (the poller starts one at a time per name)
        self._checking: set[str] = set()
        self._poller: asyncio.Task[None] | None = None
        #: reconciliations done (checks of a branch head): for tests and benchmarks
        self.checks = 0

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the records; follow builds that were running; start the periodic checks."""
        for record in await self.store.all():
            self._records[record.name] = record
            if record.state == BUILDING and record.build_id:
                self._spawn(self._follow(record.name, record.build_id))
        self._poller = asyncio.create_task(self._poll(), name="openvino-notebooks")

    async def stop(self) -> None:
        tasks = [t for t in (self._poller, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- the API the handlers (and the cluster reconciler) use ---------------------------------

    def list(self) -> list[NotebookRecord]:
        return [self._records[name] for name in sorted(self._records)]

    def get(self, name: str) -> NotebookRecord:
        try:
            return self._records[name]
        except KeyError:
            raise NotFound(name) from None

    async def create(
        self, name: Any, spec: Any, *, creator: str, namespace: str = ""
    ) -> NotebookRecord:
        """A new Notebook; its first build starts at once. InvalidBuildRequest for bad
        parameters, Conflict for a name in use (nothing changes either way)."""
        params = openvino.parse_params(name, spec, policy=self.policy)
        async with self._lock(params.name):
            if params.name in self._records:
                raise Conflict(f"A notebook named {params.name!r} exists already")
            now = utcnow()
            record = NotebookRecord(params, creator, now, now, namespace=namespace)
            await self._save(record)
        return record

    async def apply(
        self, name: Any, spec: Any, *, creator: str, namespace: str = ""
    ) -> NotebookRecord:
        """Create, or update the parameters of, a Notebook (a cluster resource's reconcile)."""
        params = openvino.parse_params(name, spec, policy=self.policy)
        async with self._lock(params.name):
            record = self._records.get(params.name)
            moved = False
            if record is None:
                now = utcnow()
                record = NotebookRecord(params, creator, now, now, namespace=namespace)
            elif record.params == params and record.namespace == namespace:
                return record
            else:
                moved = (params.git_uri, params.git_ref) != (
                    record.params.git_uri,
                    record.params.git_ref,
                )
                record = changed(record, utcnow(), params=params, namespace=namespace)
            await self._save(record)
        if moved:  # another repository or branch: compared at once, auto-update or not
            self._spawn(self._reconcile(params.name, forced=True))
        return record

    async def delete(self, name: str) -> None:
        """Forget a Notebook: no more checks. Its images and builds stay (an admin removes
        those where they live)."""
        async with self._lock(name):
            self.get(name)
            del self._records[name]
            await self.store.delete(name)

    async def check(self, name: str) -> NotebookRecord:
        """Compare the branch head now (auto-update or not) and build if it moved."""
        self.get(name)
        await self._reconcile(name, forced=True)
        return self.get(name)

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener`` with every changed record (the cluster reconciler's status)."""
        self.listeners.append(listener)

    # -- the periodic checks -------------------------------------------------------------------

    def period(self, record: NotebookRecord) -> timedelta:
        """The Notebook's period (`NotebookParams.period`), in minutes of ``period_unit`` s."""
        return record.params.period * (self.period_unit / 60.0)

    def due(self, record: NotebookRecord, now: datetime) -> datetime | None:
        return openvino.next_check(
            record.last_check,
            now,
            self.period(record),
            built=bool(record.tags),
            auto_update=record.params.auto_update_image,
            building=record.state == BUILDING,
        )

    async def _poll(self) -> None:
        while True:
            self._wake.clear()
            now = utcnow()
            dues = {n: self.due(r, now) for n, r in self._records.items()}
            for name, at in dues.items():
                if at is not None and at <= now and name not in self._checking:
                    self._checking.add(name)
                    self._spawn(self._reconcile(name))
            upcoming = [at for at in dues.values() if at is not None and at > now]
            await self._sleep((min(upcoming) - now).total_seconds() if upcoming else None)

    async def _sleep(self, seconds: float | None) -> None:
        """Until a change wakes the checks, or ``seconds`` passed. Not `asyncio.wait_for`:
        before Python 3.12 it swallows a cancellation that meets the event being set, and
        `stop` then waits for ever on checks that go on."""
        woken = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({woken}, timeout=seconds)
        finally:
            woken.cancel()

    async def _reconcile(self, name: str, *, forced: bool = False) -> None:
        try:
            await self._check(name, forced=forced)
        finally:
            self._checking.discard(name)
            self._wake.set()

    async def _check(self, name: str, *, forced: bool) -> None:
        async with self._lock(name):
            record = self._records.get(name)
            if record is None or record.state == BUILDING:
                return
            now = utcnow()
            at = self.due(record, now)
            if not forced and (at is None or at > now):
                return  # checked meanwhile, or nothing to do
            params = record.params
            self.checks += 1
            try:
                head = await resolve_commit(
                    params.git_uri,
                    params.git_ref,
                    schemes=self.policy.git_schemes,
                    on_line=self._git_line,
                )
            except BuildFailed as e:
                checked = changed(record, now, last_check=now)
                warning = f"{e} The images stay as they are; {self._next_check(checked, now)}."
                self.log.warning("Notebook %s: %s", name, warning)
                await self._save(changed(checked, now, warning=warning))
                return
            record = changed(record, now, last_check=now, warning="")
            if record.tags and not openvino.needs_rebuild(record.commit, head):
                await self._save(record)
                return
            tag = openvino.image_tag(name, now, first=not record.tags)
            try:
                build, _ = await self.manager.submit_request(self._request(record, head, tag, now))
            except Exception as e:  # the store failing: recorded, tried again next period
                self.log.exception("Notebook %s: the build could not be started", name)
                await self._save(changed(record, now, state=FAILED, message=str(e)))
                return
            message = f"Building {openvino.IMAGE_NAME}:{tag} from commit {head[:12]}"
            await self._save(
                changed(record, now, state=BUILDING, build_id=build.id, message=message)
            )
            self.log.info("Notebook %s: %s (build %s)", name, message, build.id)
        self._spawn(self._follow(name, build.id))

    def _next_check(self, record: NotebookRecord, now: datetime) -> str:
        if self.due(record, now) is None:  # built, without auto-update
            return "without auto-update the branch is checked again only on request"
        return f"the next check is in {record.params.reconcile_duration_multiplier} min"

    async def _git_line(self, line: str) -> None:
        self.log.debug("git: %s", line)

    def _request(self, record: NotebookRecord, head: str, tag: str, now: datetime) -> BuildRequest:
        dockerfile = self.manager.backend.builds_dockerfiles
        return BuildRequest(
            name=openvino.IMAGE_NAME,
            build_type=BuildType.GIT_REPOSITORY,
            display_name=openvino.display_name(record.name),
            description=openvino.description(now, head),
            creator=record.creator,
            url=record.params.git_uri,
            repository_url=record.params.git_uri,
            git_ref=head,
            tag=tag,
            strategy=DOCKERFILE if dockerfile else "",
            package_versions=() if dockerfile else tuple(self.packages),
        )

    async def _follow(self, name: str, build_id: str) -> None:
        """Wait for the build to end; record what it published, or why it failed."""
        try:
            async for _ in self.manager.events(build_id):
                pass
            build = await self.manager.get(build_id)
        except NotFound:
            build = None
        async with self._lock(name):
            record = self._records.get(name)
            if record is None or record.build_id != build_id:
                return
            now = utcnow()
            if build is None or build.phase is not Phase.SUCCESS:
                reason = build.message if build is not None else "the build record was deleted"
                message = f"The build of {openvino.IMAGE_NAME} failed: {reason}"
                await self._save(changed(record, now, state=FAILED, message=message))
                return
            request = build.request
            await self._save(
                changed(
                    record,
                    now,
                    state=READY,
                    message=f"Published {build.image}",
                    commit=request.git_ref,
                    tags=(*[t for t in record.tags if t != request.tag], request.tag),
                    build_date=build.created,
                    latest_update_date=build.updated,
                )
            )

    # -- records -------------------------------------------------------------------------------

    def _lock(self, name: str) -> asyncio.Lock:
        return self._locks.setdefault(name, asyncio.Lock())

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.log.error("OpenVINO notebook task failed", exc_info=task.exception())

    async def _save(self, record: NotebookRecord) -> None:
        await self.store.save(record)
        self._records[record.name] = record
        # any change may move the record's next check (a check done, a build ended): the
        # poller, which may be waiting for nothing in particular, works it out again
        self._wake.set()
        for listener in self.listeners:
            try:
                await listener(record)
            except Exception:
                self.log.exception("Notebook %s: a listener failed", record.name)
