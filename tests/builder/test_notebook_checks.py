"""The OpenVINO notebook controller's periodic checks: stopping, and what a warning promises.
A real manager and SQLite store, the scripted backend and real git repositories
(``file://``), on a fast clock (more in `test_notebooks`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from jupyterhub_ov.builder.manager import BuildManager
from jupyterhub_ov.builder.notebooks import NotebookController
from jupyterhub_ov.builder.notebookstore import READY, NotebookRecord
from jupyterhub_ov.builder.spec import SpecPolicy
from jupyterhub_ov.builder.store import BuildStore

from .gitrepos import make_repository
from .scripted import ScriptedBackend

#: seconds in one of a Notebook's "minutes"
UNIT = 0.1

Make = Callable[..., Awaitable[NotebookController]]


@pytest.fixture
async def make(tmp_path: Path) -> AsyncIterator[Make]:
    made: list[NotebookController] = []

    async def factory(**options: object) -> NotebookController:
        manager = BuildManager(
            store=BuildStore(f"sqlite:///{tmp_path / 'builds.sqlite'}"),
            backend=ScriptedBackend(),
            policy=SpecPolicy(git_schemes=("file",), git_hosts=()),
        )
        await manager.store.start()
        await manager.start()
        controller = NotebookController(manager=manager, period_unit=UNIT, **options)
        await controller.start()
        made.append(controller)
        return controller

    yield factory
    for controller in made:
        await controller.stop()
        await controller.manager.stop()
        await controller.manager.store.close()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "openvino_notebooks"
    make_repository(path, {"requirements.txt": "numpy\n", "notebooks/a.ipynb": "{}"})
    return path


async def until(
    controller: NotebookController,
    name: str,
    test: Callable[[NotebookRecord], bool],
    timeout: float = 10,
) -> NotebookRecord:
    """The record of ``name`` once ``test`` holds, following the controller's changes."""
    seen = asyncio.Event()

    async def changed(record: NotebookRecord) -> None:
        seen.set()

    controller.subscribe(changed)
    async with asyncio.timeout(timeout):
        while not test(controller.get(name)):
            seen.clear()
            await seen.wait()
    return controller.get(name)


async def test_stop_ends_the_checks_right_after_a_check(make: Make, repo: Path) -> None:
    controller = await make()
    spec = {"git_uri": repo.as_uri(), "auto_update_image": True, "reconcile_duration_multiplier": 5}
    await controller.create("nb", spec, creator="admin")
    await until(controller, "nb", lambda r: r.state == READY)
    await controller.check("nb")  # a change that wakes the checks, as stop cancels them
    async with asyncio.timeout(5):
        await controller.stop()
    checks = controller.checks
    await asyncio.sleep(6 * UNIT)  # more than a period: none after stop
    assert controller.checks == checks


@pytest.mark.parametrize(
    "auto_update, next_words",
    [
        (True, "the next check is in 5 min"),
        (False, "without auto-update the branch is checked again only on request"),
    ],
)
async def test_an_unreadable_repository_warns_and_says_when_it_is_checked_again(
    make: Make, repo: Path, auto_update: bool, next_words: str
) -> None:
    controller = await make()
    spec = {
        "git_uri": repo.as_uri(),
        "auto_update_image": auto_update,
        "reconcile_duration_multiplier": 5,
    }
    await controller.create("nb", spec, creator="admin")
    built = await until(controller, "nb", lambda r: r.state == READY)
    gone = repo.with_name("gone")
    await asyncio.to_thread(repo.rename, gone)
    record = await controller.check("nb")
    assert record.warning.startswith(f"The repository {repo.as_uri()} could not be read")
    assert record.warning.endswith(f"The images stay as they are; {next_words}.")
    assert (record.state, record.tags, record.build_id) == (READY, ("nb",), built.build_id)
    await asyncio.to_thread(gone.rename, repo)
    assert (await controller.check("nb")).warning == ""
