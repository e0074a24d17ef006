"""Our custom-object reflector on KubeSpawner's machinery, against the simulator over HTTP:
the options a controller that is no spawner uses (own client, all namespaces, on_change)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from jupyterhub_ov_sim.apiserver import ApiServer
from kubernetes_asyncio import client
from kubespawner.clients import shared_client

from jupyterhub_ov.kube.reflectors import CustomObjectReflector

from ..sim.helpers import eventually

G, V, P = "intel.com", "v1alpha1", "notebooks"


class AllNotebooks(CustomObjectReflector):
    group, version, plural = G, V, P
    kind = P
    list_method_name = f"list_{P}"
    omit_namespace = True


@pytest.fixture
def custom(sim_api_client: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(sim_api_client)


@pytest.fixture
async def changed(sim_api_client: client.ApiClient) -> AsyncIterator[list[str]]:
    yield []
    # the base class made KubeSpawner's shared client too (unused here): close it
    await shared_client("CustomObjectsApi").api_client.close()


async def create(custom: client.CustomObjectsApi, namespace: str, name: str) -> None:
    body = {"apiVersion": f"{G}/{V}", "kind": "Notebook", "metadata": {"name": name}, "spec": {}}
    await custom.create_namespaced_custom_object(G, V, namespace, P, body)


async def test_a_cluster_wide_reflector_on_its_own_client_tells_of_every_changed_key(
    sim_server: ApiServer,
    sim_api_client: client.ApiClient,
    custom: client.CustomObjectsApi,
    changed: list[str],
) -> None:
    await create(custom, "default", "one")
    await create(custom, "kube-public", "two")
    reflector = AllNotebooks(api_client=sim_api_client, on_change=changed.append, timeout_seconds=1)
    await reflector.start()
    try:
        assert set(reflector.resources) == set(changed) == {"default/one", "kube-public/two"}
        assert sim_server.counters.get("list", P) >= 1  # one list over all namespaces

        changed.clear()
        await create(custom, "default", "three")
        await eventually(lambda: "default/three" in changed)
        assert "default/three" in reflector.resources

        # watches fail from now on: only a relist can see the deletion, and it tells of it
        rule = sim_server.faults.add(verb="watch", resource=P, error_rate=1.0)
        await eventually(lambda: rule.matched >= 1)
        changed.clear()
        await custom.delete_namespaced_custom_object(G, V, "kube-public", P, "two")
        await eventually(lambda: "kube-public/two" not in reflector.resources)
        assert "kube-public/two" in changed
    finally:
        await reflector.stop()
