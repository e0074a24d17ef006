"""The contract of `BuildBackend` (see `backends.base`), for every backend (`cases.BACKENDS`).

Each test runs against each backend and each build type its case supports; nothing is
mocked: the case's backend does its real work, driven as the build manager drives it
(`harness`), and the result is looked at through the catalog the spawner menu reads.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from jupyterhub_ov.builds.errors import BuildFailed
from jupyterhub_ov.builds.model import phases, spec
from jupyterhub_ov.builds.model.phases import Phase

from .cases import FAIL, SLOW, UNRESOLVABLE, BackendCase, offered_within
from .cases.openshift import OpenShiftCase
from .harness import RecordingReporter, drive, resolve, run_build

by_type = pytest.mark.parametrize("build_type", spec.BUILD_TYPES)


def supported(case: BackendCase, build_type: str) -> None:
    if build_type not in case.build_types:
        pytest.skip(f"the {case.kind} backend does not build {build_type}")


@by_type
async def test_a_build_follows_its_phase_path_and_is_offered(
    backend_case: BackendCase, build_type: str
) -> None:
    supported(backend_case, build_type)
    backend, request = backend_case.backend, backend_case.request(build_type)

    published, resolved, reporter = await run_build(backend, request)

    assert reporter.path == phases.PATHS[build_type]
    assert published.image == resolved.image == f"{request.name}:{resolved.tag}"
    assert published.python_version.startswith("3.") and published.packages
    offered = await offered_within(backend_case, published.image)
    assert offered[published.image] == published.reference
    (image,) = [i for i in await backend_case.catalog_images() if i.name == request.name]
    tag = image.tag(resolved.tag)
    assert tag is not None
    assert [(d.name, d.version) for d in tag.dependencies] == [
        (p.name, p.version) for p in published.packages
    ]
    assert image.display_name == request.display_name and image.creator == request.creator
    assert await backend.find(resolved) == published

    # the same request again: the same content is pinned, found, and nothing is built
    again = RecordingReporter(build_type)
    assert await drive(backend, request, again) == published
    shortcut = [Phase.PREPARING, Phase.SUCCESS]
    if build_type != spec.BuildType.IMPORT_IMAGE:
        shortcut.insert(1, Phase.RESOLVING)
    assert again.phases == shortcut


async def test_an_unresolvable_request_fails_before_building(backend_case: BackendCase) -> None:
    request = backend_case.request(spec.BuildType.PACKAGE_LIST, UNRESOLVABLE)
    reporter = RecordingReporter(request.build_type)
    with pytest.raises(BuildFailed, match="ovdoesnotexist"):
        await drive(backend_case.backend, request, reporter)
    assert reporter.phases == [Phase.PREPARING, Phase.RESOLVING]
    assert request.name not in {i.name for i in await backend_case.catalog_images()}


@by_type
async def test_a_failing_build_raises_and_leaves_nothing_half_made(
    backend_case: BackendCase, build_type: str
) -> None:
    supported(backend_case, build_type)
    resolved, reporter = await resolve(backend_case.backend, backend_case.request(build_type, FAIL))

    with pytest.raises(BuildFailed) as failed:
        await backend_case.backend.build(resolved, reporter)

    assert str(failed.value).strip()  # a message for the admin
    assert reporter.path[-1] is not Phase.SUCCESS
    reporter.fail(str(failed.value))  # what the manager records: a legal move to Failure
    assert await backend_case.leftovers(resolved) == []
    assert await backend_case.stopped(resolved) == []
    assert resolved.image not in await backend_case.offered()


@by_type
async def test_cancelling_mid_build_stops_the_work(
    backend_case: BackendCase, build_type: str
) -> None:
    supported(backend_case, build_type)
    resolved, reporter = await resolve(backend_case.backend, backend_case.request(build_type, SLOW))
    task = asyncio.create_task(backend_case.backend.build(resolved, reporter))
    await backend_case.working(resolved, reporter)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert await backend_case.stopped(resolved) == []
    assert await backend_case.leftovers(resolved) == []
    assert resolved.image not in await backend_case.offered()


async def test_cancelling_as_building_begins_leaves_nothing(backend_case: BackendCase) -> None:
    """A cancel that lands before the real work started (inside the Building report)."""
    resolved, reporter = await resolve(
        backend_case.backend, backend_case.request(spec.BuildType.PACKAGE_LIST, SLOW)
    )
    task = asyncio.create_task(backend_case.backend.build(resolved, reporter))

    async def cancel(_: str) -> None:
        task.cancel()

    reporter.on("^phase Building$", cancel)
    with pytest.raises(asyncio.CancelledError):
        await task

    assert reporter.phases[-1] is Phase.BUILDING
    assert await backend_case.stopped(resolved) == []
    assert await backend_case.leftovers(resolved) == []
    assert resolved.image not in await backend_case.offered()


# --- a cluster build its record never remembered (the service killed in between) --------------


async def killed_after_starting(case: BackendCase) -> tuple[Any, Any, Any, str]:
    """A held package-list build whose cluster build runs; the service killed and started
    again. The build's resolved build, its cluster build, and the restarted backend."""
    if not case.backend.can_reattach:
        pytest.skip(f"the {case.kind} backend does not follow a build after a restart")
    assert isinstance(case, OpenShiftCase)
    resolved, reporter = await resolve(
        case.backend, case.request(spec.BuildType.PACKAGE_LIST, SLOW)
    )
    first = asyncio.create_task(case.backend.build(resolved, reporter))
    await case.working(resolved, reporter)
    restarted = await case.killed_and_restarted(first)
    return case, resolved, restarted, reporter.remembered[-1]


