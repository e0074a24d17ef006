"""The simulated Tekton controller: PipelineRuns' steps as processes, conditions, results,
the pushed image in its ImageStream, cancellation and the fault rules."""

# The client annotates bodies as models; it accepts dicts.
# mypy: disable-error-code="arg-type"

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from jupyterhub_ov_sim.cluster import SimulatedCluster
from jupyterhub_ov_sim.imagestreams import REGISTRY
from jupyterhub_ov_sim.pipelineruns import RunRules
from kubernetes_asyncio import client

from .helpers import eventually, watch_until

RUNS = ("tekton.dev", "v1", "default", "pipelineruns")
TASK_RUNS = ("tekton.dev", "v1", "default", "taskruns")
STREAMS = ("image.openshift.io", "v1", "default", "imagestreams")


def pipeline_run(name: str, steps: list[dict[str, Any]], **params: str) -> dict[str, Any]:
    names = list(params)
    return {
        "apiVersion": "tekton.dev/v1",
        "kind": "PipelineRun",
        "metadata": {"name": name, "labels": {"app": "test"}},
        "spec": {
            "pipelineSpec": {
                "params": [{"name": n, "type": "string"} for n in names],
                "workspaces": [{"name": "data"}],
                "tasks": [
                    {
                        "name": "build",
                        "params": [{"name": n, "value": f"$(params.{n})"} for n in names],
                        "workspaces": [{"name": "data", "workspace": "data"}],
                        "taskSpec": {
                            "params": [{"name": n} for n in names],
                            "workspaces": [{"name": "data"}],
                            "results": [{"name": "IMAGE_DIGEST"}, {"name": "IMAGE_URL"}],
                            "stepTemplate": {"env": [{"name": "FROM_TEMPLATE", "value": "t"}]},
                            "steps": steps,
                        },
                    }
                ],
                "results": [
                    {"name": "IMAGE_DIGEST", "value": "$(tasks.build.results.IMAGE_DIGEST)"}
                ],
            },
            "params": [{"name": n, "value": v} for n, v in params.items()],
            "workspaces": [{"name": "data", "emptyDir": {}}],
        },
    }


def ended(run: dict[str, Any]) -> bool:
    conditions = (run.get("status") or {}).get("conditions") or []
    return any(c["status"] in ("True", "False") for c in conditions)


def condition(run: dict[str, Any]) -> tuple[str, str, str]:
    (found,) = run["status"]["conditions"]
    return found["status"], found["reason"], found["message"]


async def finish(custom: client.CustomObjectsApi, name: str) -> dict[str, Any]:
    return await watch_until(
        custom.list_namespaced_custom_object, *RUNS, name=name, predicate=ended
    )


async def test_steps_run_in_order_and_the_pushed_image_reaches_its_stream(
    sim_cluster: SimulatedCluster, custom: client.CustomObjectsApi
) -> None:
    stream = {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStream",
        "metadata": {"name": "nb"},
    }
    await custom.create_namespaced_custom_object(*STREAMS, stream)
    image = f"{REGISTRY}/default/nb:v1"
    steps = [
        {
            "name": "write",
            "image": "quay.io/x/tools:1",
            "env": [{"name": "GREETING", "value": "hello $(params.who)"}],
            "script": 'printf "%s %s" "$GREETING" "$FROM_TEMPLATE"'
            ' > "$(workspaces.data.path)/out"\n',
        },
        {
            "name": "push",
            "image": "quay.io/x/tools:1",
            "command": ["/bin/sh", "-c"],
            "args": [
                'cat "$(workspaces.data.path)/out" > /dev/null'
                ' && printf sha256:abc > "$(results.IMAGE_DIGEST.path)"'
                ' && printf %s "$(params.image)" > "$(results.IMAGE_URL.path)"'
                ' && cp "$(workspaces.data.path)/out" "$0"',
                "$(params.copy)",
            ],
        },
    ]
    copied = sim_cluster.options.state_dir / "copied"
    copy = str(copied)
    created = await custom.create_namespaced_custom_object(
        *RUNS, pipeline_run("run-1", steps, who="tekton", image=image, copy=copy)
    )

    done = await finish(custom, "run-1")

    assert condition(done) == (
        "True",
        "Succeeded",
        "Tasks Completed: 1 (Failed: 0, Cancelled 0), Skipped: 0",
    )
    assert done["status"]["results"] == [{"name": "IMAGE_DIGEST", "value": "sha256:abc"}]
    assert "startTime" in done["status"] and "completionTime" in done["status"]
    assert done["status"]["childReferences"] == [
        {
            "apiVersion": "tekton.dev/v1",
            "kind": "TaskRun",
            "name": "run-1-build",
            "pipelineTaskName": "build",
        }
    ]
    assert await asyncio.to_thread(copied.read_text) == "hello tekton t"
    task_run = await custom.get_namespaced_custom_object(*TASK_RUNS, "run-1-build")
    assert task_run["metadata"]["ownerReferences"][0]["uid"] == created["metadata"]["uid"]
    assert task_run["metadata"]["labels"]["tekton.dev/pipelineRun"] == "run-1"
    assert condition(task_run)[:2] == ("True", "Succeeded")
    assert [(s["name"], s["terminated"]["exitCode"]) for s in task_run["status"]["steps"]] == [
        ("write", 0),
        ("push", 0),
    ]
    assert {r["name"]: r["value"] for r in task_run["status"]["results"]} == {
        "IMAGE_DIGEST": "sha256:abc",
        "IMAGE_URL": image,
    }
    published = await custom.get_namespaced_custom_object(*STREAMS, "nb")
    (tag,) = published["status"]["tags"]
    assert tag["tag"] == "v1"
    assert tag["items"][0]["dockerImageReference"] == f"{REGISTRY}/default/nb@sha256:abc"


