"""The Tekton backend against the simulator, beyond the contract suite: the verbs it uses
are those deploy/builder-tekton-rbac.yaml grants, a retry runs the recipe again, a failure
says which step failed, and a restarted service follows a running PipelineRun again."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from kubespawner import KubeSpawner

from jupyterhub_ov.builds.backends.base import DETACH
from jupyterhub_ov.builds.backends.tekton import manifests, status
from jupyterhub_ov.builds.errors import BuildFailed
from jupyterhub_ov.builds.model import phases, spec
from tests.builds.cases import FAIL, SLOW, offered_within
from tests.builds.cases.openshift import case_in, settled
from tests.builds.cases.tekton import BUILDAH, FLAVOUR, GIT, S2I, TektonCase, tools
from tests.builds.harness import resolve, run_build
from tests.util import REPO

RBAC = REPO / "deploy" / "builder-tekton-rbac.yaml"


#: imports take a moment, so the backend waits for them by watch as in a real cluster
SLOW_IMPORTS = dataclasses.replace(
    FLAVOUR, cluster=lambda root: {**tools(root), "import_delay": 0.3}
)


@pytest.fixture
async def tekton(tmp_path: Path) -> AsyncIterator[TektonCase]:
    images = {"buildah_image": BUILDAH, "git_image": GIT, "s2i_image": S2I}
    async with case_in(tmp_path, flavour=SLOW_IMPORTS, **images) as the_case:
        assert isinstance(the_case, TektonCase)
        yield the_case


def granted() -> set[tuple[str, str]]:
    """(verb, resource) pairs the Role of deploy/builder-tekton-rbac.yaml grants."""
    pairs = set()
    for document in yaml.safe_load_all(RBAC.read_text()):
        for rule in document.get("rules") or ():
            pairs |= {(v, r) for v in rule["verbs"] for r in rule["resources"]}
    return pairs


async def test_a_failure_names_the_step_and_a_retry_runs_the_recipe_again(
    tekton: TektonCase,
) -> None:
    resolved, reporter = await resolve(
        tekton.backend, tekton.request(spec.BuildType.GIT_REPOSITORY, FAIL)
    )
    with pytest.raises(BuildFailed) as failed:
        await tekton.backend.build(resolved, reporter)
    name = manifests.pipeline_run(
        resolved,
        namespace="default",
        settings=tekton.backend.run_settings,  # type: ignore[attr-defined]
    )["metadata"]["name"]
    assert str(failed.value) == (
        f"The PipelineRun {name} ended failed (Failed):"
        " Tasks Completed: 1 (Failed: 1, Cancelled 0), Skipped: 0\n"
        f'{name}-build: "step-push" exited with code 1'
    )
    (first,) = await tekton.cluster_builds(resolved)

    tekton.rules.fail = lambda run: False  # the cause is gone: the retry succeeds
    again, retry = await resolve(tekton.backend, resolved.request)
    published = await tekton.backend.build(again, retry)

    (second,) = await tekton.cluster_builds(resolved)
    assert second["metadata"]["uid"] != first["metadata"]["uid"]
    assert status.run_state(second).state == status.SUCCEEDED
    assert published.image == resolved.image
    inputs = [i for i in tekton.rules.inputs if i.run == name]
    assert len(inputs) == 2 and inputs[0].params == inputs[1].params


async def test_a_restarted_service_follows_the_running_pipeline_run_again(
    tekton: TektonCase,
) -> None:
    resolved, reporter = await resolve(
        tekton.backend, tekton.request(spec.BuildType.PACKAGE_LIST, SLOW)
    )
    first = asyncio.create_task(tekton.backend.build(resolved, reporter))
    await tekton.working(resolved, reporter)
    run = reporter.remembered[-1]
    first.cancel(DETACH)
    with pytest.raises(asyncio.CancelledError):
        await first
    await tekton.backend.stop()
    running = await tekton.observer.get(manifests.PIPELINE_RUNS, run)
    assert running is not None and not status.run_state(running).done
    assert not status.cancel_requested(running)

    restarted = tekton.new_backend()
    await restarted.start()
    finishing = asyncio.create_task(restarted.reattach(resolved, run, reporter))
    await reporter.until(lambda: f"Reattached to the cluster build {run}" in reporter.lines)
    tekton.rules.release()
    published = await finishing
    await reporter.succeed()

    assert reporter.path == phases.PATHS[spec.BuildType.PACKAGE_LIST]
    assert reporter.remembered == [run, f"{run}/validating"]
    assert (await offered_within(tekton, published.image))[published.image] == published.reference


async def test_the_backend_uses_exactly_the_verbs_its_rbac_file_grants(
    tekton: TektonCase,
) -> None:
    await KubeSpawner._stop_all_reflectors()  # the menu's catalog: the hub's, not ours
    KubeSpawner.reflectors.clear()
    counters = tekton.cluster.server.counters
    counters.reset()
    backend = tekton.backend
    for build_type in spec.BUILD_TYPES:
        await run_build(backend, tekton.request(build_type))
    failing, reporter = await resolve(backend, tekton.request(spec.BuildType.PACKAGE_LIST, FAIL))
    with pytest.raises(BuildFailed):
        await backend.build(failing, reporter)
    tekton.rules.fail = lambda run: False
    await run_build(backend, failing.request)  # the failed run is deleted and made again
    slow, reporter = await resolve(backend, tekton.request(spec.BuildType.PACKAGE_LIST, SLOW))
    task = asyncio.create_task(backend.build(slow, reporter))
    await tekton.working(slow, reporter)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    used = {pair for pair, n in counters.snapshot().items() if n}
    assert used == granted()


def test_the_rbac_file_names_its_backend_and_grants_no_secrets() -> None:
    text = RBAC.read_text()
    assert "TektonBuildBackend" in text
    assert not {r for _, r in granted()} & {"secrets", "configmaps", "pipelines", "tasks"}


async def test_a_cancel_deletes_the_pipeline_run_and_its_task_runs(tekton: TektonCase) -> None:
    resolved, reporter = await resolve(
        tekton.backend, tekton.request(spec.BuildType.GIT_REPOSITORY, SLOW)
    )
    task = asyncio.create_task(tekton.backend.build(resolved, reporter))
    await tekton.working(resolved, reporter)
    run = reporter.remembered[-1]
    assert await tekton.observer.get(manifests.TASK_RUNS, f"{run}-build") is not None

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert await settled(lambda: run in tekton.rules.cancelled)
    assert await tekton.observer.get(manifests.PIPELINE_RUNS, run) is None
    async with asyncio.timeout(10):  # the garbage collector deletes the TaskRun
        while await tekton.observer.get(manifests.TASK_RUNS, f"{run}-build"):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
