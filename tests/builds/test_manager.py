"""The build manager with a real SQLite store and the scripted backend."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import pytest

from jupyterhub_ov.builds.manager import BuildManager
from jupyterhub_ov.builds.model.phases import PATHS, Phase
from jupyterhub_ov.builds.model.spec import InvalidBuildRequest, SpecPolicy, parse_request
from jupyterhub_ov.builds.store import BuildStore
from jupyterhub_ov.errors import Conflict, NotFound
from jupyterhub_ov.metrics import SERVICE_REGISTRY

from ..service import svc
from .scripted import NoReattachBackend, ScriptedBackend


def package_list(name: str = "tiny", *packages: str) -> dict:
    return svc.package_list(name, *(packages or ["ovtiny"]))


def import_image(name: str = "imported", source: str = "quay.io/org/img:1") -> dict:
    body = package_list(name)
    body["spec"] = {"buildType": "ImportImage", "fromImage": source}
    return body


Factory = Callable[..., BuildManager]


@pytest.fixture
async def make(tmp_path: Path) -> AsyncIterator[Factory]:
    made: list[BuildManager] = []

    def factory(backend: ScriptedBackend | None = None, **options: object) -> BuildManager:
        store = BuildStore(f"sqlite:///{tmp_path / 'builds.sqlite'}")
        backend = backend or ScriptedBackend()
        backend.work_dir = str(tmp_path / "work")
        manager = BuildManager(store=store, backend=backend, policy=SpecPolicy(), **options)
        made.append(manager)
        return manager

    yield factory
    for manager in made:
        await manager.stop()
        await manager.store.close()


async def started(manager: BuildManager) -> BuildManager:
    await manager.store.start()
    await manager.start()
    return manager


async def finished(manager: BuildManager, build_id: str, timeout: float = 10):
    async with asyncio.timeout(timeout):
        async for _ in manager.events(build_id):
            pass
    return await manager.get(build_id)


async def test_a_build_goes_through_its_path_and_is_recorded(make: Factory) -> None:
    manager = await started(make())
    record, created = await manager.submit(package_list("tiny", "ovtiny==2.0"), creator="ann")
    assert created and record.phase is Phase.PREPARING
    done = await finished(manager, record.id)
    assert done.phase is Phase.SUCCESS, done.message
    assert [t.phase for t in done.transitions or []] == list(PATHS["PackageList"])
    assert done.image == f"tiny-notebook:{done.resolved.tag}" if done.resolved else False
    assert done.request.creator == "ann"
    assert done.packages == [{"name": "ovtiny", "version": "2.0"}]
    assert done.python_version == "3.11.7"
    assert all(t.at.tzinfo is not None for t in done.transitions or [])
    log = await manager.log_text(record.id)
    assert log.splitlines() == ["resolving tiny-notebook", "step 1/3", "step 2/3", "step 3/3"]


async def test_import_path(make: Factory) -> None:
    manager = await started(make())
    record, _ = await manager.submit(import_image(), creator="ann")
    done = await finished(manager, record.id)
    assert [t.phase for t in done.transitions or []] == list(PATHS["ImportImage"])


async def test_invalid_request_records_and_runs_nothing(make: Factory) -> None:
    backend = ScriptedBackend()
    manager = await started(make(backend))
    with pytest.raises(InvalidBuildRequest, match="pip options"):
        await manager.submit(package_list("x", "--index-url http://evil"), creator="ann")
    assert (await manager.list_builds()) == ([], 0)
    assert backend.started == []


async def test_identical_requests_join_one_build(make: Factory) -> None:
    backend = ScriptedBackend()
    manager = await started(make(backend))
    results = await asyncio.gather(
        *(manager.submit(package_list("same", "slow"), creator=f"u{i}") for i in range(20))
    )
    ids = {record.id for record, _ in results}
    assert len(ids) == 1 and sum(created for _, created in results) == 1
    backend.release.set()
    await finished(manager, ids.pop())
    assert backend.started == ["same-notebook:" + backend.started[0].split(":")[1]]
    assert manager.builds_started == 1


async def test_joiners_follow_from_the_start_even_before_the_record_is_stored(
    make: Factory,
) -> None:
    """A joiner gets the running build at once, maybe before its record reaches the store:
    reading and following it must still work, from Preparing on."""
    manager = await started(make())

    async def submit_and_follow(user: str) -> list:
        record, _ = await manager.submit(package_list("together"), creator=user)
        assert (await manager.get(record.id)).id == record.id
        return [e async for e in manager.events(record.id)]

    stories = await asyncio.gather(*(submit_and_follow(f"u{i}") for i in range(10)))
    for story in stories:
        phases = [e.phase for e in story if e.kind == "phase"]
        assert phases == list(PATHS["PackageList"])
        assert [e.seq for e in story] == list(range(1, len(story) + 1))


async def test_published_image_means_no_build(make: Factory) -> None:
    backend = ScriptedBackend()
    manager = await started(make(backend))
    first, _ = await manager.submit(package_list("twice"), creator="ann")
    await finished(manager, first.id)
    second, created = await manager.submit(package_list("twice"), creator="bob")
    assert created and second.id != first.id
    done = await finished(manager, second.id)
    assert done.phase is Phase.SUCCESS
    assert [t.phase for t in done.transitions or []] == [
        Phase.PREPARING,
        Phase.RESOLVING,
        Phase.SUCCESS,
    ]
    assert "already exists" in done.message and len(backend.started) == 1


async def test_failure_keeps_the_message_and_the_log(make: Factory) -> None:
    manager = await started(make())
    record, _ = await manager.submit(package_list("broken", "fail"), creator="ann")
    done = await finished(manager, record.id)
    assert done.phase is Phase.FAILURE
    assert done.message == "pip install failed: no matching distribution"
    assert "step 3/3" in await manager.log_text(record.id)


async def test_a_backend_out_of_order_fails_its_build(make: Factory) -> None:
    manager = await started(make())
    record, _ = await manager.submit(package_list("odd", "bad-phase"), creator="ann")
    done = await finished(manager, record.id)
    assert done.phase is Phase.FAILURE
    assert "cannot go from Building to Success" in done.message


async def test_cancel_stops_the_work(make: Factory) -> None:
    backend = ScriptedBackend()
    manager = await started(make(backend))
    record, _ = await manager.submit(package_list("long", "slow"), creator="ann")
    await backend.building.wait()
    done = await manager.cancel(record.id, by="admin")
    assert done.phase is Phase.FAILURE and done.message == "Cancelled by admin"
    assert backend.cancelled == backend.started and backend.published == {}
    with pytest.raises(Conflict, match="already ended"):
        await manager.cancel(record.id, by="admin")


async def test_timeout_stops_the_build(make: Factory) -> None:
    backend = ScriptedBackend()
    manager = await started(make(backend, timeout=0.3))
    record, _ = await manager.submit(package_list("forever", "slow"), creator="ann")
    done = await finished(manager, record.id)
    assert done.phase is Phase.FAILURE and "longer than 0.3 s" in done.message
    assert backend.cancelled == backend.started


async def test_concurrency_limit_queues_builds_in_preparing(make: Factory) -> None:
    backend = ScriptedBackend()
    manager = await started(make(backend, max_concurrent=2))
    ended = succeeded_builds()
    records = [
        (await manager.submit(package_list(f"q{i}", "slow"), creator="ann"))[0] for i in range(4)
    ]
    await asyncio.sleep(0.2)
    phases = [(await manager.get(r.id)).phase for r in records]
    assert sorted(phases) == sorted([Phase.BUILDING] * 2 + [Phase.PREPARING] * 2)
    assert len(backend.started) == 2
    # what the service's metrics report: two waiting for a slot, four in flight
    assert (manager.queue_length(), manager.in_flight()) == (2, 4)
    backend.release.set()
    for r in records:
        assert (await finished(manager, r.id)).phase is Phase.SUCCESS
    assert manager.queue_length() == 0
    assert succeeded_builds() == ended + 4  # jupyterhub_ov_builds_total counted each


def succeeded_builds() -> float:
    labels = {"type": "PackageList", "outcome": "Success"}
    return SERVICE_REGISTRY.get_sample_value("jupyterhub_ov_builds_total", labels) or 0.0


async def test_retry_delete_and_not_found(make: Factory) -> None:
    manager = await started(make())
    record, _ = await manager.submit(package_list("again", "fail"), creator="ann")
    await finished(manager, record.id)
    retried, created = await manager.retry(record.id, by="bob")
    assert created and retried.retry_of == record.id and retried.request.creator == "bob"
    await finished(manager, retried.id)
    await manager.delete(record.id)
    with pytest.raises(NotFound):
        await manager.get(record.id)
    with pytest.raises(NotFound):
        await manager.delete("nope")


async def test_a_retry_keeps_what_the_service_set_itself(make: Factory) -> None:
    manager = await started(make())
    parsed = parse_request(package_list("fixed", "fail"), creator="ann", policy=SpecPolicy())
    record, _ = await manager.submit_request(replace(parsed, tag="v2024"))
    failed = await finished(manager, record.id)
    assert failed.phase is Phase.FAILURE and failed.image == "fixed-notebook:v2024"
    retried, _ = await manager.retry(record.id, by="bob")
    assert retried.request.tag == "v2024" and retried.request.creator == "bob"
    assert (await finished(manager, retried.id)).image == "fixed-notebook:v2024"


async def test_delete_and_retry_refuse_running_builds(make: Factory) -> None:
    backend = ScriptedBackend()
    manager = await started(make(backend))
    record, _ = await manager.submit(package_list("busy", "slow"), creator="ann")
    with pytest.raises(Conflict):
        await manager.delete(record.id)
    with pytest.raises(Conflict):
        await manager.retry(record.id, by="ann")
    backend.release.set()
    await finished(manager, record.id)


async def test_events_replay_then_follow_live_and_resume(make: Factory) -> None:
    backend = ScriptedBackend()
    manager = await started(make(backend))
    record, _ = await manager.submit(package_list("live", "slow"), creator="ann")
    seen: list = []

    async def follow() -> None:
        async for event in manager.events(record.id):
            seen.append(event)

    follower = asyncio.create_task(follow())
    await backend.building.wait()
    await asyncio.sleep(0.05)
    assert seen and seen[-1].kind == "log"  # live, before the build ended
    backend.release.set()
    await asyncio.wait_for(follower, 5)
    assert [e.seq for e in seen] == list(range(1, len(seen) + 1))
    assert seen[-1].phase is Phase.SUCCESS
    resumed = [e async for e in manager.events(record.id, after=seen[3].seq)]
    assert resumed == seen[4:]


async def test_restart_fails_interrupted_builds_of_a_backend_that_cannot_reattach(
    make: Factory,
) -> None:
    backend = NoReattachBackend()
    first = await started(make(backend))
    record, _ = await first.submit(package_list("cut", "slow"), creator="ann")
    await backend.building.wait()
    await first.stop()  # the service stops mid-build
    assert backend.detached == backend.started
    assert (await first.get(record.id)).phase is Phase.BUILDING

    second_backend = NoReattachBackend()
    second = await started(make(second_backend))
    done = await second.get(record.id)
    assert done.phase is Phase.FAILURE
    assert "restarted while this build was Building" in done.message
    assert second_backend.discarded == [done.backend_ref] and done.backend_ref


async def test_restart_follows_builds_a_backend_can_reattach(make: Factory) -> None:
    backend = ScriptedBackend()
    first = await started(make(backend))
    record, _ = await first.submit(package_list("kept", "slow"), creator="ann")
    await backend.building.wait()
    await first.stop()
    second_backend = ScriptedBackend()
    second_backend.release.set()  # the cluster build goes on and completes
    second = await started(make(second_backend))
    done = await finished(second, record.id)
    assert done.phase is Phase.SUCCESS
    assert [t.phase for t in done.transitions or []] == list(PATHS["PackageList"])
    assert "following build/" in await second.log_text(record.id)


async def test_restart_asks_the_backend_for_work_no_record_remembered_then_sweeps(
    make: Factory,
) -> None:
    """A build killed in Building before its reference was stored goes to `reattach` with
    no reference (a cluster backend finds the build it had started) instead of being failed
    at once; then `sweep` learns which builds are followed."""
    backend = ScriptedBackend()
    first = await started(make(backend))
    kept, _ = await first.submit(package_list("kept", "slow"), creator="ann")
    cut, _ = await first.submit(package_list("cut", "unremembered"), creator="ann")
    async with asyncio.timeout(10):
        while not getattr(await first.store.get(kept.id), "backend_ref", ""):  # noqa: ASYNC110
            await asyncio.sleep(0.01)  # until stored: the store has no event to wait on
        while (await first.get(cut.id)).phase is not Phase.BUILDING:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    await first.stop()
    assert (await first.get(cut.id)).backend_ref == ""

    second_backend = ScriptedBackend()
    second_backend.release.set()
    second = await started(make(second_backend))
    assert (await finished(second, kept.id)).phase is Phase.SUCCESS
    done = await finished(second, cut.id)
    assert done.phase is Phase.FAILURE
    assert done.message == "The scripted build was killed before it remembered its work"
    assert second_backend.swept == [sorted([done.image, (await second.get(kept.id)).image])]


async def test_restart_resumes_builds_that_had_not_started_building(make: Factory) -> None:
    backend = ScriptedBackend()
    first = await started(make(backend, max_concurrent=1))
    blocker, _ = await first.submit(package_list("blocker", "slow"), creator="ann")
    queued, _ = await first.submit(package_list("queued"), creator="ann")
    await asyncio.sleep(0.1)
    assert (await first.get(queued.id)).phase is Phase.PREPARING
    await first.stop()
    second = await started(make(NoReattachBackend()))
    assert (await finished(second, queued.id)).phase is Phase.SUCCESS
    assert (await second.get(blocker.id)).phase is Phase.FAILURE


class LogWriteStore(BuildStore):
    """A real SQLite store whose log-only writes (the background flushes) first run
    ``before_log_write``: a delay (a busy database) or a failure (a full disk)."""

    def __init__(self, url: str, before_log_write: Callable[[], Awaitable[None]]) -> None:
        super().__init__(url)
        self.before_log_write = before_log_write

    async def record(self, build_id, *, logs=(), transition=None, **fields):  # type: ignore[override]
        if logs and transition is None and not fields:
            await self.before_log_write()
        return await super().record(build_id, logs=logs, transition=transition, **fields)


async def busy_database() -> None:
    await asyncio.sleep(0.5)


async def full_disk() -> None:
    raise OSError("disk full")


async def test_a_client_arriving_during_a_slow_log_write_misses_nothing(tmp_path: Path) -> None:
    """CI once saw event 3 missing from a stream: a client's flush found nothing pending
    while the timer's flush was still writing those lines, and read the store too early."""
    backend = ScriptedBackend(work_dir=str(tmp_path / "work"))
    store = LogWriteStore(f"sqlite:///{tmp_path / 'builds.sqlite'}", busy_database)
    manager = await started(BuildManager(store=store, backend=backend, policy=SpecPolicy()))
    try:
        record, _ = await manager.submit(package_list("slowlog", "slow"), creator="ann")
        await backend.building.wait()
        await asyncio.sleep(0.35)  # the timer's flush (0.25 s) is now writing the lines

        async def collect() -> list:
            return [event async for event in manager.events(record.id)]

        client = asyncio.create_task(collect())
        await asyncio.sleep(0.1)
        backend.release.set()
        events = await asyncio.wait_for(client, 10)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        lines = [e.text for e in events if e.kind == "log"]
        assert lines[1:] == ["step 1/3", "step 2/3", "step 3/3"]
    finally:
        await manager.stop()
        await store.close()


async def test_a_failed_background_log_write_is_one_clear_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    backend = ScriptedBackend(work_dir=str(tmp_path / "work"))
    store = LogWriteStore(f"sqlite:///{tmp_path / 'builds.sqlite'}", full_disk)
    manager = await started(BuildManager(store=store, backend=backend, policy=SpecPolicy()))
    try:
        record, _ = await manager.submit(package_list("failinglog", "slow"), creator="ann")
        await backend.building.wait()
        await asyncio.sleep(0.4)  # the timer's flush ran and failed
        backend.release.set()
        done = await finished(manager, record.id)
        assert done.phase is Phase.SUCCESS  # the build itself is not harmed
    finally:
        await manager.stop()
        await store.close()
    failed = [r for r in caplog.records if "Could not store log lines" in r.getMessage()]
    assert len(failed) == 1 and record.id in failed[0].getMessage()
    assert "disk full" in failed[0].getMessage()
    assert "never retrieved" not in caplog.text
