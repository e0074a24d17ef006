"""Waiting for ObjectBucketClaims on the shared claim watch, against the simulator over HTTP."""

# mypy: disable-error-code="arg-type, call-arg"

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from jupyterhub_ov_sim.apiserver import ApiServer
from kubernetes_asyncio import client
from kubespawner import KubeSpawner
from kubespawner.clients import shared_client
from traitlets.config import LoggingConfigurable

from jupyterhub_ov.kube.reflectors import CustomObjectReflector, shared_reflector
from jupyterhub_ov.storage import claims, manifests

from ..sim.conftest import api_client, custom

__all__ = ["api_client", "custom"]

G, V, P = manifests.OBC_GROUP, manifests.OBC_VERSION, manifests.OBC_PLURAL
MERGE = "application/merge-patch+json"


@pytest.fixture
async def reflector(sim_server: ApiServer) -> AsyncIterator[CustomObjectReflector]:
    previous = client.Configuration.get_default_copy()
    client.Configuration.set_default(client.Configuration(host=sim_server.url))
    try:
        yield await shared_reflector(
            KubeSpawner, claims.ClaimReflector, "default", parent=LoggingConfigurable()
        )
    finally:
        await KubeSpawner._stop_all_reflectors()
        KubeSpawner.reflectors.clear()
        await shared_client("CustomObjectsApi").api_client.close()
        client.Configuration.set_default(previous)


async def create(custom: client.CustomObjectsApi, name: str) -> dict:
    body = manifests.bucket_claim(name=name, namespace="default", generate_bucket_name="t")
    return await custom.create_namespaced_custom_object(G, V, "default", P, body)


async def bind(custom: client.CustomObjectsApi, name: str, phase: str = "Bound") -> None:
    await custom.patch_namespaced_custom_object_status(
        G, V, "default", P, name, {"status": {"phase": phase}}, _content_type=MERGE
    )


async def test_waiters_wake_when_their_claim_binds_without_requests_of_their_own(
    reflector: CustomObjectReflector, custom: client.CustomObjectsApi, sim_server: ApiServer
) -> None:
    for i in range(20):
        await create(custom, f"c{i}")
    before = sim_server.counters.total()
    waiters = [
        asyncio.create_task(claims.wait_bound(reflector, "default", f"c{i}", timeout=10))
        for i in range(20)
    ]
    await asyncio.sleep(0.1)
    assert sim_server.counters.total() == before  # waiting costs no request, no watch
    await bind(custom, "c3", "Pending")  # an unrelated change wakes nobody into returning
    await bind(custom, "c7")
    done, pending = await asyncio.wait(waiters, timeout=2, return_when=asyncio.FIRST_COMPLETED)
    assert [t.result()["metadata"]["name"] for t in done] == ["c7"]
    for i in range(20):
        if i != 7:
            await bind(custom, f"c{i}")
    assert len(await asyncio.wait_for(asyncio.gather(*pending), 5)) == 19
    assert not reflector._waiters  # nothing left registered


async def test_a_claim_created_after_the_wait_began_is_seen(
    reflector: CustomObjectReflector, custom: client.CustomObjectsApi
) -> None:
    waiter = asyncio.create_task(claims.wait_bound(reflector, "default", "late", timeout=10))
    await asyncio.sleep(0.05)
    await create(custom, "late")
    await bind(custom, "late")
    assert (await asyncio.wait_for(waiter, 5))["status"]["phase"] == "Bound"


async def test_already_bound_returns_at_once(
    reflector: CustomObjectReflector, custom: client.CustomObjectsApi
) -> None:
    await create(custom, "ready")
    await bind(custom, "ready")
    await asyncio.sleep(0.1)
    claim = await asyncio.wait_for(claims.wait_bound(reflector, "default", "ready", timeout=5), 1)
    assert manifests.claim_phase(claim) == "Bound"


async def test_timeout_and_deletion_give_clear_errors(
    reflector: CustomObjectReflector, custom: client.CustomObjectsApi
) -> None:
    await create(custom, "never")
    with pytest.raises(claims.ClaimNotBound, match="was not bound within 0.3 s"):
        await claims.wait_bound(reflector, "default", "never", timeout=0.3)
    waiter = asyncio.create_task(claims.wait_bound(reflector, "default", "never", timeout=10))
    await asyncio.sleep(0.05)
    await custom.delete_namespaced_custom_object(G, V, "default", P, "never")
    with pytest.raises(claims.ClaimNotBound, match="was deleted"):
        await asyncio.wait_for(waiter, 5)


async def test_a_relist_wakes_waiters(
    reflector: CustomObjectReflector, custom: client.CustomObjectsApi
) -> None:
    """After a watch error the reflector relists, replacing its whole cache: waiters must
    see the new cache (and it must keep notifying)."""
    await create(custom, "relisted")
    waiter = asyncio.create_task(claims.wait_bound(reflector, "default", "relisted", timeout=10))
    await asyncio.sleep(0.05)
    found = dict(reflector.resources["default/relisted"])
    found["status"] = {"phase": "Bound"}
    reflector.resources = {"default/relisted": found}  # what _list_and_update does
    assert (await asyncio.wait_for(waiter, 1))["status"]["phase"] == "Bound"
    other = asyncio.create_task(claims.wait_bound(reflector, "default", "next", timeout=10))
    await create(custom, "next")
    await bind(custom, "next")
    assert (await asyncio.wait_for(other, 5))["metadata"]["name"] == "next"


async def test_the_reflector_is_shared(
    reflector: CustomObjectReflector, sim_server: ApiServer
) -> None:
    again = await asyncio.gather(
        *(
            shared_reflector(
                KubeSpawner, claims.ClaimReflector, "default", parent=LoggingConfigurable()
            )
            for _ in range(5)
        )
    )
    assert all(r is reflector for r in again)
    assert sim_server.counters.get("list", P) <= 2  # its first list, then list + watch
