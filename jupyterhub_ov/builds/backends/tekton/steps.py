"""The cluster steps of a Tekton image build: the OpenShift backend's, with a PipelineRun.

`TektonSteps` is `openshift.steps.ImageSteps` (the notebook stream, imports, the validation
pod, publishing and undoing all of it) with the build engine swapped: it starts or joins the
PipelineRun ``<name>-<tag>`` (`manifests.pipeline_run`), follows it by watch to the end of
its ``Succeeded`` condition, reads the pushed digest from its ``IMAGE_DIGEST`` result and
cancels it with ``spec.status: Cancelled``.
"""

from __future__ import annotations

import logging
from typing import Any

from jupyterhub_ov.builds.model.spec import ResolvedBuild
from jupyterhub_ov.kube.client import KubeIO

from ...errors import BuildFailed
from ..openshift import objects
from ..openshift.steps import Attempt, ImageSteps, StepSettings
from . import manifests, status
from .manifests import PIPELINE_RUNS, TASK_RUNS, RunSettings


class TektonSteps(ImageSteps):
    def __init__(
        self, kube: KubeIO, settings: StepSettings, run: RunSettings, log: logging.Logger
    ) -> None:
        super().__init__(kube, settings, log)
        self.run = run

    async def start_build(self, attempt: Attempt) -> str:
        """Create the PipelineRun, or join it while it runs; a finished one is run again."""
        resolved, report = attempt.resolved, attempt.report
        body = manifests.pipeline_run(resolved, namespace=self.kube.namespace, settings=self.run)
        name = body["metadata"]["name"]
        existing = await self.kube.get(PIPELINE_RUNS, name)
        if existing is not None and _joinable(existing):
            await report.log(f"Joining the running PipelineRun {name}")
        else:
            if existing is not None:  # an earlier attempt's: a run cannot be started again
                await self.kube.delete(PIPELINE_RUNS, name)
            run, created = await self.kube.ensure(PIPELINE_RUNS, body)
            if not created and not _joinable(run):
                raise BuildFailed(f"The PipelineRun {name} was made again meanwhile; retry.")
            await report.log(f"Started the PipelineRun {name}")
        await report.remember(name)
        return name

    async def running_build(self, resolved: ResolvedBuild) -> str:
        """The build's PipelineRun while it still works, or ``""``."""
        name = objects.instance_name(resolved)
        run = await self.kube.get(PIPELINE_RUNS, name)
        return name if run is not None and _joinable(run) else ""

    async def working_builds(self) -> list[tuple[str, str]]:
        """Every PipelineRun of ours that still works: (its name, its instance label)."""
        selector = f"{objects.LABEL_PART_OF}={objects.PART_OF}"
        return [
            (
                r["metadata"]["name"],
                (r["metadata"].get("labels") or {}).get(objects.LABEL_INSTANCE, ""),
            )
            for r in await self.kube.list(PIPELINE_RUNS, selector)
            if _joinable(r)
        ]

    async def follow_build(self, attempt: Attempt) -> str:
        """Wait (by watch) for the run to end; the digest it pushed."""
        name, report = attempt.build, attempt.report
        await self.kube.wait_for(PIPELINE_RUNS, name, status.started)
        await report.log(f"The PipelineRun {name} is running")
        finished = await self.kube.wait_for(PIPELINE_RUNS, name, lambda r: status.run_state(r).done)
        state = status.run_state(finished)
        await report.log(f"The PipelineRun {name} ended {state.state} ({state.reason})")
        if state.state != status.SUCCEEDED:
            raise BuildFailed(status.failure(finished, await self._task_runs(finished)))
        return self._digest(finished)

    def _digest(self, run: dict[str, Any]) -> str:
        digest = status.result(run)
        if not digest:
            name = run["metadata"]["name"]
            raise BuildFailed(f"The PipelineRun {name} succeeded without an IMAGE_DIGEST result")
        return digest

    async def _task_runs(self, run: dict[str, Any]) -> list[dict[str, Any]]:
        found = []
        for name in status.task_run_names(run):
            try:
                task_run = await self.kube.get(TASK_RUNS, name)
            except Exception as e:  # the run's own message still says why
                self.log.warning("Could not read the TaskRun %s: %s", name, e)
                continue
            if task_run is not None:
                found.append(task_run)
        return found

    async def build_exists(self, name: str) -> bool:
        return await self.kube.get(PIPELINE_RUNS, name) is not None

    async def finished_digest(self, name: str) -> str:
        run = await self.kube.get(PIPELINE_RUNS, name)
        if run is None:
            raise BuildFailed(f"The PipelineRun {name} no longer exists; retry the build.")
        return self._digest(run)

    async def discard_build(self, attempt: Attempt) -> None:
        """Delete a cancelled PipelineRun; its TaskRuns and pods are its dependents."""
        await self.kube.delete(PIPELINE_RUNS, attempt.build)

    async def cancel_build(self, name: str) -> None:
        """What ``tkn pipelinerun cancel`` does: set ``spec.status: Cancelled``."""

        def cancel(run: dict[str, Any]) -> bool:
            if status.run_state(run).done or status.cancel_requested(run):
                return False
            run["spec"] = manifests.cancel(run)["spec"]
            return True

        await self.kube.update(PIPELINE_RUNS, name, cancel)


def _joinable(run: dict[str, Any]) -> bool:
    return not status.run_state(run).done and not status.cancel_requested(run)
