"""The platform service's cluster features at work in the deployed platform: resources applied
with kubectl, their status written by the service deploy/ runs (its command, features and
Roles from the manifests), its REST API and its /metrics read through the Route or Ingress."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from ..scrape import scrape, value
from .box import Box

SERVICE = "/services/image-builder"
CUSTOM_IMAGE = {
    "apiVersion": "meteor.zone/v1alpha1",
    "kind": "CustomNBImage",
    "metadata": {
        "name": "custom",
        "annotations": {
            "opendatahub.io/notebook-image-name": "Custom image",
            "opendatahub.io/notebook-image-desc": "From a CustomNBImage resource",
            "opendatahub.io/notebook-image-creator": "admin",
        },
    },
    "spec": {"buildType": "ImportImage", "fromImage": "quay.io/example/custom:1"},
}
NOTEBOOK = {"apiVersion": "intel.com/v1alpha1", "kind": "Notebook", "metadata": {"name": "ov"}}


def model_server(bucket_claim: str) -> dict[str, Any]:
    """A ModelServer serving a model from a user's bucket (their ObjectBucketClaim)."""
    return {
        "apiVersion": "intel.com/v1alpha1",
        "kind": "ModelServer",
        "metadata": {"name": "demo"},
        "spec": {
            "image_name": "openvino/model_server:2026.4.1",
            "deployment_parameters": {"replicas": 1},
            "models_settings": {"model_name": "tiny", "model_path": "s3://models/tiny"},
            "models_repository": {"storage_type": "S3", "bucket_claim": bucket_claim},
        },
    }


async def status_when(
    box: Box, kind: str, name: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 90
) -> dict[str, Any]:
    """The resource's status once ``predicate(status)`` holds."""
    deadline = time.monotonic() + timeout
    while True:
        status = (await box.kubectl.json("get", kind, name)).get("status") or {}
        if predicate(status):
            return status
        if time.monotonic() > deadline:
            raise AssertionError(f"{kind} {name}: the status never got there: {status}")
        await asyncio.sleep(0.5)


def api(box: Box, token: str, path: str) -> Any:
    answer = box.http.get(
        f"{box.url}{SERVICE}/api/{path}", headers={"Authorization": f"token {token}"}, timeout=30
    )
    assert answer.status_code == 200, (path, answer.status_code, answer.text[:500])
    return answer.json()


async def custom_image_is_built(box: Box, token: str) -> None:
    """customimages: a CustomNBImage becomes a build, whose outcome is the resource's status."""
    await box.kubectl("apply", "-f", "-", stdin=json.dumps(CUSTOM_IMAGE))
    status = await status_when(
        box, "customnbimage", "custom", lambda s: s.get("phase") in ("Success", "Failure")
    )
    assert status["phase"] == "Success", status
    build = await asyncio.to_thread(api, box, token, f"builds/{status['buildId']}")
    assert build["phase"] == "Success" and build["image"] == status["image"], (build, status)


async def notebook_is_reconciled(box: Box, token: str) -> None:
    """notebooks: a Notebook in the hub's namespace is taken by the deployed reconciler (no
    operator needed) into the service's records, and its status is written."""
    await box.kubectl("apply", "-f", "-", stdin=json.dumps(NOTEBOOK))
    status = await status_when(box, "notebook", "ov", lambda s: s.get("observedGeneration") == 1)
    assert {c["type"] for c in status["conditions"]} >= {"Ready", "Building"}, status
    records = await asyncio.to_thread(api, box, token, "notebooks")
    assert [(n["name"], n["namespace"]) for n in records["notebooks"]] == [("ov", "default")]


async def model_server_is_deployed(box: Box, token: str, bucket_claim: str) -> None:
    """modelservers: a ModelServer gets its Deployment and Service and a status from the
    deployed reconciler; scaled to zero, the service's gauge counts it in that state."""
    await box.kubectl("apply", "-f", "-", stdin=json.dumps(model_server(bucket_claim)))
    status = await status_when(box, "modelserver", "demo", lambda s: "labelSelector" in s)
    assert status["labelSelector"] == "release=demo"
    deployment = await box.kubectl.json("get", "deployment", "demo-ovms")
    assert deployment["metadata"]["ownerReferences"][0]["kind"] == "ModelServer"
    await box.kubectl.json("get", "service", "demo-ovms")
    await box.kubectl("scale", "modelserver", "demo", "--replicas=0")
    deadline = time.monotonic() + 60
    while (await asyncio.to_thread(api, box, token, "modelservers/demo"))[
        "state"
    ] != "ScaledToZero":
        assert time.monotonic() < deadline, "the model server never scaled to zero"
        await asyncio.sleep(0.5)
    samples = (await asyncio.to_thread(scrape, f"{box.url}{SERVICE}/metrics", token, box.http))[
        "jupyterhub_ov_model_servers"
    ]
    for state in ("Progressing", "Available", "Degraded", "ScaledToZero"):
        wanted = 1 if state == "ScaledToZero" else 0
        assert value(samples, "jupyterhub_ov_model_servers", state=state) == wanted, samples