async def test_a_failing_step_fails_the_run_and_the_later_steps_do_not_run(
    sim_cluster: SimulatedCluster, custom: client.CustomObjectsApi, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    steps = [
        {"name": "broken", "image": "i", "script": "echo no >&2\nexit 3\n"},
        {"name": "after", "image": "i", "script": f"touch {marker}\n"},
    ]
    await custom.create_namespaced_custom_object(*RUNS, pipeline_run("run-2", steps))

    done = await finish(custom, "run-2")

    assert condition(done) == (
        "False",
        "Failed",
        "Tasks Completed: 1 (Failed: 1, Cancelled 0), Skipped: 0",
    )
    task_run = await custom.get_namespaced_custom_object(*TASK_RUNS, "run-2-build")
    assert condition(task_run) == ("False", "Failed", '"step-broken" exited with code 3')
    assert not marker.exists()
    assert sim_cluster.pipelines is not None
    assert sim_cluster.pipelines.logs[("run-2-build", "broken")] == "no\n"


async def test_cancelling_kills_the_running_step(
    sim_cluster: SimulatedCluster, custom: client.CustomObjectsApi, tmp_path: Path
) -> None:
    pid_file = tmp_path / "pid"
    steps = [
        {"name": "slow", "image": "i", "script": f"echo $$ > {pid_file}\nexec sleep 600\n"},
        {"name": "never", "image": "i", "script": "true\n"},
    ]
    await custom.create_namespaced_custom_object(*RUNS, pipeline_run("run-3", steps))
    await eventually(lambda: pid_file.exists() and bool(pid_file.read_text().strip()))
    pid = int(pid_file.read_text())

    await custom.patch_namespaced_custom_object(
        *RUNS,
        "run-3",
        {"spec": {"status": "Cancelled"}},
        _content_type="application/merge-patch+json",
    )
    done = await finish(custom, "run-3")

    assert condition(done) == ("False", "Cancelled", 'PipelineRun "run-3" was cancelled')
    task_run = await custom.get_namespaced_custom_object(*TASK_RUNS, "run-3-build")
    assert condition(task_run)[:2] == ("False", "TaskRunCancelled")
    assert sim_cluster.pipelines is not None
    assert sim_cluster.pipelines.rules.cancelled == ["run-3"]
    await eventually(lambda: not _alive(pid))


async def test_rules_fail_or_hold_the_last_step_of_the_runs_they_match(
    sim_cluster: SimulatedCluster, custom: client.CustomObjectsApi, tmp_path: Path
) -> None:
    assert sim_cluster.pipelines is not None
    rules = RunRules(fail=lambda r: r.run == "failing", hold=lambda r: r.params.get("p") == "hold")
    sim_cluster.pipelines.rules = rules
    marker = tmp_path / "last"
    steps = [
        {"name": "first", "image": "i", "script": "true\n"},
        {"name": "last", "image": "i", "script": f"touch {marker}\n"},
    ]
    await custom.create_namespaced_custom_object(*RUNS, pipeline_run("failing", steps, p="x"))
    await custom.create_namespaced_custom_object(*RUNS, pipeline_run("held", steps, p="hold"))

    failed = await finish(custom, "failing")
    await eventually(lambda: rules.holding == {"held"})

    assert condition(failed)[:2] == ("False", "Failed")
    assert not marker.exists()  # the failing run's last step was not run, the held one waits
    rules.release()
    assert condition(await finish(custom, "held"))[:2] == ("True", "Succeeded")
    assert marker.exists()
    assert [(i.run, dict(i.params)) for i in rules.inputs] == [
        ("failing", {"p": "x"}),
        ("held", {"p": "hold"}),
    ]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
