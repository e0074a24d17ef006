# The client annotates bodies as models and hides _content_type; it accepts dicts and both.
# mypy: disable-error-code="arg-type, call-arg"
"""Create, read, replace and delete over HTTP with kubernetes_asyncio, core and custom kinds."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client import ApiException

from .helpers import RawHTTP, status_of

IMAGESTREAM = ("image.openshift.io", "v1", "imagestreams")


async def test_configmap_lifecycle(core: client.CoreV1Api) -> None:
    body = {"metadata": {"name": "settings", "labels": {"app": "hub"}}, "data": {"a": "1"}}
    created = await core.create_namespaced_config_map("default", body)
    assert created.metadata.namespace == "default"
    assert re.fullmatch(r"[0-9a-f-]{36}", created.metadata.uid)
    age = datetime.now(UTC) - created.metadata.creation_timestamp
    assert timedelta(0) <= age < timedelta(minutes=1)
    read = await core.read_namespaced_config_map("settings", "default")
    assert read.data == {"a": "1"}
    assert read.metadata.resource_version == created.metadata.resource_version
    read.data["b"] = "2"
    replaced = await core.replace_namespaced_config_map("settings", "default", read)
    assert replaced.data == {"a": "1", "b": "2"}
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
    status = await core.delete_namespaced_config_map("settings", "default")
    assert (status.status, status.details.name, status.details.uid) == (
        "Success",
        "settings",
        created.metadata.uid,
    )
    with pytest.raises(ApiException) as caught:
        await core.read_namespaced_config_map("settings", "default")
    assert caught.value.status == 404


async def test_not_found_is_a_kubernetes_status(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as caught:
        await core.read_namespaced_pod("missing", "default")
    assert status_of(caught.value) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'pods "missing" not found',
        "reason": "NotFound",
        "details": {"name": "missing", "kind": "pods"},
        "code": 404,
    }


async def test_already_exists(core: client.CoreV1Api) -> None:
    await core.create_namespaced_secret("default", {"metadata": {"name": "s"}})
    with pytest.raises(ApiException) as caught:
        await core.create_namespaced_secret("default", {"metadata": {"name": "s"}})
    body = status_of(caught.value)
    assert (caught.value.status, body["reason"]) == (409, "AlreadyExists")
    assert body["message"] == 'secrets "s" already exists'
    assert body["details"] == {"name": "s", "kind": "secrets"}


async def test_group_resources_are_qualified_in_errors(api_client: client.ApiClient) -> None:
    with pytest.raises(ApiException) as caught:
        await client.AppsV1Api(api_client).read_namespaced_deployment("web", "default")
    body = status_of(caught.value)
    assert body["message"] == 'deployments.apps "web" not found'
    assert body["details"] == {"name": "web", "group": "apps", "kind": "deployments"}


@pytest.mark.parametrize(
    ("metadata", "field", "reason"),
    [
        ({}, "metadata.name", "FieldValueRequired"),
        ({"name": "Not_Valid"}, "metadata.name", "FieldValueInvalid"),
        ({"name": "x" * 254}, "metadata.name", "FieldValueInvalid"),
    ],
)
async def test_invalid_names_are_422(
    core: client.CoreV1Api, metadata: dict, field: str, reason: str
) -> None:
    with pytest.raises(ApiException) as caught:
        await core.create_namespaced_config_map("default", {"metadata": metadata})
    body = status_of(caught.value)
    assert (caught.value.status, body["reason"]) == (422, "Invalid")
    assert body["details"]["kind"] == "ConfigMap"
    assert body["details"]["causes"][0]["field"] == field
    assert body["details"]["causes"][0]["reason"] == reason
    assert body["message"].startswith(
        f'ConfigMap "{metadata.get("name", "")}" is invalid: {field}: '
    )


async def test_namespace_names_must_be_dns_labels(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as caught:
        await core.create_namespace({"metadata": {"name": "a.b"}})
    assert caught.value.status == 422


async def test_generate_name(core: client.CoreV1Api) -> None:
    names = set()
    for _ in range(5):
        pod = await core.create_namespaced_pod(
            "default", {"metadata": {"generateName": "jupyter-"}, "spec": {"containers": []}}
        )
        assert re.fullmatch(r"jupyter-[bcdfghjklmnpqrstvwxz2456789]{5}", pod.metadata.name)
        names.add(pod.metadata.name)
    assert len(names) == 5


async def test_create_in_missing_namespace(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as caught:
        await core.create_namespaced_config_map("nowhere", {"metadata": {"name": "c"}})
    assert status_of(caught.value)["message"] == 'namespaces "nowhere" not found'


async def test_namespace_mismatch_is_bad_request(core: client.CoreV1Api) -> None:
    body = {"metadata": {"name": "c", "namespace": "kube-system"}}
    with pytest.raises(ApiException) as caught:
        await core.create_namespaced_config_map("default", body)
    assert (caught.value.status, status_of(caught.value)["reason"]) == (400, "BadRequest")


async def test_pod_starts_pending_and_delete_returns_the_pod(core: client.CoreV1Api) -> None:
    body = {
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "i"}]},
        "status": {"phase": "Running"},
    }
    pod = await core.create_namespaced_pod("default", body)
    assert pod.status.phase == "Pending"  # clients cannot set status on create
    assert pod.metadata.generation == 1
    deleted = await core.delete_namespaced_pod("p", "default")
    assert isinstance(deleted, client.V1Pod)
    assert deleted.metadata.uid == pod.metadata.uid


async def test_list_in_namespace_and_across_namespaces(core: client.CoreV1Api) -> None:
    await core.create_namespace({"metadata": {"name": "team"}})
    for namespace, name in (("default", "b"), ("team", "a"), ("default", "a")):
        await core.create_namespaced_service_account(namespace, {"metadata": {"name": name}})
    in_default = await core.list_namespaced_service_account("default")
    assert [sa.metadata.name for sa in in_default.items] == ["a", "b"]
    everywhere = await core.list_service_account_for_all_namespaces()
    assert [(sa.metadata.namespace, sa.metadata.name) for sa in everywhere.items] == [
        ("default", "a"),
        ("default", "b"),
        ("team", "a"),
    ]
    assert everywhere.metadata.resource_version == in_default.metadata.resource_version


async def test_cluster_scoped_kinds(api_client: client.ApiClient) -> None:
    storage = client.StorageV1Api(api_client)
    body = {"metadata": {"name": "standard"}, "provisioner": "sim"}
    created = await storage.create_storage_class(body)
    assert created.metadata.namespace is None
    listed = await storage.list_storage_class()
    assert [sc.metadata.name for sc in listed.items] == ["standard"]
    deleted = await storage.delete_storage_class("standard")
    assert deleted.metadata.name == "standard"


async def test_custom_objects(custom: client.CustomObjectsApi) -> None:
    body = {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStream",
        "metadata": {
            "name": "minimal-notebook",
            "labels": {"opendatahub.io/notebook-image": "true"},
        },
        "spec": {"tags": [{"name": "py3"}]},
    }
    created = await custom.create_namespaced_custom_object(
        *IMAGESTREAM[:2], "default", IMAGESTREAM[2], body
    )
    assert created["metadata"]["generation"] == 1
    assert "status" not in created
    read = await custom.get_namespaced_custom_object(
        *IMAGESTREAM[:2], "default", IMAGESTREAM[2], "minimal-notebook"
    )
    read["spec"]["tags"].append({"name": "py311"})
    replaced = await custom.replace_namespaced_custom_object(
        *IMAGESTREAM[:2], "default", IMAGESTREAM[2], "minimal-notebook", read
    )
    assert replaced["metadata"]["generation"] == 2
    deleted = await custom.delete_namespaced_custom_object(
        *IMAGESTREAM[:2], "default", IMAGESTREAM[2], "minimal-notebook"
    )
    assert deleted["metadata"]["uid"] == created["metadata"]["uid"]


async def test_cluster_scoped_custom_objects(custom: client.CustomObjectsApi) -> None:
    body = {
        "apiVersion": "objectbucket.io/v1alpha1",
        "kind": "ObjectBucket",
        "metadata": {"name": "obc-default-data"},
        "spec": {},
    }
    await custom.create_cluster_custom_object("objectbucket.io", "v1alpha1", "objectbuckets", body)
    got = await custom.get_cluster_custom_object(
        "objectbucket.io", "v1alpha1", "objectbuckets", "obc-default-data"
    )
    assert "namespace" not in got["metadata"]


async def test_dry_run_stores_nothing(core: client.CoreV1Api) -> None:
    created = await core.create_namespaced_config_map(
        "default", {"metadata": {"name": "d"}}, dry_run="All"
    )
    assert created.metadata.name == "d"
    assert (await core.list_namespaced_config_map("default")).items == []


async def test_unknown_resource_is_404(raw: RawHTTP) -> None:
    status, body, _ = await raw.request("GET", "/api/v1/namespaces/default/widgets")
    assert (status, body["reason"]) == (404, "NotFound")
    status, _, _ = await raw.request("GET", "/api/v1/configmaps/not-namespaced")
    assert status == 404
    status, _, _ = await raw.request("GET", "/api/v1/namespaces/default/configmaps/c/status")
    assert status == 404  # configmaps have no status subresource


async def test_timestamps_are_rfc3339_seconds(raw: RawHTTP) -> None:
    _, body, _ = await raw.request(
        "POST", "/api/v1/namespaces/default/configmaps", body={"metadata": {"name": "t"}}
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["metadata"]["creationTimestamp"])


async def test_pod_logs_are_read_only(raw: RawHTTP) -> None:
    status, body, _ = await raw.request("PUT", "/api/v1/namespaces/default/pods/p/log", body={})
    assert (status, body["reason"]) == (405, "MethodNotAllowed")
    status, _, _ = await raw.request("GET", "/api/v1/namespaces/default/configmaps/c/log")
    assert status == 404  # only pods have logs


async def test_post_to_an_object_is_405(raw: RawHTTP) -> None:
    status, body, _ = await raw.request("POST", "/api/v1/namespaces/default/configmaps/c", body={})
    assert (status, body["reason"]) == (405, "MethodNotAllowed")


async def test_secret_string_data_is_stored_as_base64(core: client.CoreV1Api) -> None:
    body = {"metadata": {"name": "creds"}, "stringData": {"AWS_ACCESS_KEY_ID": "AKIA1"}}
    created = await core.create_namespaced_secret("default", body)
    assert created.data == {"AWS_ACCESS_KEY_ID": "QUtJQTE="}
    assert created.type == "Opaque"
    replaced = await core.replace_namespaced_secret(
        "creds", "default", {"metadata": {"name": "creds"}, "stringData": {"B": "2"}}
    )
    assert replaced.data == {"B": "Mg=="}
    assert replaced.string_data is None


async def test_pods_get_spec_defaults(core: client.CoreV1Api) -> None:
    pod = await core.create_namespaced_pod(
        "default", {"metadata": {"name": "p"}, "spec": {"containers": [], "restartPolicy": "Never"}}
    )
    assert pod.spec.restart_policy == "Never"
    assert pod.spec.termination_grace_period_seconds == 30
