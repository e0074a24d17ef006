"""Cluster ``ModelServer`` resources reconciled by the platform service, against the simulator.

Everything is real except the cluster: `ModelServerReconciler` watches and writes over HTTP
with kubernetes_asyncio; the simulator's Deployment controller and kubelet run the pods, whose
OVMS image is mapped to a tiny HTTP server answering the health endpoints on ``--rest_port``
(readiness comes from the Deployment's own probe). The test looks from outside: the objects
in the cluster and the resource's status.
"""

# The client annotates bodies as models and hides _content_type; it accepts dicts and both.
# mypy: disable-error-code="arg-type, call-arg"

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from jupyterhub_ov_sim.apiserver import ApiServer
from jupyterhub_ov_sim.cluster import SimulatedCluster, cluster_options
from kubernetes_asyncio import client

from jupyterhub_ov.service.features.modelservers import manifests
from jupyterhub_ov.service.features.modelservers.cluster import ModelServerReconciler
from jupyterhub_ov.service.features.modelservers.model import parse_model_server
from jupyterhub_ov.service.features.modelservers.spec import GROUP, PLURAL, VERSION
from tests.sim.helpers import wait_deleted, watch_until
from tests.sim.workloads import PY, ready

NS = "default"
# stands in for OVMS: the health endpoints on --rest_port, bound to the address argv[1]
FAKE_OVMS = """
import argparse, http.server, sys
parser = argparse.ArgumentParser()
parser.add_argument("--rest_port", type=int)
args, _ = parser.parse_known_args(sys.argv[2:])
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ok = self.path in ("/v2/health/live", "/v2/health/ready")
        self.send_response(200 if ok else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer((sys.argv[1], args.rest_port), Handler).serve_forever()
"""
#: what the API server fills into a Service's spec
SERVICE_DEFAULTS = ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "sessionAffinity")
SPEC = {
    "deployment_parameters": {"replicas": 1},
    "models_settings": {"model_name": "resnet", "model_path": "s3://models/resnet"},
    "models_repository": {
        "aws_secret_name": "s3-creds",
        "s3_compat_api_endpoint": "http://s3:9000",
    },
}


class Stack:
    def __init__(self, cluster: SimulatedCluster, api: client.ApiClient) -> None:
        self.cluster = cluster
        self.custom = client.CustomObjectsApi(api)
        self.apps = client.AppsV1Api(api)
        self.core = client.CoreV1Api(api)

    async def apply(self, name: str, spec: dict[str, Any]) -> dict[str, Any]:
        body = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "ModelServer",
            "metadata": {"name": name},
            "spec": spec,
        }
        created: dict[str, Any] = await self.custom.create_namespaced_custom_object(
            GROUP, VERSION, NS, PLURAL, body
        )
        return created

    async def status_when(
        self, name: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 30
    ) -> dict[str, Any]:
        found = await watch_until(
            self.custom.list_namespaced_custom_object,
            GROUP,
            VERSION,
            NS,
            PLURAL,
            name=name,
            predicate=lambda obj: predicate(obj.get("status") or {}),
            timeout=timeout,
        )
        status: dict[str, Any] = found["status"]
        return status

    async def raw(self, read: Any, name: str) -> dict[str, Any]:
        answer = await read(name, NS, _preload_content=False)
        body: dict[str, Any] = await answer.json()
        return body

    async def ready_pods(self, name: str) -> list[dict[str, Any]]:
        listed = await self.core.list_namespaced_pod(
            NS, label_selector=f"release={name}", _preload_content=False
        )
        raw = await listed.json()  # type: ignore[attr-defined]  # unparsed: _preload_content=False
        pods: list[dict[str, Any]] = raw["items"]
        return [p for p in pods if ready(p) and not p["metadata"].get("deletionTimestamp")]


def conditions(status: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in status.get("conditions") or ()}


def available(replicas: int) -> Callable[[dict[str, Any]], bool]:
    def check(status: dict[str, Any]) -> bool:
        found = conditions(status)
        return (
            status.get("replicas") == replicas
            and found.get("Available", ("",))[0] == "True"
            and found.get("Progressing", ("",))[0] == "False"
        )

    return check


@pytest.fixture
async def stack(
    sim_server: ApiServer,
    sim_api_client: client.ApiClient,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Stack]:
    """The simulated cluster with the reconciler running (in all namespaces unless the
    test is parametrized indirectly with one)."""
    script = tmp_path / "fake_ovms.py"
    script.write_text(FAKE_OVMS)
    options = cluster_options(
        tmp_path / "sim", image_commands={"openvino/model_server": [PY, str(script), "0.0.0.0"]}
    )
    async with SimulatedCluster(options, server=sim_server) as cluster:
        stack = Stack(cluster, sim_api_client)
        secret = {
            "metadata": {"name": "s3-creds"},
            "stringData": {"AWS_ACCESS_KEY_ID": "key", "AWS_SECRET_ACCESS_KEY": "secret"},
        }
        await stack.core.create_namespaced_secret(NS, secret)
        reconciler = ModelServerReconciler(
            namespace=getattr(request, "param", ""),
            kubeconfig=str(cluster.kubeconfig),
            resync_seconds=1,
            log=logging.getLogger("modelserver-reconciler"),
        )
        await reconciler.start()
        try:
            await asyncio.wait_for(reconciler.ready.wait(), 10)
            yield stack
        finally:
            await reconciler.stop()