async def test_a_cluster_build_its_record_never_remembered_is_followed_again(
    backend_case: BackendCase,
) -> None:
    """Killed after starting the cluster build, before the record remembered it: the record
    is Building with no reference, and the restart adopts the build instead of leaving it
    running for nobody (found by the servicecrash reliability scenario)."""
    case, resolved, restarted, build = await killed_after_starting(backend_case)
    after = RecordingReporter(resolved.request.build_type)
    for phase in (Phase.RESOLVING, Phase.BUILDING):
        await after.phase(phase)

    finishing = asyncio.create_task(restarted.reattach(resolved, "", after))
    await after.until(lambda: bool(after.remembered))
    case.release()
    published = await finishing
    await after.succeed()

    assert after.remembered[0] == build  # the one running, not a new one
    assert f"Reattached to the cluster build {build}" in after.lines
    assert len(await case.cluster_builds(resolved)) == 1
    assert published.image == resolved.image


async def test_reattaching_with_no_cluster_build_running_fails_with_why(
    backend_case: BackendCase,
) -> None:
    case, resolved, restarted, build = await killed_after_starting(backend_case)
    await restarted.steps.cancel_build(build)  # e.g. an admin cancelled it meanwhile
    after = RecordingReporter(resolved.request.build_type)
    for phase in (Phase.RESOLVING, Phase.BUILDING):
        await after.phase(phase)

    with pytest.raises(BuildFailed) as failed:
        await restarted.reattach(resolved, "", after)

    assert str(failed.value) == phases.interrupted_message(Phase.BUILDING)
    assert await case.stopped(resolved) == []


async def test_sweep_stops_the_cluster_builds_no_build_follows(
    backend_case: BackendCase,
) -> None:
    """After a restart, a cluster build of ours that no in-flight record follows (its record
    failed, or never remembered it) is cancelled; one a record follows is left running."""
    case, resolved, restarted, build = await killed_after_starting(backend_case)

    assert await restarted.sweep([resolved]) == []
    assert await case.builds_working(resolved) != []  # followed: still running
    assert await restarted.sweep([]) == [build]

    assert await case.stopped(resolved) == []
    assert await restarted.sweep([]) == []  # nothing left to stop
