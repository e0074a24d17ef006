# The client annotates bodies as models and hides _content_type; it accepts dicts and both.
# mypy: disable-error-code="arg-type, call-arg"
"""Updates: optimistic concurrency, generation, the status subresource and the three patch types."""

from __future__ import annotations

import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client import ApiException

from .helpers import RawHTTP, status_of

NOTEBOOKS = ("intel.com", "v1alpha1", "default", "notebooks")


def pod_body(name: str = "p") -> dict:
    return {
        "metadata": {"name": name},
        "spec": {
            "containers": [
                {"name": "notebook", "image": "a", "env": [{"name": "A", "value": "1"}]},
                {"name": "sidecar", "image": "b"},
            ]
        },
    }


async def test_stale_update_is_409_conflict(core: client.CoreV1Api) -> None:
    created = await core.create_namespaced_config_map("default", {"metadata": {"name": "c"}})
    first = await core.read_namespaced_config_map("c", "default")
    second = await core.read_namespaced_config_map("c", "default")
    first.data = {"writer": "first"}
    await core.replace_namespaced_config_map("c", "default", first)
    second.data = {"writer": "second"}
    with pytest.raises(ApiException) as caught:
        await core.replace_namespaced_config_map("c", "default", second)
    body = status_of(caught.value)
    assert (caught.value.status, body["reason"]) == (409, "Conflict")
    assert body["message"] == (
        'Operation cannot be fulfilled on configmaps "c": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    assert body["details"] == {"name": "c", "kind": "configmaps"}
    final = await core.read_namespaced_config_map("c", "default")
    assert final.data == {"writer": "first"}
    assert final.metadata.uid == created.metadata.uid


async def test_update_without_version_is_unconditional(core: client.CoreV1Api) -> None:
    await core.create_namespaced_config_map("default", {"metadata": {"name": "c"}})
    body = {"metadata": {"name": "c"}, "data": {"x": "1"}}
    assert (await core.replace_namespaced_config_map("c", "default", body)).data == {"x": "1"}


async def test_update_of_missing_object_is_404(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as caught:
        await core.replace_namespaced_config_map("c", "default", {"metadata": {"name": "c"}})
    assert caught.value.status == 404


async def test_server_managed_fields_survive_updates(core: client.CoreV1Api) -> None:
    created = await core.create_namespaced_config_map("default", {"metadata": {"name": "c"}})
    body = {"metadata": {"name": "c", "uid": "forged", "creationTimestamp": "2000-01-01T00:00:00Z"}}
    updated = await core.replace_namespaced_config_map("c", "default", body)
    assert updated.metadata.uid == created.metadata.uid
    assert updated.metadata.creation_timestamp == created.metadata.creation_timestamp


async def test_noop_update_keeps_the_version(core: client.CoreV1Api) -> None:
    created = await core.create_namespaced_config_map("default", {"metadata": {"name": "c"}})
    again = await core.patch_namespaced_config_map("c", "default", {"metadata": {"labels": None}})
    assert again.metadata.resource_version == created.metadata.resource_version


async def test_generation_counts_spec_changes_only(custom: client.CustomObjectsApi) -> None:
    body = {
        "apiVersion": "intel.com/v1alpha1",
        "kind": "Notebook",
        "metadata": {"name": "nb"},
        "spec": {"git_ref": "main"},
    }
    created = await custom.create_namespaced_custom_object(*NOTEBOOKS, body)
    assert created["metadata"]["generation"] == 1
    labelled = await custom.patch_namespaced_custom_object(
        *NOTEBOOKS,
        "nb",
        {"metadata": {"labels": {"a": "b"}}},
        _content_type="application/merge-patch+json",
    )
    assert labelled["metadata"]["generation"] == 1
    changed = await custom.patch_namespaced_custom_object(
        *NOTEBOOKS,
        "nb",
        {"spec": {"git_ref": "2024.0"}},
        _content_type="application/merge-patch+json",
    )
    assert changed["metadata"]["generation"] == 2
    status = await custom.patch_namespaced_custom_object_status(
        *NOTEBOOKS,
        "nb",
        {"status": {"commit": "abc"}},
        _content_type="application/merge-patch+json",
    )
    assert status["metadata"]["generation"] == 2


async def test_status_subresource_separates_spec_and_status(core: client.CoreV1Api) -> None:
    await core.create_namespaced_pod("default", pod_body())
    running = {
        "status": {"phase": "Running", "podIP": "127.0.0.2"},
        "metadata": {"labels": {"x": "y"}},
    }
    patched = await core.patch_namespaced_pod_status("p", "default", running)
    assert patched.status.phase == "Running"
    assert patched.metadata.labels is None  # a status write changes nothing else
    pod = await core.read_namespaced_pod("p", "default")
    pod.status.phase = "Failed"
    pod.metadata.labels = {"kept": "yes"}
    replaced = await core.replace_namespaced_pod("p", "default", pod)
    assert replaced.status.phase == "Running"  # a main-resource write ignores status
    assert replaced.metadata.labels == {"kept": "yes"}
    read_status = await core.read_namespaced_pod_status("p", "default")
    assert read_status.status.pod_ip == "127.0.0.2"


async def test_status_put_is_conflict_checked(core: client.CoreV1Api) -> None:
    await core.create_namespaced_pod("default", pod_body())
    stale = await core.read_namespaced_pod_status("p", "default")
    await core.patch_namespaced_pod_status("p", "default", {"status": {"phase": "Running"}})
    stale.status.phase = "Succeeded"
    with pytest.raises(ApiException) as caught:
        await core.replace_namespaced_pod_status("p", "default", stale)
    assert caught.value.status == 409


async def test_strategic_merge_patch_merges_containers_by_name(core: client.CoreV1Api) -> None:
    await core.create_namespaced_pod("default", pod_body())
    patch = {"spec": {"containers": [{"name": "notebook", "env": [{"name": "B", "value": "2"}]}]}}
    patched = await core.patch_namespaced_pod("p", "default", patch)  # the client picks SMP
    containers = {c.name: c for c in patched.spec.containers}
    assert set(containers) == {"notebook", "sidecar"}
    assert [(e.name, e.value) for e in containers["notebook"].env] == [("A", "1"), ("B", "2")]
    assert containers["notebook"].image == "a"


async def test_merge_patch_replaces_lists(raw: RawHTTP, core: client.CoreV1Api) -> None:
    await core.create_namespaced_pod("default", pod_body())
    patch = {"spec": {"containers": [{"name": "only", "image": "c"}]}}
    status, body, _ = await raw.request(
        "PATCH",
        "/api/v1/namespaces/default/pods/p",
        body=patch,
        content_type="application/merge-patch+json",
    )
    assert status == 200
    assert [c["name"] for c in body["spec"]["containers"]] == ["only"]


async def test_json_patch(core: client.CoreV1Api) -> None:
    await core.create_namespaced_config_map(
        "default", {"metadata": {"name": "c"}, "data": {"a": "1"}}
    )
    ops = [
        {"op": "test", "path": "/data/a", "value": "1"},
        {"op": "add", "path": "/data/b", "value": "2"},
        {"op": "remove", "path": "/data/a"},
        {"op": "add", "path": "/metadata/labels", "value": {"x/y": "z"}},
    ]
    patched = await core.patch_namespaced_config_map("c", "default", ops)  # a list: JSON patch
    assert patched.data == {"b": "2"}
    assert patched.metadata.labels == {"x/y": "z"}


async def test_failed_json_patch_test_is_422_and_changes_nothing(core: client.CoreV1Api) -> None:
    created = await core.create_namespaced_config_map(
        "default", {"metadata": {"name": "c"}, "data": {"a": "1"}}
    )
    ops = [
        {"op": "add", "path": "/data/b", "value": "2"},
        {"op": "test", "path": "/data/a", "value": "0"},
    ]
    with pytest.raises(ApiException) as caught:
        await core.patch_namespaced_config_map("c", "default", ops)
    assert caught.value.status == 422
    after = await core.read_namespaced_config_map("c", "default")
    assert after.data == {"a": "1"}
    assert after.metadata.resource_version == created.metadata.resource_version


async def test_patch_with_stale_version_is_409(core: client.CoreV1Api) -> None:
    created = await core.create_namespaced_config_map("default", {"metadata": {"name": "c"}})
    await core.patch_namespaced_config_map("c", "default", {"data": {"a": "1"}})
    patch = {"metadata": {"resourceVersion": created.metadata.resource_version}, "data": {"a": "2"}}
    with pytest.raises(ApiException) as caught:
        await core.patch_namespaced_config_map("c", "default", patch)
    assert caught.value.status == 409


async def test_custom_objects_refuse_strategic_merge(
    raw: RawHTTP, custom: client.CustomObjectsApi
) -> None:
    body = {"apiVersion": "intel.com/v1alpha1", "kind": "Notebook", "metadata": {"name": "nb"}}
    await custom.create_namespaced_custom_object(*NOTEBOOKS, body)
    status, answer, _ = await raw.request(
        "PATCH",
        "/apis/intel.com/v1alpha1/namespaces/default/notebooks/nb",
        body={"spec": {"x": 1}},
        content_type="application/strategic-merge-patch+json",
    )
    assert (status, answer["reason"]) == (415, "UnsupportedMediaType")


async def test_dict_patch_of_custom_object_needs_a_content_type(
    custom: client.CustomObjectsApi,
) -> None:
    """kubernetes_asyncio sends a dict body to custom objects as JSON patch unless told otherwise;
    the real server refuses that with 400, and so does the simulator."""
    body = {"apiVersion": "intel.com/v1alpha1", "kind": "Notebook", "metadata": {"name": "nb"}}
    await custom.create_namespaced_custom_object(*NOTEBOOKS, body)
    with pytest.raises(ApiException) as caught:
        await custom.patch_namespaced_custom_object(*NOTEBOOKS, "nb", {"spec": {"x": 1}})
    assert caught.value.status == 400
