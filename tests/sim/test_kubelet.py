# The client annotates bodies as models and hides _content_type; it accepts dicts and both.
# mypy: disable-error-code="arg-type, call-arg"
"""The simulated kubelet: pods run as real local processes with their own loopback IPs."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from kubernetes_asyncio import client

from .conftest import Cluster
from .helpers import eventually, watch_until

PY = sys.executable
DUMP_ENV = "import json, os, sys; json.dump(dict(os.environ), open(sys.argv[1], 'w'))"
SERVE = "import http.server, sys; http.server.test(http.server.SimpleHTTPRequestHandler, port=int(sys.argv[1]), bind=sys.argv[2])"  # noqa: E501
SLEEP = "import time; time.sleep(600)"


def pod(name: str, args: list[str], **spec: Any) -> dict[str, Any]:
    container = {"name": "notebook", "image": "sim/python", "command": [PY], "args": args}
    container.update(spec.pop("container", {}))
    return {
        "metadata": {"name": name, "labels": {"app": "test"}},
        "spec": {"restartPolicy": "Never", "containers": [container], **spec},
    }


def phase_is(*phases: str) -> Any:
    return lambda obj: obj.get("status", {}).get("phase") in phases


def ready(obj: dict[str, Any]) -> bool:
    statuses = obj.get("status", {}).get("containerStatuses") or [{}]
    return obj["status"].get("phase") == "Running" and statuses[0].get("ready") is True


async def events_for(core: client.CoreV1Api, name: str) -> list[tuple[str, str]]:
    listed = await core.list_namespaced_event(
        "default", field_selector=f"involvedObject.name={name}"
    )
    return [(e.reason, e.type) for e in listed.items]


async def test_pod_runs_and_succeeds(cluster: Cluster, core: client.CoreV1Api) -> None:
    await core.create_namespaced_pod("default", pod("ok", ["-c", "print('hello')"]))
    done = await watch_until(
        core.list_namespaced_pod, "default", name="ok", predicate=phase_is("Succeeded", "Failed")
    )
    assert done["status"]["phase"] == "Succeeded"
    state = done["status"]["containerStatuses"][0]["state"]
    assert state["terminated"]["exitCode"] == 0
    assert state["terminated"]["reason"] == "Completed"
    assert done["spec"]["nodeName"] == "sim-node"
    reasons = [reason for reason, _ in await events_for(core, "ok")]
    assert reasons == ["Scheduled", "Pulled", "Created", "Started"]
    log = next(cluster.kubelet.workdir.glob("pods/default_ok_*/container.log"))
    assert log.read_text() == "hello\n"


async def test_failed_exit_code(cluster: Cluster, core: client.CoreV1Api) -> None:
    await core.create_namespaced_pod("default", pod("bad", ["-c", "raise SystemExit(3)"]))
    done = await watch_until(
        core.list_namespaced_pod, "default", name="bad", predicate=phase_is("Succeeded", "Failed")
    )
    assert done["status"]["phase"] == "Failed"
    terminated = done["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (3, "Error")


def waiting_state(pod: dict[str, Any]) -> dict[str, Any] | None:
    statuses = pod["status"].get("containerStatuses") or [{}]
    return statuses[0].get("state", {}).get("waiting")


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (
            ["/nonexistent/binary"],
            'container create failed: exec: "/nonexistent/binary": stat /nonexistent/binary:'
            " no such file or directory",
        ),
        (
            ["no-such-program-here", "--flag"],
            'container create failed: exec: "no-such-program-here":'
            " executable file not found in $PATH",
        ),
        ([], "no command specified (container 'notebook': image 'sim/python'"),
    ],
    ids=["absolute path", "not on PATH", "no command"],
)
async def test_a_container_it_cannot_run_waits_in_create_container_error(
    cluster: Cluster, core: client.CoreV1Api, command: list[str], message: str
) -> None:
    """As a kubelet reports it: Pending, waiting with the runtime's message, a Failed event."""
    body = pod("nothing", [], container={"command": command, "image": "sim/python"})
    if not command:
        body["spec"]["containers"][0].pop("command")
        body["spec"]["containers"][0].pop("args", None)
    await core.create_namespaced_pod("default", body)
    stuck = await watch_until(
        core.list_namespaced_pod,
        "default",
        name="nothing",
        predicate=lambda p: bool(waiting_state(p)),
    )
    waiting = waiting_state(stuck)
    assert waiting is not None and waiting["reason"] == "CreateContainerError"
    assert waiting["message"].startswith(message)
    assert stuck["status"]["phase"] == "Pending"
    conditions = {c["type"]: c["status"] for c in stuck["status"]["conditions"]}
    assert conditions["Ready"] == conditions["ContainersReady"] == "False"
    events = await core.list_namespaced_event(
        "default", field_selector="involvedObject.name=nothing"
    )
    failed = [e for e in events.items if e.reason == "Failed"]
    assert [(e.type, e.message) for e in failed] == [("Warning", f"Error: {waiting['message']}")]
    assert failed[0].source.component == "kubelet"
    assert not any(e.reason == "Started" for e in events.items)
    runtime = next(r for r in cluster.kubelet.pods.values() if r.name == "nothing")
    assert runtime.process is None  # nothing was started


