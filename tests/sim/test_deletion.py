# The client annotates bodies as models and hides _content_type; it accepts dicts and both.
# mypy: disable-error-code="arg-type, call-arg"
"""Deletion: finalizers and deletionTimestamp, owner cascades, deletecollection, namespaces."""

from __future__ import annotations

import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client import ApiException

from .conftest import WatchCollector
from .helpers import RawHTTP, status_of

OBC = ("objectbucket.io", "v1alpha1", "default", "objectbucketclaims")


def owned_by(owner: client.V1ConfigMap | dict, name: str) -> dict:
    meta = owner["metadata"] if isinstance(owner, dict) else owner.to_dict()["metadata"]
    kind = owner["kind"] if isinstance(owner, dict) else "ConfigMap"
    api_version = owner["apiVersion"] if isinstance(owner, dict) else "v1"
    ref = {"apiVersion": api_version, "kind": kind, "name": meta["name"], "uid": meta["uid"]}
    return {"metadata": {"name": name, "ownerReferences": [ref]}}


async def exists(core: client.CoreV1Api, kind: str, name: str) -> bool:
    try:
        await getattr(core, f"read_namespaced_{kind}")(name, "default")
    except ApiException as error:
        assert error.status == 404
        return False
    return True


async def test_finalizers_hold_deletion_until_removed(
    core: client.CoreV1Api, collect_events: WatchCollector
) -> None:
    body = {"metadata": {"name": "c", "finalizers": ["example.com/keep"]}}
    created = await core.create_namespaced_config_map("default", body)
    await core.delete_namespaced_config_map("c", "default")
    read = await core.read_namespaced_config_map("c", "default")
    assert read.metadata.deletion_timestamp is not None
    assert read.metadata.finalizers == ["example.com/keep"]
    await core.delete_namespaced_config_map("c", "default")  # deleting again changes nothing
    assert await exists(core, "config_map", "c")
    await core.patch_namespaced_config_map("c", "default", {"metadata": {"finalizers": None}})
    assert not await exists(core, "config_map", "c")
    events = await collect_events(
        core.list_namespaced_config_map,
        "default",
        count=3,
        resource_version=created.metadata.resource_version,
    )
    assert [e["type"] for e in events] == ["MODIFIED", "MODIFIED", "DELETED"]
    assert events[0]["object"].metadata.deletion_timestamp is not None
    assert events[1]["object"].metadata.finalizers is None


async def test_delete_answers_202_while_finalizers_are_pending(raw: RawHTTP) -> None:
    body = {"metadata": {"name": "p", "finalizers": ["a/b"]}, "spec": {"containers": []}}
    await raw.request("POST", "/api/v1/namespaces/default/pods", body=body)
    status, answer, _ = await raw.request("DELETE", "/api/v1/namespaces/default/pods/p")
    assert status == 202
    assert answer["metadata"]["deletionTimestamp"]
    assert answer["metadata"]["deletionGracePeriodSeconds"] == 0
    patch = [{"op": "remove", "path": "/metadata/finalizers"}]
    status, _, _ = await raw.request(
        "PATCH",
        "/api/v1/namespaces/default/pods/p",
        body=patch,
        content_type="application/json-patch+json",
    )
    assert status == 200
    status, _, _ = await raw.request("GET", "/api/v1/namespaces/default/pods/p")
    assert status == 404


async def test_owner_deletion_cascades(
    core: client.CoreV1Api, custom: client.CustomObjectsApi
) -> None:
    claim = await custom.create_namespaced_custom_object(
        *OBC,
        {
            "apiVersion": "objectbucket.io/v1alpha1",
            "kind": "ObjectBucketClaim",
            "metadata": {"name": "data"},
            "spec": {"storageClassName": "s3"},
        },
    )
    await core.create_namespaced_config_map("default", owned_by(claim, "data"))
    await core.create_namespaced_secret("default", owned_by(claim, "data"))
    await core.create_namespaced_config_map("default", {"metadata": {"name": "unrelated"}})
    await custom.delete_namespaced_custom_object(*OBC, "data")
    assert not await exists(core, "config_map", "data")
    assert not await exists(core, "secret", "data")
    assert await exists(core, "config_map", "unrelated")


