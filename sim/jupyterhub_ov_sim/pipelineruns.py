"""A minimal simulated Tekton controller for ``tekton.dev/v1`` PipelineRuns: a test double.

A PipelineRun with an embedded ``pipelineSpec`` (tasks with an embedded ``taskSpec``, run in
their order) is run as Tekton would: each task gets a TaskRun ``<run>-<task>`` (owned by the
run, listed in ``status.childReferences``) and its steps run one after the other as local
processes (`steps`), with ``$(params.*)``, ``$(workspaces.*.path)``, ``$(results.*.path)``
and ``$(context.pipelineRun.name)`` replaced. The ``Succeeded`` condition goes Unknown
(Running) -> True (Succeeded), or False (Failed) with the step's ``"step-<name>" exited with
code N``, or False (Cancelled) once ``spec.status`` says ``Cancelled`` (the processes are
killed). Task results become pipeline results (``$(tasks.<t>.results.<r>)``). A task whose
``IMAGE_URL`` result names the internal registry's repository of an existing ImageStream,
with an ``IMAGE_DIGEST``, has pushed that image: the tag appears in the stream's
``status.tags`` as after a Build. Not simulated: ``runAfter``, ``finally``, timeouts,
``taskRef``/``pipelineRef``, sidecars, pods.

What goes wrong is the `RunRules`' say, like `buildbehaviours.RecordingBuilds`: ``fail``
makes a matching run's last step exit 1 without running it, ``hold`` makes it wait before
that step until `RunRules.release`. Part of the cluster simulator (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .builds import record_push
from .controller import Controller
from .errors import ApiError
from .imagestreams import REGISTRY
from .kinds import ResourceKind
from .meta import now
from .steps import StepProcess, StepRunner, substitute
from .store import ObjectStore
from .watchcache import WatchEvent

GROUP = ("tekton.dev", "v1")
CANCEL_VALUES = frozenset({"Cancelled", "CancelledRunFinally", "StoppedRunFinally"})


@dataclass(frozen=True)
class RunInput:
    """What one PipelineRun was asked to do."""

    run: str
    params: Mapping[str, str]
    labels: Mapping[str, str] = field(default_factory=dict)


RunRule = Callable[[RunInput], bool]


def never(_: RunInput) -> bool:
    return False


class RunRules:
    """Fault rules of the simulated Tekton controller, and what it saw (see the module)."""

    def __init__(self, *, fail: RunRule = never, hold: RunRule = never) -> None:
        self.fail = fail
        self.hold = hold
        self.inputs: list[RunInput] = []
        #: runs whose work was cancelled (spec.status, deletion)
        self.cancelled: list[str] = []
        #: runs waiting before their last step (see ``hold``)
        self.holding: set[str] = set()
        self._released = asyncio.Event()

    def release(self) -> None:
        self._released.set()

    async def wait(self, run: str) -> None:
        self.holding.add(run)
        try:
            await self._released.wait()
        finally:
            self.holding.discard(run)


def condition(status: str, reason: str, message: str) -> dict[str, Any]:
    return {
        "type": "Succeeded",
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": now(),
    }


def _summary(done: int, failed: int, cancelled: int) -> str:
    return f"Tasks Completed: {done} (Failed: {failed}, Cancelled {cancelled}), Skipped: 0"


class PipelineRunController(Controller):
    """Runs PipelineRuns' tasks as local processes (see the module docstring)."""

    component = "tekton-pipelines-controller"
    watched = ((*GROUP, "pipelineruns"),)

    def __init__(
        self,
        store: ObjectStore,
        *,
        workdir: Path,
        rules: RunRules | None = None,
        image_env: Mapping[str, Mapping[str, str]] | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(store)
        self.rules = rules or RunRules()
        self.workdir = workdir
        self.runner = StepRunner(image_env or {}, extra_env or {})
        self.runs = self.kind(*GROUP, "pipelineruns")
        self.task_runs = self.kind(*GROUP, "taskruns")
        self.streams = self.kind("image.openshift.io", "v1", "imagestreams")
        self._running: dict[str, asyncio.Task[Any]] = {}  # run uid -> its work
        #: (TaskRun name, step name) -> what the step wrote (stdout and stderr)
        self.logs: dict[tuple[str, str], str] = {}

    def on_event(self, kind: ResourceKind, event: WatchEvent) -> None:
        run = event.obj
        uid = run["metadata"]["uid"]
        if event.type == "DELETED":
            self._stop(uid, run["metadata"]["name"])
            return
        conditions = (run.get("status") or {}).get("conditions") or []
        done = any(c.get("status") in ("True", "False") for c in conditions)
        if done:
            return
        if (run.get("spec") or {}).get("status") in CANCEL_VALUES:
            self._stop(uid, run["metadata"]["name"])
            self.spawn(self._cancelled(run))
        elif uid not in self._running:
            self._running[uid] = self.spawn(self._run(run))

    def _stop(self, uid: str, name: str) -> None:
        task = self._running.pop(uid, None)
        if task is not None and not task.done():
            task.cancel()
            self.rules.cancelled.append(name)

    async def _cancelled(self, run: dict[str, Any]) -> None:
        message = f'PipelineRun "{run["metadata"]["name"]}" was cancelled'
        for child in (run.get("status") or {}).get("childReferences") or []:
            task_run = self._get(self.task_runs, run["metadata"]["namespace"], child["name"])
            if task_run is not None and not _ended(task_run):
                self._finish(self.task_runs, task_run, "False", "TaskRunCancelled", message)
        self._finish(self.runs, run, "False", "Cancelled", message)
        self.record_event(run, "Cancelled", message)

    def _get(self, kind: ResourceKind, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return self.store.get(kind, namespace, name)
        except ApiError:
            return None

    def _finish(
        self, kind: ResourceKind, obj: dict[str, Any], value: str, reason: str, message: str
    ) -> None:
        status = {"conditions": [condition(value, reason, message)], "completionTime": now()}
        self.merge_status(kind, obj, status)

    async def _run(self, run: dict[str, Any]) -> None:
        md, spec = run["metadata"], run.get("spec") or {}
        pipeline = spec.get("pipelineSpec") or {}
        params = {p["name"]: str(p.get("default", "")) for p in pipeline.get("params") or []}
        params.update({p["name"]: str(p.get("value", "")) for p in spec.get("params") or []})
        inputs = RunInput(md["name"], params, dict(md.get("labels") or {}))
        self.rules.inputs.append(inputs)
        root = self.workdir / md["uid"]
        workspaces = {
            w["name"]: str(root / "workspaces" / w["name"])
            for w in pipeline.get("workspaces") or []
        }
        start = {
            "startTime": now(),
            "conditions": [condition("Unknown", "Running", _summary(0, 0, 0))],
        }
        self.merge_status(self.runs, run, start)
        results: dict[str, dict[str, str]] = {}
        try:
            for number, task in enumerate(pipeline.get("tasks") or []):
                last = number == len(pipeline["tasks"]) - 1
                task_params = {
                    p["name"]: substitute(str(p.get("value", "")), {"params": params})
                    for p in task.get("params") or []
                }
                outcome = await self._task(run, task, task_params, workspaces, root, inputs, last)
                if isinstance(outcome, str):
                    summary = _summary(number + 1, 1, 0)
                    self._finish(self.runs, run, "False", "Failed", summary)
                    return
                results[task["name"]] = outcome
            self._succeed(run, pipeline, results, number_of=len(results))
        finally:
            if self._running.get(md["uid"]) is asyncio.current_task():
                del self._running[md["uid"]]
            await asyncio.to_thread(shutil.rmtree, root, True)

    def _succeed(
        self,
        run: dict[str, Any],
        pipeline: dict[str, Any],
        results: dict[str, dict[str, str]],
        number_of: int,
    ) -> None:
        values = {f"tasks.{t}.results.{r}": v for t, rs in results.items() for r, v in rs.items()}
        pipeline_results = [
            {"name": r["name"], "value": substitute(str(r.get("value", "")), {"": values})}
            for r in pipeline.get("results") or []
        ]
        status = {
            "conditions": [condition("True", "Succeeded", _summary(number_of, 0, 0))],
            "completionTime": now(),
            "results": pipeline_results,
        }
        self.merge_status(self.runs, run, status)
        for task_results in results.values():
            self._publish(run["metadata"]["namespace"], task_results)

    async def _task(
        self,
        run: dict[str, Any],
        task: dict[str, Any],
        params: dict[str, str],
        workspaces: dict[str, str],
        root: Path,
        inputs: RunInput,
        last_task: bool,
    ) -> dict[str, str] | str:
        """Run one task's TaskRun; its results, or the failure message."""
        task_run = self._create_task_run(run, task, params)
        name = task_run["metadata"]["name"]
        task_spec = task.get("taskSpec") or {}
        results_dir = root / task["name"] / "results"
        await asyncio.to_thread(results_dir.mkdir, parents=True, exist_ok=True)
        for path in workspaces.values():
            await asyncio.to_thread(Path(path).mkdir, parents=True, exist_ok=True)
        values = {
            "params": {**_defaults(task_spec), **params},
            "workspaces": {f"{w}.path": p for w, p in workspaces.items()},
            "results": {
                f"{r['name']}.path": str(results_dir / r["name"])
                for r in task_spec.get("results") or []
            },
            "context": {"pipelineRun.name": run["metadata"]["name"], "taskRun.name": name},
        }
        steps = task_spec.get("steps") or []
        template = task_spec.get("stepTemplate") or {}
        states: list[dict[str, Any]] = []
        for number, step in enumerate(steps):
            last = last_task and number == len(steps) - 1
            if last and self.rules.hold(inputs):
                await self.rules.wait(inputs.run)
            process = StepProcess(step, template, values, cwd=root / "workspace")
            if last and self.rules.fail(inputs):
                code, output = 1, "error: the step failed\n"
            else:
                code, output = await self.runner.run(process)
            self.logs[(name, step["name"])] = output
            states.append(_terminated(step["name"], code))
            self.merge_status(self.task_runs, task_run, {"steps": list(states)})
            if code != 0:
                message = f'"step-{step["name"]}" exited with code {code}'
                self._finish(self.task_runs, task_run, "False", "Failed", message)
                return message
        found = await asyncio.to_thread(_read_results, results_dir)
        results = [{"name": k, "type": "string", "value": v} for k, v in found.items()]
        status = {
            "conditions": [condition("True", "Succeeded", "All Steps have completed executing")],
            "completionTime": now(),
            "results": results,
        }
        self.merge_status(self.task_runs, task_run, status)
        return found

    def _create_task_run(
        self, run: dict[str, Any], task: dict[str, Any], params: dict[str, str]
    ) -> dict[str, Any]:
        md = run["metadata"]
        name = f"{md['name']}-{task['name']}"
        body = {
            "apiVersion": "tekton.dev/v1",
            "kind": "TaskRun",
            "metadata": {
                "name": name,
                "labels": {
                    **(md.get("labels") or {}),
                    "tekton.dev/pipelineRun": md["name"],
                    "tekton.dev/pipelineTask": task["name"],
                },
                "ownerReferences": [
                    {
                        "apiVersion": "tekton.dev/v1",
                        "kind": "PipelineRun",
                        "name": md["name"],
                        "uid": md["uid"],
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "spec": {
                "params": [{"name": k, "value": v} for k, v in params.items()],
                "taskSpec": task.get("taskSpec") or {},
            },
        }
        created = self.store.create(self.task_runs, md["namespace"], body)
        running = condition(
            "Unknown", "Running", "Not all Steps in the Task have finished executing"
        )
        status = {"podName": f"{name}-pod", "startTime": now(), "conditions": [running]}
        self.merge_status(self.task_runs, created, status)
        child = {
            "apiVersion": "tekton.dev/v1",
            "kind": "TaskRun",
            "name": name,
            "pipelineTaskName": task["name"],
        }
        current = self._get(self.runs, md["namespace"], md["name"]) or run
        children = [*((current.get("status") or {}).get("childReferences") or []), child]
        self.merge_status(self.runs, run, {"childReferences": children})
        return created

    def _publish(self, namespace: str, results: Mapping[str, str]) -> None:
        """What the internal registry does on a push to an ImageStream's repository."""
        url, digest = results.get("IMAGE_URL", ""), results.get("IMAGE_DIGEST", "")
        prefix = f"{REGISTRY}/{namespace}/"
        if not (url.startswith(prefix) and digest and ":" in url[len(prefix) :]):
            return
        stream_name, _, tag = url[len(prefix) :].partition(":")
        record_push(self.store, self.streams, namespace, stream_name, tag, digest)


def _defaults(task_spec: Mapping[str, Any]) -> dict[str, str]:
    return {p["name"]: str(p["default"]) for p in task_spec.get("params") or [] if "default" in p}


def _ended(obj: Mapping[str, Any]) -> bool:
    conditions = (obj.get("status") or {}).get("conditions") or []
    return any(c.get("status") in ("True", "False") for c in conditions)


def _terminated(step: str, code: int) -> dict[str, Any]:
    reason = "Completed" if code == 0 else "Error"
    return {
        "name": step,
        "container": f"step-{step}",
        "terminated": {"exitCode": code, "reason": reason, "finishedAt": now()},
    }


def _read_results(directory: Path) -> dict[str, str]:
    return {p.name: p.read_text().strip() for p in sorted(directory.iterdir()) if p.is_file()}