async def test_running_pod_is_ready_with_its_own_ip(
    cluster: Cluster, core: client.CoreV1Api
) -> None:
    await core.create_namespaced_pod("default", pod("a", ["-c", SLEEP]))
    await core.create_namespaced_pod("default", pod("b", ["-c", SLEEP]))
    a = await watch_until(core.list_namespaced_pod, "default", name="a", predicate=ready)
    b = await watch_until(core.list_namespaced_pod, "default", name="b", predicate=ready)
    assert a["status"]["podIP"] != b["status"]["podIP"]
    for running in (a, b):
        assert running["status"]["podIP"].startswith("127.")
        container = running["status"]["containerStatuses"][0]
        assert container["state"]["running"]["startedAt"]
        assert container["name"] == "notebook"
        conditions = {c["type"]: c["status"] for c in running["status"]["conditions"]}
        assert conditions["Ready"] == "True"


async def test_environment_and_volumes(
    cluster: Cluster, core: client.CoreV1Api, tmp_path: Path
) -> None:
    await core.create_namespaced_secret(
        "default", {"metadata": {"name": "creds"}, "stringData": {"KEY": "s3cr3t"}}
    )
    await core.create_namespaced_config_map(
        "default", {"metadata": {"name": "cfg"}, "data": {"BUCKET_NAME": "b1", "file.txt": "x"}}
    )
    await core.create_namespaced_persistent_volume_claim(
        "default",
        {
            "metadata": {"name": "home"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}},
            },
        },
    )
    env = [
        {"name": "NB_USER", "value": "jovyan"},
        {"name": "NOTEBOOK_DIR", "value": "/home/$(NB_USER)/work"},
        {
            "name": "AWS_SECRET_ACCESS_KEY",
            "valueFrom": {"secretKeyRef": {"name": "creds", "key": "KEY"}},
        },
        {
            "name": "BUCKET_NAME",
            "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "BUCKET_NAME"}},
        },
        {"name": "MY_POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "MY_POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "SERVICE_URL", "value": "http://0.0.0.0:8888/user/ann/"},
    ]
    mounts = [
        {"name": "home", "mountPath": "/home/jovyan"},
        {"name": "cfg", "mountPath": "/etc/cfg"},
    ]
    volumes = [
        {"name": "home", "persistentVolumeClaim": {"claimName": "home"}},
        {"name": "cfg", "configMap": {"name": "cfg"}},
    ]
    body = pod(
        "envy",
        ["-c", DUMP_ENV, "/home/jovyan/env.json"],
        container={"env": env, "volumeMounts": mounts, "workingDir": "/home/jovyan"},
        volumes=volumes,
    )
    await core.create_namespaced_pod("default", body)
    done = await watch_until(
        core.list_namespaced_pod, "default", name="envy", predicate=phase_is("Succeeded", "Failed")
    )
    assert done["status"]["phase"] == "Succeeded"
    claim = await core.read_namespaced_persistent_volume_claim("home", "default")
    volume = await core.read_persistent_volume(claim.spec.volume_name)
    home = Path(volume.spec.host_path.path)
    seen = json.loads((home / "env.json").read_text())
    ip = done["status"]["podIP"]
    assert seen["AWS_SECRET_ACCESS_KEY"] == "s3cr3t"
    assert seen["BUCKET_NAME"] == "b1"
    assert seen["MY_POD_NAME"] == "envy"
    assert seen["MY_POD_IP"] == ip
    assert seen["NOTEBOOK_DIR"] == f"{home}/work"
    assert seen["SERVICE_URL"] == f"http://{ip}:8888/user/ann/"
    assert seen["HOSTNAME"] == "envy"
    assert seen["KUBERNETES_SERVICE_HOST"] == "127.0.0.1"
    assert seen["KUBERNETES_SERVICE_PORT"] == str(cluster.server.port)
    cfg_dir = next(cluster.kubelet.workdir.glob("pods/default_envy_*/volumes/cfg"))
    assert (cfg_dir / "file.txt").read_text() == "x"


