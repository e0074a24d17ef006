"""Deployments through real clients: kubectl apply/scale/rollout/delete and kubernetes_asyncio.

The pods are real processes (a tiny HTTP server) whose readiness comes from their httpGet
readinessProbe, so "available" here means the simulated kubelet's probes passed.
"""

from __future__ import annotations

import json
from typing import Any

from kubernetes_asyncio import client
from kubernetes_asyncio.client import ApiException

from .conftest import Cluster
from .helpers import Kubectl, RawHTTP, eventually, watch_until
from .workloads import PY, deployment, ready

APPLY = ("apply", "-f", "-")


def converged(replicas: int) -> Any:
    def check(obj: dict[str, Any]) -> bool:
        status = obj.get("status") or {}
        return (
            status.get("observedGeneration") == obj["metadata"]["generation"]
            and status.get("replicas") == replicas
            and status.get("updatedReplicas") == replicas
            and status.get("availableReplicas") == replicas
            and status.get("readyReplicas") == replicas
        )

    return check


async def owned(kubectl: Kubectl, kind: str) -> list[dict[str, Any]]:
    listed = await kubectl.json("get", kind, "-l", "app=web")
    items: list[dict[str, Any]] = listed["items"]
    return items


def conditions(obj: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in obj["status"]["conditions"]}


async def test_deployment_runs_scales_rolls_and_is_deleted(
    cluster: Cluster, kubectl: Kubectl, api_client: client.ApiClient
) -> None:
    apps = client.AppsV1Api(api_client)
    assert "deployment.apps/web created" in await kubectl(*APPLY, stdin=json.dumps(deployment(2)))
    await kubectl("rollout", "status", "deployment/web", "--timeout=30s")
    web = await watch_until(
        apps.list_namespaced_deployment, "default", name="web", predicate=converged(2)
    )
    assert conditions(web) == {
        "Available": ("True", "MinimumReplicasAvailable"),
        "Progressing": ("True", "NewReplicaSetAvailable"),
    }
    [first] = await owned(kubectl, "replicasets")
    pod_hash = first["metadata"]["labels"]["pod-template-hash"]
    assert first["metadata"]["name"] == f"web-{pod_hash}"
    assert first["spec"]["selector"]["matchLabels"] == {"app": "web", "pod-template-hash": pod_hash}
    [owner] = first["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["uid"], owner["controller"]) == (
        "Deployment",
        web["metadata"]["uid"],
        True,
    )
    pods = await owned(kubectl, "pods")
    assert len(pods) == 2 and all(ready(p) for p in pods)
    for p in pods:
        assert p["metadata"]["name"].startswith(f"web-{pod_hash}-")
        assert len(p["metadata"]["name"]) == len(f"web-{pod_hash}-") + 5
        assert p["metadata"]["ownerReferences"][0]["uid"] == first["metadata"]["uid"]

    # kubectl scale goes through the scale subresource
    assert "deployment.apps/web scaled" in await kubectl("scale", "deployment/web", "--replicas=3")
    await kubectl("rollout", "status", "deployment/web", "--timeout=30s")
    await watch_until(
        apps.list_namespaced_deployment, "default", name="web", predicate=converged(3)
    )
    scale = json.loads(
        await kubectl("get", "--raw", "/apis/apps/v1/namespaces/default/deployments/web/scale")
    )
    assert (scale["kind"], scale["spec"], scale["status"]) == (
        "Scale",
        {"replicas": 3},
        {"replicas": 3, "selector": "app=web"},
    )
    before = {p["metadata"]["name"] for p in await owned(kubectl, "pods")}
    assert len(before) == 3

    # a changed template rolls out a new ReplicaSet and replaces every pod
    assert "configured" in await kubectl(*APPLY, stdin=json.dumps(deployment(3, {"VERSION": "2"})))
    await kubectl("rollout", "status", "deployment/web", "--timeout=30s")
    web = await watch_until(
        apps.list_namespaced_deployment, "default", name="web", predicate=converged(3)
    )
    assert conditions(web)["Progressing"] == ("True", "NewReplicaSetAvailable")
    sets = {rs["metadata"]["name"]: rs for rs in await owned(kubectl, "replicasets")}
    assert len(sets) == 2 and sets.pop(first["metadata"]["name"])["spec"]["replicas"] == 0
    [second] = sets.values()
    assert second["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    assert web["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    pods = await owned(kubectl, "pods")
    assert len(pods) == 3 and all(ready(p) for p in pods)
    assert not before & {p["metadata"]["name"] for p in pods}
    assert {p["metadata"]["ownerReferences"][0]["uid"] for p in pods} == {second["metadata"]["uid"]}
    events = await kubectl.json("get", "events", "--field-selector", "involvedObject.name=web")
    scaled = [e["message"] for e in events["items"] if e["reason"] == "ScalingReplicaSet"]
    old, new = first["metadata"]["name"], second["metadata"]["name"]
    # maxSurge 25% of 3 rounds up to 1, maxUnavailable down to 0: one new pod, then one old out
    assert scaled == [
        f"Scaled up replica set {old} from 0 to 2",
        f"Scaled up replica set {old} from 2 to 3",
        f"Scaled up replica set {new} from 0 to 1",
        f"Scaled down replica set {old} from 3 to 2",
        f"Scaled up replica set {new} from 1 to 2",
        f"Scaled down replica set {old} from 2 to 1",
        f"Scaled up replica set {new} from 2 to 3",
        f"Scaled down replica set {old} from 1 to 0",
    ]

    # deleting the Deployment deletes its ReplicaSets and their pods (and stops the processes)
    assert 'deployment.apps "web" deleted' in await kubectl("delete", "deployment", "web")
    assert await owned(kubectl, "replicasets") == []
    assert await owned(kubectl, "pods") == []
    await eventually(lambda: not cluster.kubelet.pods)


async def test_scale_subresource_and_scale_down(
    cluster: Cluster, api_client: client.ApiClient
) -> None:
    apps, core = client.AppsV1Api(api_client), client.CoreV1Api(api_client)
    await apps.create_namespaced_deployment("default", deployment(3))
    await watch_until(
        apps.list_namespaced_deployment, "default", name="web", predicate=converged(3)
    )
    scale = await apps.read_namespaced_deployment_scale("web", "default")
    assert (scale.spec.replicas, scale.status.replicas, scale.status.selector) == (3, 3, "app=web")
    await apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 1}})
    await watch_until(
        apps.list_namespaced_deployment, "default", name="web", predicate=converged(1)
    )
    pods = await core.list_namespaced_pod("default", label_selector="app=web")
    assert len(pods.items) == 1
    stale = scale
    stale.spec.replicas = 0
    try:  # a Scale carries the object's resourceVersion, and the scale-down changed it
        await apps.replace_namespaced_deployment_scale("web", "default", stale)
        raise AssertionError("a stale Scale was accepted")
    except ApiException as error:
        assert error.status == 409
    scale = await apps.read_namespaced_deployment_scale("web", "default")
    scale.spec.replicas = 0
    await apps.replace_namespaced_deployment_scale("web", "default", scale)
    web = await watch_until(
        apps.list_namespaced_deployment, "default", name="web", predicate=converged(0)
    )
    assert web["spec"]["replicas"] == 0
    assert (await core.list_namespaced_pod("default", label_selector="app=web")).items == []


