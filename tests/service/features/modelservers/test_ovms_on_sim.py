"""A ModelServer served for real on the simulator: the platform service (openshift backend,
its own process) reconciles what ``kubectl apply`` creates; the kubelet runs the image
``openvino/model_server`` as the local model server (``python -m jupyterhub_ov.ovms`` with
the Deployment's own arguments, bound to the pod's IP) reading a tiny OpenVINO model from a
user's ObjectBucketClaim bucket or a volume claim; a "notebook" pod calls it by its Service's
variables with tritonclient."""

# mypy: disable-error-code="arg-type"

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import boto3
import pytest
from botocore.config import Config
from jupyterhub_ov_sim.cluster import SimulatedCluster, cluster_options
from kubernetes_asyncio import client

from jupyterhub_ov.service.features.modelservers import manifests
from jupyterhub_ov.service.features.modelservers.model import parse_model_server
from tests.ovms.helpers import OVMS_IMAGE_COMMANDS, expected, save_tiny_model, upload_version
from tests.sim.helpers import Kubectl, wait_deleted, watch_until
from tests.sim.workloads import ready
from tests.util import REPO, free_port

pytestmark = pytest.mark.e2e
NS = "default"
G, V, P = "intel.com", "v1alpha1", "modelservers"
PY = sys.executable
SERVICE_DEFAULTS = ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "sessionAffinity")
# the notebook: the Service by its variables, REST and gRPC, with tritonclient
NOTEBOOK = """
import os, sys, numpy as np
import tritonclient.http as http, tritonclient.grpc as grpc
host = os.environ["DEMO_OVMS_SERVICE_HOST"]
x = np.array([[1.0, 1.0, 2.0]], dtype=np.float32)
rest = http.InferenceServerClient(f"{host}:{os.environ['DEMO_OVMS_SERVICE_PORT_REST']}")
i = http.InferInput("x", [1, 3], "FP32"); i.set_data_from_numpy(x)
print("rest", rest.infer("tiny", [i]).as_numpy("y").tolist())
g = grpc.InferenceServerClient(f"{host}:{os.environ['DEMO_OVMS_SERVICE_PORT']}")
i = grpc.InferInput("x", [1, 3], "FP32"); i.set_data_from_numpy(x)
print("grpc", g.infer("tiny", [i]).as_numpy("y").tolist())
"""


@dataclass
class Stack:
    cluster: SimulatedCluster
    kubectl: Kubectl
    custom: client.CustomObjectsApi
    core: client.CoreV1Api
    apps: client.AppsV1Api

    async def status_when(
        self, name: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 60
    ) -> dict[str, Any]:
        found = await watch_until(
            self.custom.list_namespaced_custom_object,
            G,
            V,
            NS,
            P,
            name=name,
            predicate=lambda obj: predicate(obj.get("status") or {}),
            timeout=timeout,
        )
        status: dict[str, Any] = found["status"]
        return status

    async def ready_pods(self, name: str) -> list[dict[str, Any]]:
        listed = await self.kubectl.json("get", "pods", "-n", NS, "-l", f"release={name}")
        return [
            p for p in listed["items"] if ready(p) and not p["metadata"].get("deletionTimestamp")
        ]


def conditions(status: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in status.get("conditions") or ()}


def serving(replicas: int) -> Callable[[dict[str, Any]], bool]:
    def check(status: dict[str, Any]) -> bool:
        return (
            status.get("replicas") == replicas
            and conditions(status).get("Available", ("",))[0] == "True"
            and any(m.get("ready") for m in status.get("models") or ())
        )

    return check