async def test_a_model_server_is_deployed_scaled_and_deleted(stack: Stack) -> None:
    created = await stack.apply("demo", SPEC)
    status = await stack.status_when("demo", available(1))
    assert status["labelSelector"] == "release=demo"
    assert status["endpoints"] == {
        "rest": "demo-ovms.default.svc:8081",
        "grpc": "demo-ovms.default.svc:8080",
    }
    assert conditions(status) == {
        "Available": ("True", "MinimumReplicasAvailable"),
        "Progressing": ("False", "RolloutComplete"),
        "Degraded": ("False", "AsExpected"),
    }
    assert status["observedGeneration"] == created["metadata"]["generation"]

    spec = parse_model_server("demo", SPEC)
    uid = created["metadata"]["uid"]
    expected_deployment = manifests.deployment(spec, namespace=NS, owner_uid=uid)
    expected_service = manifests.service(spec, namespace=NS, owner_uid=uid)
    deployment = await stack.raw(stack.apps.read_namespaced_deployment, "demo-ovms")
    service = await stack.raw(stack.core.read_namespaced_service, "demo-ovms")
    for live, expected in ((deployment, expected_deployment), (service, expected_service)):
        meta = live["metadata"]
        assert {k: meta.get(k) for k in expected["metadata"]} == expected["metadata"]
        filled = {k: v for k, v in live["spec"].items() if k not in SERVICE_DEFAULTS}
        assert filled == expected["spec"]
    assert len(await stack.ready_pods("demo")) == 1

    # scale: the spec's replicas roll the Deployment to two ready pods, and the status says so
    patch = {"spec": {"deployment_parameters": {"replicas": 2}}}
    await stack.custom.patch_namespaced_custom_object(
        GROUP, VERSION, NS, PLURAL, "demo", patch, _content_type="application/merge-patch+json"
    )
    await stack.status_when("demo", available(2))
    assert len(await stack.ready_pods("demo")) == 2

    await stack.custom.delete_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, "demo")
    await wait_deleted(
        lambda: stack.apps.read_namespaced_deployment("demo-ovms", NS),
        stack.apps.list_namespaced_deployment,
        NS,
        name="demo-ovms",
    )
    await wait_deleted(
        lambda: stack.core.read_namespaced_service("demo-ovms", NS),
        stack.core.list_namespaced_service,
        NS,
        name="demo-ovms",
    )


async def test_an_invalid_spec_gets_every_problem_and_no_deployment(stack: Stack) -> None:
    bad = {
        "models_settings": {"model_name": "resnet", "model_path": "ftp://models/resnet"},
        "server_settings": {"log_level": "LOUD"},
    }
    await stack.apply("broken", bad)
    status = await stack.status_when("broken", lambda s: bool(s.get("conditions")))
    assert conditions(status) == {
        "Available": ("False", "InvalidSpec"),
        "Progressing": ("False", "InvalidSpec"),
        "Degraded": ("True", "InvalidSpec"),
    }
    degraded = next(c for c in status["conditions"] if c["type"] == "Degraded")
    assert "ftp://" in degraded["message"] and "LOUD" in degraded["message"]
    assert "endpoints" not in status and status["replicas"] == 0
    listed = await stack.apps.list_namespaced_deployment(NS)
    assert listed.items == []
    assert (await stack.core.list_namespaced_service(NS, label_selector="release")).items == []


async def test_a_name_taken_by_another_object_is_reported_and_left_alone(stack: Stack) -> None:
    theirs = {
        "metadata": {"name": "taken-ovms", "labels": {"team": "other"}},
        "spec": {"selector": {"app": "other"}, "ports": [{"name": "http", "port": 80}]},
    }
    await stack.core.create_namespaced_service(NS, theirs)
    await stack.apply("taken", SPEC)
    status = await stack.status_when("taken", lambda s: bool(s.get("conditions")))
    degraded = next(c for c in status["conditions"] if c["type"] == "Degraded")
    assert (degraded["status"], degraded["reason"]) == ("True", "NameTaken")
    assert (
        degraded["message"]
        == "A Service named taken-ovms exists that this ModelServer does not own"
    )
    service = await stack.raw(stack.core.read_namespaced_service, "taken-ovms")
    assert service["spec"]["selector"] == {"app": "other"}
    assert "ownerReferences" not in service["metadata"]


@pytest.mark.parametrize("stack", [NS], indirect=True)
async def test_with_a_namespace_only_its_model_servers_are_reconciled(stack: Stack) -> None:
    await stack.core.create_namespace({"metadata": {"name": "elsewhere"}})
    other = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "ModelServer",
        "metadata": {"name": "far"},
        "spec": SPEC,
    }
    await stack.custom.create_namespaced_custom_object(GROUP, VERSION, "elsewhere", PLURAL, other)
    await stack.apply("near", SPEC)
    await stack.status_when("near", available(1))
    far = await stack.custom.get_namespaced_custom_object(
        GROUP, VERSION, "elsewhere", PLURAL, "far"
    )
    assert "status" not in far or not far["status"]
    assert (await stack.apps.list_namespaced_deployment("elsewhere")).items == []
