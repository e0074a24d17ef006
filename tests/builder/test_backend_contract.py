"""The contract of `builder.backends.base`, run against every backend (`cases.BACKENDS`).

Each test drives the backend as the manager does (`harness.drive`), with a reporter whose
phases go through the real phase machine, and looks at the result through the catalog the
spawner menu reads.
"""

from __future__ import annotations

import asyncio

import pytest

from jupyterhub_ov.builder import spec
from jupyterhub_ov.builder.backends.base import BuildFailed
from jupyterhub_ov.builder.phases import PATHS, Phase

from .cases import BackendCase
from .harness import RecordingReporter, drive


@pytest.mark.parametrize("build_type", spec.BUILD_TYPES)
async def test_build_publishes_along_its_path_and_is_found_afterwards(
    backend_case: BackendCase, build_type: str
) -> None:
    backend, request = backend_case.backend, backend_case.request(build_type)
    reporter = RecordingReporter(build_type)
    published = await drive(backend, request, reporter)

    assert reporter.phases == list(PATHS[build_type])
    assert published.image.startswith(f"{request.name}:")
    assert published.python_version.startswith("3.")
    (image,) = [i for i in await backend_case.catalog_images() if i.name == request.name]
    tag = image.tag(published.image.split(":", 1)[1])
    assert tag is not None and tag.reference == published.reference
    assert [(d.name, d.version) for d in tag.dependencies] == [
        (p.name, p.version) for p in published.packages
    ]
    assert image.display_name == request.display_name and image.creator == "tester"

    # the same request again: found, nothing built (the manager's shortcut to Success)
    again = RecordingReporter(build_type)
    resolved = await backend.resolve(request, again)
    assert await backend.find(resolved) == published
    assert resolved.image == published.image
    assert await drive(backend, request, again) == published
    shortcut = [Phase.PREPARING, Phase.SUCCESS]
    if build_type != spec.IMPORT_IMAGE:
        shortcut.insert(1, Phase.RESOLVING)
    assert again.phases == shortcut


async def test_unresolvable_request_fails_before_building(backend_case: BackendCase) -> None:
    reporter = RecordingReporter(spec.PACKAGE_LIST)
    with pytest.raises(BuildFailed, match="ovdoesnotexist"):
        await drive(backend_case.backend, backend_case.unresolvable_request(), reporter)
    assert reporter.phases == [Phase.PREPARING, Phase.RESOLVING]
    assert await backend_case.leftovers() == []


async def test_failing_build_raises_and_leaves_nothing(backend_case: BackendCase) -> None:
    request = backend_case.failing_request()
    reporter = RecordingReporter(request.build_type)
    with pytest.raises(BuildFailed) as failed:
        await drive(backend_case.backend, request, reporter)
    assert str(failed.value)  # a message for the admin
    assert Phase.BUILDING in reporter.phases
    assert await backend_case.leftovers() == []
    assert request.name not in {i.name for i in await backend_case.catalog_images()}
    assert await backend_case.running_work() == []


@pytest.mark.parametrize("where", ["entering Building", "while work runs"])
async def test_cancel_stops_the_work_and_leaves_nothing(
    backend_case: BackendCase, where: str
) -> None:
    request = backend_case.request(spec.PACKAGE_LIST)
    reporter = RecordingReporter(request.build_type)
    running_at_cancel: list[str] = []

    async def cancel(_: str) -> None:
        running_at_cancel.extend(await backend_case.running_work())
        task.cancel()

    pattern = "^phase Building$" if where == "entering Building" else backend_case.busy_marker
    reporter.on(pattern, cancel)
    task = asyncio.create_task(drive(backend_case.backend, request, reporter))
    with pytest.raises(asyncio.CancelledError):
        await task

    assert reporter.phases[-1] in (Phase.BUILDING, Phase.VALIDATING)
    if where == "while work runs":
        assert running_at_cancel, "the marker should come while the work runs"
    assert await backend_case.running_work() == []
    assert await backend_case.leftovers() == []
    assert request.name not in {i.name for i in await backend_case.catalog_images()}