async def test_missing_secret_waits_then_starts(cluster: Cluster, core: client.CoreV1Api) -> None:
    env = [{"name": "K", "valueFrom": {"secretKeyRef": {"name": "later", "key": "k"}}}]
    await core.create_namespaced_pod(
        "default", pod("waiting", ["-c", "pass"], container={"env": env})
    )
    stuck = await watch_until(
        core.list_namespaced_pod,
        "default",
        name="waiting",
        predicate=lambda o: bool(o["status"].get("containerStatuses")),
    )
    waiting = stuck["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting == {
        "reason": "CreateContainerConfigError",
        "message": 'secret "later" not found',
    }
    assert stuck["status"]["phase"] == "Pending"
    assert ("Failed", "Warning") in await events_for(core, "waiting")
    await core.create_namespaced_secret(
        "default", {"metadata": {"name": "later"}, "stringData": {"k": "v"}}
    )
    done = await watch_until(
        core.list_namespaced_pod, "default", name="waiting", predicate=phase_is("Succeeded")
    )
    assert done["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 0


async def test_unbound_claim_keeps_the_pod_unscheduled(
    cluster: Cluster, core: client.CoreV1Api
) -> None:
    await core.create_namespaced_persistent_volume_claim(
        "default",
        {
            "metadata": {"name": "gold"},
            "spec": {"storageClassName": "gold", "accessModes": ["ReadWriteOnce"]},
        },
    )
    body = pod(
        "pvc-user",
        ["-c", "pass"],
        volumes=[{"name": "v", "persistentVolumeClaim": {"claimName": "gold"}}],
    )
    await core.create_namespaced_pod("default", body)
    stuck = await watch_until(
        core.list_namespaced_pod,
        "default",
        name="pvc-user",
        predicate=lambda o: any(
            c.get("reason") == "Unschedulable" for c in o["status"].get("conditions", [])
        ),
    )
    assert stuck["status"]["phase"] == "Pending"
    assert not stuck["spec"].get("nodeName")
    assert ("FailedScheduling", "Warning") in await events_for(core, "pvc-user")


async def test_deleting_a_pod_stops_its_process(cluster: Cluster, core: client.CoreV1Api) -> None:
    await core.create_namespaced_pod("default", pod("sleeper", ["-c", SLEEP]))
    running = await watch_until(
        core.list_namespaced_pod, "default", name="sleeper", predicate=ready
    )
    pid = int(running["status"]["containerStatuses"][0]["containerID"].removeprefix("sim://"))
    os.kill(pid, 0)  # alive
    await core.delete_namespaced_pod("sleeper", "default")
    uid = running["metadata"]["uid"]
    await eventually(lambda: uid not in cluster.kubelet.pods)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        pass
    else:
        raise AssertionError(f"process {pid} still runs after its pod was deleted")
    assert cluster.kubelet.ips.in_use == set()


async def test_a_main_process_that_exits_takes_its_group_with_it(
    cluster: Cluster, core: client.CoreV1Api, tmp_path: Path
) -> None:
    """As a container runtime ends the container's processes when its first one exits."""
    pidfile = tmp_path / "child.pid"
    script = (
        "import subprocess, sys; "
        f"child = subprocess.Popen([sys.executable, '-c', {SLEEP!r}]); "
        f"open({str(pidfile)!r}, 'w').write(str(child.pid))"
    )
    await core.create_namespaced_pod("default", pod("parent", ["-c", script]))
    await watch_until(
        core.list_namespaced_pod, "default", name="parent", predicate=phase_is("Succeeded")
    )
    child = int(pidfile.read_text())

    def gone() -> bool:
        # reaped, or a zombie until init or a subreaper reaps it: either way it no longer runs
        try:
            with open(f"/proc/{child}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] == "Z"
        except FileNotFoundError:
            return True

    await eventually(gone)


async def test_readiness_probe_waits_for_the_port(cluster: Cluster, core: client.CoreV1Api) -> None:
    container = {
        "ports": [{"name": "http", "containerPort": 18080}],
        "readinessProbe": {"tcpSocket": {"port": "http"}, "periodSeconds": 1},
    }
    body = pod("web", ["-c", SERVE, "18080", "0.0.0.0"], container=container)
    await core.create_namespaced_pod("default", body)
    running = await watch_until(core.list_namespaced_pod, "default", name="web", predicate=ready)
    ip = running["status"]["podIP"]
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://{ip}:18080/") as response:
            assert response.status == 200
        try:  # bound to the pod's own address, not to every address
            async with http.get("http://127.0.0.1:18080/"):
                raise AssertionError("the pod's server answered on 127.0.0.1")
        except aiohttp.ClientConnectorError:
            pass


async def test_pod_logs(cluster: Cluster, core: client.CoreV1Api) -> None:
    script = "for i in range(5): print('line', i)"
    await core.create_namespaced_pod("default", pod("talker", ["-c", script]))
    await watch_until(
        core.list_namespaced_pod, "default", name="talker", predicate=phase_is("Succeeded")
    )
    assert await core.read_namespaced_pod_log("talker", "default") == "".join(
        f"line {i}\n" for i in range(5)
    )
    tail = await core.read_namespaced_pod_log("talker", "default", tail_lines=2)
    assert tail == "line 3\nline 4\n"


async def test_logs_of_a_pod_not_started(cluster: Cluster, core: client.CoreV1Api) -> None:
    env = [{"name": "K", "valueFrom": {"secretKeyRef": {"name": "never", "key": "k"}}}]
    await core.create_namespaced_pod(
        "default", pod("blocked", ["-c", "pass"], container={"env": env})
    )
    try:
        await core.read_namespaced_pod_log("blocked", "default")
    except client.ApiException as error:
        assert error.status == 400
        assert "is waiting to start" in str(error.body)
    else:
        raise AssertionError("logs of a container that never started")
    try:
        await core.read_namespaced_pod_log("blocked", "default", container="other")
    except client.ApiException as error:
        assert error.status == 400
        assert "container other is not valid for pod blocked" in str(error.body)
    else:
        raise AssertionError("logs of an unknown container")


async def test_pull_delay(cluster: Cluster, core: client.CoreV1Api) -> None:
    cluster.kubelet.pull_delay = 0.3
    loop = asyncio.get_running_loop()
    started = loop.time()
    await core.create_namespaced_pod("default", pod("slow-image", ["-c", "pass"]))
    await watch_until(
        core.list_namespaced_pod, "default", name="slow-image", predicate=phase_is("Succeeded")
    )
    assert loop.time() - started >= 0.3
    reasons = [reason for reason, _ in await events_for(core, "slow-image")]
    assert reasons == ["Scheduled", "Pulling", "Pulled", "Created", "Started"]


async def test_injected_image_pull_failure(cluster: Cluster, core: client.CoreV1Api) -> None:
    cluster.kubelet.image_failures["broken/image"] = "manifest unknown"
    body = pod("unpullable", ["-c", "pass"], container={"image": "broken/image"})
    await core.create_namespaced_pod("default", body)
    stuck = await watch_until(
        core.list_namespaced_pod,
        "default",
        name="unpullable",
        predicate=lambda o: bool(o["status"].get("containerStatuses")),
    )
    waiting = stuck["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting == {
        "reason": "ErrImagePull",
        "message": 'Failed to pull image "broken/image": manifest unknown',
    }
    assert ("Failed", "Warning") in await events_for(core, "unpullable")
    del cluster.kubelet.image_failures["broken/image"]  # the registry recovers
    await watch_until(
        core.list_namespaced_pod, "default", name="unpullable", predicate=phase_is("Succeeded")
    )
