"""The contract of `BuildBackend` (see `backends.base`), for every backend kind.

Each test runs against each backend of ``conftest.BACKEND_KINDS`` and each build type the
backend's case supports; nothing is mocked: the case's backend does its real work.
"""

from __future__ import annotations

import asyncio

import pytest

from jupyterhub_ov.builder import phases, spec
from jupyterhub_ov.builder.backends.base import BuildFailed
from jupyterhub_ov.builder.phases import Phase

from .cases import FAIL, SLOW, BackendCase
from .harness import resolve, run_build

pytestmark = pytest.mark.parametrize("build_type", spec.BUILD_TYPES)


def supported(case: BackendCase, build_type: str) -> None:
    if build_type not in case.build_types:
        pytest.skip(f"the {case.kind} backend does not build {build_type}")


async def offered_within(case: BackendCase, image: str, timeout: float = 10) -> dict[str, str]:
    """The menu's images once ``image`` is among them (catalogs update by themselves)."""
    async with asyncio.timeout(timeout):
        while image not in (offered := await case.offered()):  # noqa: ASYNC110 - no event
            await asyncio.sleep(0.05)  # the catalog updates from its own watch
    return offered


async def test_a_build_follows_its_phase_path_and_is_offered(
    backend_case: BackendCase, build_type: str
) -> None:
    supported(backend_case, build_type)
    request = backend_case.request(build_type)

    published, resolved, reporter = await run_build(backend_case.backend, request)

    assert reporter.path == phases.PATHS[build_type]
    assert published.image == resolved.image == f"{request.name}:{resolved.tag}"
    assert published.python_version and published.packages
    offered = await offered_within(backend_case, published.image)
    assert offered[published.image] == published.reference
    assert await backend_case.backend.find(resolved) == published
    # resolving again pins the same content: the image is found, no second build
    again, _ = await resolve(backend_case.backend, request)
    assert again.tag == resolved.tag
    assert await backend_case.backend.find(again) == published


async def test_a_failing_build_raises_and_leaves_nothing_half_made(
    backend_case: BackendCase, build_type: str
) -> None:
    supported(backend_case, build_type)
    resolved, reporter = await resolve(backend_case.backend, backend_case.request(build_type, FAIL))

    with pytest.raises(BuildFailed) as failed:
        await backend_case.backend.build(resolved, reporter)

    assert str(failed.value).strip()
    assert reporter.path[-1] is not Phase.SUCCESS
    reporter.fail(str(failed.value))  # what the manager records: a legal move to Failure
    assert await backend_case.leftovers(resolved) == []
    assert resolved.image not in await backend_case.offered()


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
