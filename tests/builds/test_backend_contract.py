"""The contract of `BuildBackend` (see `backends.base`), for every backend (`cases.BACKENDS`).

Each test runs against each backend and each build type its case supports; nothing is
mocked: the case's backend does its real work, driven as the build manager drives it
(`harness`), and the result is looked at through the catalog the spawner menu reads.
"""

from __future__ import annotations

import asyncio

import pytest

from jupyterhub_ov.builds.errors import BuildFailed
from jupyterhub_ov.builds.model import phases, spec
from jupyterhub_ov.builds.model.phases import Phase

from .cases import FAIL, SLOW, UNRESOLVABLE, BackendCase, offered_within
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