@asynccontextmanager
async def start_service(tmp_path: Path, kubeconfig: Path) -> AsyncIterator[None]:
    port = free_port()
    log = await asyncio.to_thread((tmp_path / "service.log").open, "wb")  # closed below
    process = await asyncio.create_subprocess_exec(
        PY,
        "-m",
        "jupyterhub_ov.service",
        "--PlatformService.backend_class=openshift",
        f"--PlatformService.db_url=sqlite:///{tmp_path / 'service.sqlite'}",
        f"--OpenShiftBuildBackend.kubeconfig={kubeconfig}",
        "--OpenShiftBuildBackend.namespace=default",
        "--ModelServerReconciler.resync_seconds=1",
        env={
            **os.environ,
            "PYTHONPATH": str(REPO),
            "JUPYTERHUB_SERVICE_URL": f"http://127.0.0.1:{port}",
        },
        cwd=tmp_path,
        stdout=log,
        stderr=log,
    )
    try:
        url = f"http://127.0.0.1:{port}/services/image-builder/api/openapi.json"
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                assert process.returncode is None, (tmp_path / "service.log").read_text()
                try:
                    async with http.get(url) as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        yield
    finally:
        process.terminate()
        await process.wait()
        log.close()


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    options = cluster_options(tmp_path / "sim", s3=True, image_commands=OVMS_IMAGE_COMMANDS)
    async with SimulatedCluster(options) as cluster:
        kubectl = Kubectl({**os.environ, "KUBECONFIG": str(cluster.kubeconfig)})
        async with client.ApiClient(client.Configuration(host=cluster.server.url)) as api:
            stack = Stack(
                cluster,
                kubectl,
                client.CustomObjectsApi(api),
                client.CoreV1Api(api),
                client.AppsV1Api(api),
            )
            async with start_service(tmp_path, cluster.kubeconfig):
                yield stack


async def bucket_with_model(stack: Stack, tmp_path: Path, claim: str) -> str:
    """The user's claim, bound, and the tiny model's version 1 in its bucket (uploaded with
    the claim's own credentials); the bucket's name."""
    body = {
        "apiVersion": "objectbucket.io/v1alpha1",
        "kind": "ObjectBucketClaim",
        "metadata": {"name": claim, "namespace": NS},
        "spec": {"storageClassName": "openshift-storage.noobaa.io", "generateBucketName": claim},
    }
    await stack.kubectl("apply", "-f", "-", stdin=json.dumps(body))
    bound = await watch_until(
        stack.custom.list_namespaced_custom_object,
        "objectbucket.io",
        "v1alpha1",
        NS,
        "objectbucketclaims",
        name=claim,
        predicate=lambda c: (c.get("status") or {}).get("phase") == "Bound",
        timeout=30,
    )
    config = (await stack.core.read_namespaced_config_map(claim, NS)).data
    secret = (await stack.core.read_namespaced_secret(claim, NS)).data
    key, value = (
        base64.b64decode(secret[k]).decode() for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    )
    s3 = boto3.client(
        "s3",
        endpoint_url=f"http://{config['BUCKET_HOST']}:{config['BUCKET_PORT']}",
        region_name=config["BUCKET_REGION"],
        aws_access_key_id=key,
        aws_secret_access_key=value,
        config=Config(s3={"addressing_style": "path"}),
    )
    bucket: str = bound["spec"]["bucketName"]
    await asyncio.to_thread(upload_version, s3, bucket, "tiny", 1, tmp_path / "scratch")
    return bucket


def model_server(name: str, path: str, **repository: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{G}/{V}",
        "kind": "ModelServer",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "image_name": "openvino/model_server:2026.4.1",
            "deployment_parameters": {"replicas": 1},
            "models_settings": {
                "single_model_mode": True,
                "model_name": "tiny",
                "model_path": path,
            },
            "server_settings": {"file_system_poll_wait_seconds": 1},
            "models_repository": repository,
        },
    }


