"""PodSecurity admission on the simulator: namespaces labelled ``enforce`` refuse violating
pods with the real API server's 403, ``warn`` admits them with a Warning header, an OpenShift
uid range refuses a fixed uid outside it, and the ReplicaSet controller reports a refused
pod as FailedCreate. Through real clients (kubernetes_asyncio, plain HTTP)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from jupyterhub_ov_sim import scc
from jupyterhub_ov_sim.cluster import SimulatedCluster
from kubernetes_asyncio import client
from kubernetes_asyncio.client import ApiException

from .helpers import RawHTTP
from .workloads import deployment

ENFORCE = {"pod-security.kubernetes.io/enforce": "restricted"}
WARN = {"pod-security.kubernetes.io/warn": "restricted"}
SAFE = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}
BARE_REFUSAL = (
    'pods "bare" is forbidden: violates PodSecurity "restricted:latest": '
    'allowPrivilegeEscalation != false (container "main" must set securityContext.'
    'allowPrivilegeEscalation=false), unrestricted capabilities (container "main" must set '
    'securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "main" '
    'must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "main" must '
    'set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")'
)


def pod(name: str, **security: Any) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "main", "image": "busybox"}
    if security:
        container["securityContext"] = security
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [container]},
    }


async def namespace(
    core: client.CoreV1Api, name: str, labels: dict[str, str], **annotations: str
) -> None:
    meta = {"name": name, "labels": labels, "annotations": annotations}
    await core.create_namespace({"metadata": meta})


async def test_an_enforcing_namespace_refuses_a_violating_pod_and_admits_a_restricted_one(
    core: client.CoreV1Api,
) -> None:
    await namespace(core, "locked", ENFORCE)
    with pytest.raises(ApiException) as refused:
        await core.create_namespaced_pod("locked", pod("bare"))
    assert refused.value.status == 403
    status = json.loads(refused.value.body)
    assert status["reason"] == "Forbidden" and status["message"] == BARE_REFUSAL
    assert (await core.list_namespaced_pod("locked")).items == []  # nothing was stored
    made = await core.create_namespaced_pod("locked", pod("safe", **SAFE))
    assert made.metadata.name == "safe"
    # the same pod where nothing is enforced: admitted
    await core.create_namespaced_pod("default", pod("bare"))


async def test_a_warning_namespace_admits_with_the_real_warning(raw: RawHTTP) -> None:
    ns = {"metadata": {"name": "watched", "labels": WARN}}
    assert (await raw.request("POST", "/api/v1/namespaces", body=ns))[0] == 201
    code, _, headers = await raw.request(
        "POST", "/api/v1/namespaces/watched/pods", body=pod("bare")
    )
    assert code == 201
    expected = BARE_REFUSAL.replace('pods "bare" is forbidden: violates', "would violate")
    assert headers["Warning"] == f'299 - "{expected.replace(chr(34), chr(92) + chr(34))}"'
    code, _, headers = await raw.request(
        "POST", "/api/v1/namespaces/watched/pods", body=pod("ok", **SAFE)
    )
    assert code == 201 and "Warning" not in headers


async def test_an_openshift_namespace_refuses_a_uid_outside_its_range(
    core: client.CoreV1Api,
) -> None:
    await namespace(core, "project", {}, **{scc.UID_RANGE: "1000650000/10000"})
    with pytest.raises(ApiException) as refused:
        await core.create_namespaced_pod("project", pod("fixed", **SAFE, runAsUser=1000))
    assert refused.value.status == 403
    assert json.loads(refused.value.body)["message"] == (
        'pods "fixed" is forbidden: unable to validate against any security context '
        'constraint: [provider "restricted-v2": spec.containers[0].securityContext.runAsUser: '
        "Invalid value: 1000: must be in the ranges: [1000650000, 1000659999]]"
    )
    await core.create_namespaced_pod("project", pod("assigned", **SAFE))


async def test_a_replicaset_whose_pods_are_refused_says_so_in_an_event(
    sim_cluster: SimulatedCluster, api_client: client.ApiClient
) -> None:
    core = client.CoreV1Api(api_client)
    await namespace(core, "locked", ENFORCE)
    await client.AppsV1Api(api_client).create_namespaced_deployment("locked", deployment(1))
    async with asyncio.timeout(10):
        while True:
            listed = await core.list_namespaced_event("locked")
            events = [e for e in listed.items if e.reason == "FailedCreate"]
            if events:
                break
            await asyncio.sleep(0.02)
    assert events[0].type == "Warning"
    assert events[0].message.startswith('Error creating: pods "web-')
    assert 'is forbidden: violates PodSecurity "restricted:latest": ' in events[0].message
    assert (await core.list_namespaced_pod("locked")).items == []