async def test_cascade_is_transitive_and_spares_co_owned(core: client.CoreV1Api) -> None:
    root = await core.create_namespaced_config_map("default", {"metadata": {"name": "root"}})
    other = await core.create_namespaced_config_map("default", {"metadata": {"name": "other"}})
    child = await core.create_namespaced_config_map("default", owned_by(root, "child"))
    await core.create_namespaced_config_map("default", owned_by(child, "grandchild"))
    co_owned = owned_by(root, "shared")
    co_owned["metadata"]["ownerReferences"] += owned_by(other, "x")["metadata"]["ownerReferences"]
    await core.create_namespaced_config_map("default", co_owned)
    await core.delete_namespaced_config_map("root", "default")
    assert not await exists(core, "config_map", "child")
    assert not await exists(core, "config_map", "grandchild")
    assert await exists(core, "config_map", "shared")


async def test_orphan_propagation_keeps_dependents(core: client.CoreV1Api) -> None:
    owner = await core.create_namespaced_config_map("default", {"metadata": {"name": "owner"}})
    await core.create_namespaced_config_map("default", owned_by(owner, "child"))
    await core.delete_namespaced_config_map("owner", "default", propagation_policy="Orphan")
    child = await core.read_namespaced_config_map("child", "default")
    assert child.metadata.owner_references in (None, [])


async def test_foreground_deletes_dependents_first(
    core: client.CoreV1Api, collect_events: WatchCollector
) -> None:
    owner = await core.create_namespaced_config_map("default", {"metadata": {"name": "owner"}})
    await core.create_namespaced_config_map("default", owned_by(owner, "child"))
    await core.delete_namespaced_config_map("owner", "default", propagation_policy="Foreground")
    events = await collect_events(
        core.list_namespaced_config_map,
        "default",
        count=5,
        resource_version=owner.metadata.resource_version,
    )
    summary = [(e["type"], e["object"].metadata.name) for e in events]
    assert summary == [
        ("ADDED", "child"),
        ("MODIFIED", "owner"),  # marked, with the foregroundDeletion finalizer
        ("DELETED", "child"),
        ("MODIFIED", "owner"),  # the garbage collector drops its finalizer
        ("DELETED", "owner"),
    ]
    assert events[1]["object"].metadata.finalizers == ["foregroundDeletion"]


async def test_delete_preconditions(core: client.CoreV1Api) -> None:
    await core.create_namespaced_config_map("default", {"metadata": {"name": "c"}})
    options = client.V1DeleteOptions(preconditions=client.V1Preconditions(uid="not-it"))
    with pytest.raises(ApiException) as caught:
        await core.delete_namespaced_config_map("c", "default", body=options)
    body = status_of(caught.value)
    assert (caught.value.status, body["reason"]) == (409, "Conflict")
    assert "Precondition failed: UID in precondition: not-it" in body["message"]


async def test_delete_collection_with_selector(core: client.CoreV1Api) -> None:
    for name, app in (("a", "hub"), ("b", "hub"), ("c", "other")):
        await core.create_namespaced_config_map(
            "default", {"metadata": {"name": name, "labels": {"app": app}}}
        )
    await core.delete_collection_namespaced_config_map("default", label_selector="app=hub")
    remaining = await core.list_namespaced_config_map("default")
    assert [cm.metadata.name for cm in remaining.items] == ["c"]


async def test_namespace_deletion_removes_its_contents(core: client.CoreV1Api) -> None:
    await core.create_namespace({"metadata": {"name": "team"}})
    await core.create_namespaced_config_map("team", {"metadata": {"name": "c"}})
    await core.create_namespaced_secret(
        "team", {"metadata": {"name": "held", "finalizers": ["example.com/x"]}}
    )
    await core.delete_namespace("team")
    namespace = await core.read_namespace("team")
    assert namespace.status.phase == "Terminating"
    assert (await core.list_namespaced_config_map("team")).items == []
    with pytest.raises(ApiException) as caught:
        await core.create_namespaced_config_map("team", {"metadata": {"name": "late"}})
    assert (caught.value.status, status_of(caught.value)["reason"]) == (403, "Forbidden")
    await core.patch_namespaced_secret("held", "team", {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException) as gone:
        await core.read_namespace("team")
    assert gone.value.status == 404
