"""The OpenVINO notebook controller: first build, auto-update, warnings, restarts, stopping.

A real SQLite store, the real build manager, the scripted backend (builds in milliseconds)
and a real git repository standing in for openvino_notebooks; the period is shortened
(`NotebookController.period_unit`: seconds per "minute").
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from jupyterhub_ov.builds.manager import BuildManager
from jupyterhub_ov.builds.model.phases import Phase
from jupyterhub_ov.builds.model.spec import DOCKERFILE, BuildType, InvalidBuildRequest, SpecPolicy
from jupyterhub_ov.builds.store import BuildStore
from jupyterhub_ov.errors import Conflict, NotFound
from jupyterhub_ov.service.features.notebooks import model as openvino
from jupyterhub_ov.service.features.notebooks.controller import NotebookController
from jupyterhub_ov.service.features.notebooks.record import BUILDING, FAILED, READY, NotebookRecord
from tests.builds.gitrepos import commit_files, make_repository
from tests.builds.scripted import ScriptedBackend

POLICY = SpecPolicy(git_schemes=("https", "file"), git_hosts=())
#: seconds per "minute" of reconcile_duration_multiplier
UNIT = 0.1
DATED = re.compile(r"^v1-\d{14}$")


@dataclass
class Service:
    manager: BuildManager
    controller: NotebookController
    backend: ScriptedBackend
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def listen(self, record: NotebookRecord) -> None:
        self.changed.set()

    async def next_change(self) -> None:
        """Until the controller saves a record (each check does)."""
        self.changed.clear()
        await self.changed.wait()


Factory = Callable[..., "asyncio.Future[Service]"]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "openvino_notebooks"
    make_repository(path, {"requirements.txt": "", "notebooks/hello.ipynb": "{}"})
    return path


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Callable[..., object]]:
    running: list[Service] = []

    async def start(backend: ScriptedBackend | None = None, **config: object) -> Service:
        backend = backend or ScriptedBackend()
        store = BuildStore(f"sqlite:///{tmp_path / 'builds.sqlite'}")
        manager = BuildManager(store=store, backend=backend, policy=POLICY)
        await store.start()
        await manager.start()
        controller = NotebookController(manager=manager, period_unit=UNIT, **config)
        running.append(Service(manager, controller, backend))
        controller.subscribe(running[-1].listen)
        await controller.start()
        return running[-1]

    yield start
    for s in running:
        await stop(s)


async def stop(s: Service) -> None:
    await s.controller.stop()
    await s.manager.stop()
    await s.manager.store.close()


async def until(
    s: Service, name: str, check: Callable[[NotebookRecord], bool], timeout: float = 20
) -> NotebookRecord:
    async with asyncio.timeout(timeout):
        while not check(record := s.controller.get(name)):
            await s.next_change()
    return record


async def periods(s: Service, count: int) -> None:
    """Let ``count`` more checks of the branch head happen."""
    target = s.controller.checks + count
    async with asyncio.timeout(20):
        while s.controller.checks < target:
            await s.next_change()


def head(path: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()


async def test_a_notebook_builds_openvino_notebook_tagged_with_its_name(service, repo) -> None:
    s = await service()
    record = await s.controller.create("v1", {"git_uri": repo.as_uri()}, creator="admin")
    assert record.params == openvino.NotebookParams("v1", repo.as_uri())
    ready = await until(s, "v1", lambda r: r.state == READY)
    assert ready.tags == ("v1",) and ready.image == "openvino-notebook:v1"
    assert ready.commit == head(repo)
    assert ready.build_date and ready.latest_update_date and ready.message
    build = await s.manager.get(ready.build_id)
    request = build.request
    assert build.phase is Phase.SUCCESS and build.image == "openvino-notebook:v1"
    assert (request.name, request.build_type, request.tag) == (
        "openvino-notebook",
        BuildType.GIT_REPOSITORY,
        "v1",
    )
    assert request.git_ref == ready.commit  # pinned to the commit that was checked
    assert request.display_name == "OpenVINO™ Toolkit v1"
    assert ready.commit[:12] in request.description
    # a backend that builds environments gets openvino added; no Dockerfile strategy
    assert request.package_versions == ("openvino",) and request.strategy == ""
    # without auto-update nothing is checked again, even when the branch moves
    commit_files(repo, {"notebooks/new.ipynb": "{}"}, "a new notebook")
    await asyncio.sleep(10 * UNIT)
    assert s.manager.builds_started == 1 and s.controller.get("v1").commit == ready.commit


async def test_auto_update_rebuilds_once_per_new_commit_with_a_dated_tag(service, repo) -> None:
    s = await service()
    spec = {"git_uri": repo.as_uri(), "auto_update_image": True, "reconcile_duration_multiplier": 1}
    await s.controller.create("v1", spec, creator="admin")
    first = await until(s, "v1", lambda r: r.state == READY)
    await periods(s, 4)  # no new commit: checks, and no build
    assert s.manager.builds_started == 1
    assert s.controller.get("v1").tags == ("v1",) and s.controller.get("v1").last_check

    new = commit_files(repo, {"notebooks/new.ipynb": "{}"}, "a new notebook")
    second = await until(s, "v1", lambda r: len(r.tags) == 2 and r.state == READY)
    assert second.commit == new != first.commit
    assert second.tags[0] == "v1" and DATED.match(second.tags[1]), second.tags
    assert second.image == f"openvino-notebook:{second.tags[1]}"
    assert second.latest_update_date > first.latest_update_date
    await periods(s, 4)  # the same commit again: nothing
    assert s.manager.builds_started == 2
    assert s.controller.get("v1").tags == second.tags


async def test_an_unreachable_repository_warns_keeps_the_image_and_retries(
    service, repo, tmp_path
) -> None:
    s = await service()
    spec = {"git_uri": repo.as_uri(), "auto_update_image": True, "reconcile_duration_multiplier": 1}
    await s.controller.create("v1", spec, creator="admin")
    ready = await until(s, "v1", lambda r: r.state == READY)
    moved = tmp_path / "moved"
    shutil.move(repo, moved)  # the repository is gone
    warned = await until(s, "v1", lambda r: bool(r.warning))
    assert "could not be read" in warned.warning and "next check is in 1 min" in warned.warning
    assert warned.state == READY and warned.tags == ready.tags  # the last good image stays
    await periods(s, 2)  # tried again every period
    shutil.move(moved, repo)
    cleared = await until(s, "v1", lambda r: not r.warning)
    assert cleared.tags == ready.tags and s.manager.builds_started == 1


async def test_a_failed_first_build_is_retried_a_period_later(service, repo) -> None:
    s = await service(packages=["fail"])  # the scripted backend fails this build
    spec = {"git_uri": repo.as_uri(), "reconcile_duration_multiplier": 1}
    await s.controller.create("v1", spec, creator="admin")
    failed = await until(s, "v1", lambda r: r.state == FAILED)
    assert "failed" in failed.message and failed.tags == ()
    async with asyncio.timeout(20):
        while s.manager.builds_started < 2:  # the next period's attempt
            await s.next_change()


async def test_check_now_builds_a_moved_branch_without_auto_update(service, repo) -> None:
    s = await service()
    await s.controller.create("v1", {"git_uri": repo.as_uri()}, creator="admin")
    await until(s, "v1", lambda r: r.state == READY)
    same = await s.controller.check("v1")
    assert same.state == READY and s.manager.builds_started == 1
    new = commit_files(repo, {"README.md": "moved"}, "move the branch")
    checked = await s.controller.check("v1")
    assert checked.state == BUILDING
    done = await until(s, "v1", lambda r: r.state == READY)
    assert done.commit == new and len(done.tags) == 2


async def test_applying_another_branch_builds_it_at_once(service, repo) -> None:
    s = await service()
    await s.controller.apply("v1", {"git_uri": repo.as_uri()}, creator="cluster")
    first = await until(s, "v1", lambda r: r.state == READY)
    same = await s.controller.apply("v1", {"git_uri": repo.as_uri()}, creator="cluster")
    assert same == first  # nothing changed: nothing saved, nothing checked
    branch = ["git", "-C", str(repo), "checkout", "-q", "-b", "next"]
    await asyncio.to_thread(subprocess.run, branch, check=True)
    nxt = commit_files(repo, {"README.md": "next"}, "on another branch")
    await s.controller.apply("v1", {"git_uri": repo.as_uri(), "git_ref": "next"}, creator="c")
    second = await until(s, "v1", lambda r: r.state == READY and r.commit == nxt)
    assert second.params.git_ref == "next" and len(second.tags) == 2


async def test_bad_parameters_and_names_change_nothing(service, repo) -> None:
    s = await service()
    with pytest.raises(InvalidBuildRequest) as bad:
        await s.controller.create(
            "Bad_Name", {"git_uri": "ftp://x/y", "auto_update_image": "yes"}, creator="admin"
        )
    assert len(bad.value.problems) == 3
    with pytest.raises(InvalidBuildRequest):
        await s.controller.create("v1", {"reconcile_duration_multiplier": 0}, creator="admin")
    assert s.controller.list() == [] and await s.controller.store.all() == []
    await s.controller.create("v1", {"git_uri": repo.as_uri()}, creator="admin")
    with pytest.raises(Conflict):
        await s.controller.create("v1", {}, creator="other")
    await s.controller.delete("v1")
    with pytest.raises(NotFound):
        s.controller.get("v1")
    with pytest.raises(NotFound):
        await s.controller.check("v1")


async def test_a_restarted_service_follows_the_running_build(service, repo) -> None:
    s = await service(packages=["slow"])  # the scripted build holds until released
    await s.controller.create("v1", {"git_uri": repo.as_uri()}, creator="admin")
    building = await until(s, "v1", lambda r: r.state == BUILDING)
    await s.backend.building.wait()
    await stop(s)
    backend = ScriptedBackend()
    backend.release.set()  # the build went on meanwhile (reattached by the manager)
    again = await service(backend, packages=["slow"])
    assert again.controller.get("v1").build_id == building.build_id
    ready = await until(again, "v1", lambda r: r.state == READY)
    assert ready.tags == ("v1",) and again.manager.builds_started == 0


async def test_a_dockerfile_backend_gets_the_repository_s_dockerfile(service, repo) -> None:
    class DockerfileBackend(ScriptedBackend):
        builds_dockerfiles = True

    s = await service(DockerfileBackend())
    await s.controller.create("v1", {"git_uri": repo.as_uri()}, creator="admin")
    ready = await until(s, "v1", lambda r: r.state == READY)
    request = (await s.manager.get(ready.build_id)).request
    assert request.strategy == DOCKERFILE and request.package_versions == ()


async def test_stop_ends_the_checks_right_after_a_check(service, repo) -> None:
    s = await service()
    controller = s.controller
    spec = {"git_uri": repo.as_uri(), "auto_update_image": True, "reconcile_duration_multiplier": 5}
    await controller.create("nb", spec, creator="admin")
    await until(s, "nb", lambda r: r.state == READY, timeout=10)
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
    service, repo, auto_update: bool, next_words: str
) -> None:
    s = await service()
    controller = s.controller
    spec = {
        "git_uri": repo.as_uri(),
        "auto_update_image": auto_update,
        "reconcile_duration_multiplier": 5,
    }
    await controller.create("nb", spec, creator="admin")
    built = await until(s, "nb", lambda r: r.state == READY, timeout=10)
    gone = repo.with_name("gone")
    await asyncio.to_thread(repo.rename, gone)
    record = await controller.check("nb")
    assert record.warning.startswith(f"The repository {repo.as_uri()} could not be read")
    assert record.warning.endswith(f"The images stay as they are; {next_words}.")
    assert (record.state, record.tags, record.build_id) == (READY, ("nb",), built.build_id)
    await asyncio.to_thread(gone.rename, repo)
    assert (await controller.check("nb")).warning == ""