async def test_a_pod_whose_process_exits_is_replaced(
    cluster: Cluster, api_client: client.ApiClient
) -> None:
    apps, core = client.AppsV1Api(api_client), client.CoreV1Api(api_client)
    body = deployment(1)
    body["spec"]["template"]["spec"]["containers"] = [
        {"name": "brief", "image": "sim/python", "command": [PY, "-c", "print('done')"]}
    ]
    await apps.create_namespaced_deployment("default", body)
    done = await watch_until(
        core.list_namespaced_pod,
        "default",
        field_selector="status.phase=Succeeded",
        predicate=lambda p: True,
    )
    first = done["metadata"]["name"]
    # it keeps its place for the back-off (no second pod meanwhile), then a new one comes
    pods = await core.list_namespaced_pod("default", label_selector="app=web")
    assert [p.metadata.name for p in pods.items] == [first]
    replacement = await watch_until(
        core.list_namespaced_pod,
        "default",
        field_selector=f"metadata.name!={first}",
        predicate=lambda p: p["metadata"]["name"].startswith(first[:-5]),
    )
    names = {p.metadata.name for p in (await core.list_namespaced_pod("default")).items}
    assert first not in names and replacement["metadata"]["name"] in names


async def test_recreate_stops_the_old_pods_first(
    cluster: Cluster, api_client: client.ApiClient
) -> None:
    apps, core = client.AppsV1Api(api_client), client.CoreV1Api(api_client)
    body = deployment(2)
    body["spec"]["strategy"] = {"type": "Recreate"}
    await apps.create_namespaced_deployment("default", body)
    await watch_until(
        apps.list_namespaced_deployment, "default", name="web", predicate=converged(2)
    )
    [first] = (await apps.list_namespaced_replica_set("default")).items
    changed = deployment(2, {"VERSION": "2"})
    changed["spec"]["strategy"] = {"type": "Recreate"}
    await apps.replace_namespaced_deployment("web", "default", changed)
    await watch_until(
        apps.list_namespaced_deployment, "default", name="web", predicate=converged(2)
    )
    second = next(
        rs.metadata.name
        for rs in (await apps.list_namespaced_replica_set("default")).items
        if rs.metadata.name != first.metadata.name
    )
    events = await core.list_namespaced_event("default", field_selector="involvedObject.name=web")
    scaled = [e.message for e in events.items if e.reason == "ScalingReplicaSet"]
    assert scaled == [
        f"Scaled up replica set {first.metadata.name} from 0 to 2",
        f"Scaled down replica set {first.metadata.name} from 2 to 0",
        f"Scaled up replica set {second} from 0 to 2",
    ]


async def test_a_subresource_cannot_be_deleted(cluster: Cluster, raw: RawHTTP) -> None:
    path = "/apis/apps/v1/namespaces/default/deployments"
    code, _, _ = await raw.request("POST", path, body=deployment(0))
    assert code == 201
    code, answer, _ = await raw.request("DELETE", f"{path}/web/scale")
    assert (code, answer["reason"]) == (405, "MethodNotAllowed")
    code, _, _ = await raw.request("GET", f"{path}/web")
    assert code == 200