async def test_a_model_server_from_a_users_bucket_serves_a_notebook_scales_and_goes(
    stack: Stack, tmp_path: Path
) -> None:
    bucket = await bucket_with_model(stack, tmp_path, "models")
    resource = model_server("demo", f"s3://{bucket}/tiny", storage_type="S3", bucket_claim="models")
    await stack.kubectl("apply", "-f", "-", stdin=json.dumps(resource))
    status = await stack.status_when("demo", serving(1))
    assert status["labelSelector"] == "release=demo"
    assert status["models"] == [{"name": "tiny", "ready": True, "versions": ["1"]}]
    assert conditions(status) == {
        "Available": ("True", "MinimumReplicasAvailable"),
        "Progressing": ("False", "RolloutComplete"),
        "Degraded": ("False", "AsExpected"),
    }
    created = await stack.kubectl.json("get", "modelserver", "demo", "-n", NS)
    spec = parse_model_server("demo", created["spec"])
    uid = created["metadata"]["uid"]
    wanted = {
        "deployment": manifests.deployment(spec, namespace=NS, owner_uid=uid),
        "service": manifests.service(spec, namespace=NS, owner_uid=uid),
    }
    for kind, body in wanted.items():
        live = await stack.kubectl.json("get", kind, "demo-ovms", "-n", NS)
        assert {k: live["metadata"].get(k) for k in body["metadata"]} == body["metadata"]
        assert {k: v for k, v in live["spec"].items() if k not in SERVICE_DEFAULTS} == body["spec"]
    assert len(await stack.ready_pods("demo")) == 1

    notebook = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "notebook", "namespace": NS},
        "spec": {
            "restartPolicy": "Never",
            "containers": [
                {"name": "notebook", "image": "notebook:1", "command": [PY, "-c", NOTEBOOK]}
            ],
        },
    }
    await stack.kubectl("apply", "-f", "-", stdin=json.dumps(notebook))
    done = await watch_until(
        stack.core.list_namespaced_pod,
        NS,
        name="notebook",
        predicate=lambda p: (p.get("status") or {}).get("phase") in ("Succeeded", "Failed"),
        timeout=60,
    )
    output = await stack.kubectl("logs", "notebook", "-n", NS)
    assert done["status"]["phase"] == "Succeeded", output
    answer = expected(1).tolist()
    assert f"rest {answer}" in output and f"grpc {answer}" in output

    await stack.kubectl("scale", "modelserver", "demo", "-n", NS, "--replicas=2")
    await stack.status_when("demo", serving(2))
    assert len(await stack.ready_pods("demo")) == 2

    await stack.kubectl("delete", "modelserver", "demo", "-n", NS)
    for read, listing in (
        (stack.apps.read_namespaced_deployment, stack.apps.list_namespaced_deployment),
        (stack.core.read_namespaced_service, stack.core.list_namespaced_service),
    ):
        await wait_deleted(
            lambda read=read: read("demo-ovms", NS), listing, NS, name="demo-ovms", timeout=30
        )


async def test_a_path_that_does_not_exist_degrades_the_server_naming_it(
    stack: Stack, tmp_path: Path
) -> None:
    bucket = await bucket_with_model(stack, tmp_path, "models")
    path = f"s3://{bucket}/nothing-here"
    resource = model_server("demo", path, storage_type="S3", bucket_claim="models")
    await stack.kubectl("apply", "-f", "-", stdin=json.dumps(resource))

    def degraded(status: dict[str, Any]) -> bool:
        return conditions(status).get("Degraded") == ("True", "ModelUnavailable")

    status = await stack.status_when("demo", degraded)
    (condition,) = [c for c in status["conditions"] if c["type"] == "Degraded"]
    assert condition["message"].startswith("model tiny: the model path: NOT_FOUND: ")
    assert path in condition["message"]
    assert status["models"][0]["ready"] is False
    assert status["replicas"] == 0


async def test_a_model_on_a_volume_claim_is_served(stack: Stack, tmp_path: Path) -> None:
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "model-volume", "namespace": NS},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    await stack.kubectl("apply", "-f", "-", stdin=json.dumps(claim))
    bound = await watch_until(
        stack.core.list_namespaced_persistent_volume_claim,
        NS,
        name="model-volume",
        predicate=lambda c: (c.get("status") or {}).get("phase") == "Bound",
    )
    volume = await stack.kubectl.json("get", "pv", bound["spec"]["volumeName"])
    save_tiny_model(Path(volume["spec"]["hostPath"]["path"]) / "tiny", 1)
    resource = model_server(
        "vol", "/models/tiny", storage_type="cluster", models_volume_claim="model-volume"
    )
    resource["spec"]["models_repository"]["runAsUser"] = 5000
    await stack.kubectl("apply", "-f", "-", stdin=json.dumps(resource))
    status = await stack.status_when("vol", serving(1))
    assert status["models"] == [{"name": "tiny", "ready": True, "versions": ["1"]}]
