"""The scale subresource of a custom resource whose CRD declares one: the OpenVINO operator's
ModelServer (specReplicasPath ``.spec.deployment_parameters.replicas``, statusReplicasPath
``.status.replicas``, labelSelectorPath ``.status.labelSelector``), as kubectl scales it."""

# mypy: disable-error-code="call-arg"

from __future__ import annotations

import json

from kubernetes_asyncio import client

from .helpers import Kubectl

SCALE = "/apis/intel.com/v1alpha1/namespaces/default/modelservers/demo/scale"


async def test_kubectl_scales_a_model_server_through_its_crds_paths(
    kubectl: Kubectl, api_client: client.ApiClient
) -> None:
    custom = client.CustomObjectsApi(api_client)
    body = {
        "apiVersion": "intel.com/v1alpha1",
        "kind": "ModelServer",
        "metadata": {"name": "demo"},
        "spec": {"models_settings": {"model_name": "m"}},
    }
    await custom.create_namespaced_custom_object(
        "intel.com", "v1alpha1", "default", "modelservers", body
    )
    scale = json.loads(await kubectl("get", "--raw", SCALE))
    assert (scale["kind"], scale["spec"], scale["status"]) == (
        "Scale",
        {"replicas": 1},  # the CRD's default when the path is unset
        {"replicas": 0, "selector": ""},
    )
    status = {"status": {"replicas": 1, "labelSelector": "release=demo"}}
    await custom.patch_namespaced_custom_object_status(
        "intel.com",
        "v1alpha1",
        "default",
        "modelservers",
        "demo",
        status,
        _content_type="application/merge-patch+json",
    )
    assert "modelserver.intel.com/demo scaled" in await kubectl(
        "scale", "modelserver", "demo", "--replicas=3"
    )
    scaled = await custom.get_namespaced_custom_object(
        "intel.com", "v1alpha1", "default", "modelservers", "demo"
    )
    assert scaled["spec"] == {
        "models_settings": {"model_name": "m"},
        "deployment_parameters": {"replicas": 3},
    }
    scale = json.loads(await kubectl("get", "--raw", SCALE))
    assert (scale["spec"], scale["status"]) == (
        {"replicas": 3},
        {"replicas": 1, "selector": "release=demo"},
    )
