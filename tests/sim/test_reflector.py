# The client annotates bodies as models and hides _content_type; it accepts dicts and both.
# mypy: disable-error-code="arg-type, call-arg"
"""KubeSpawner's own list+watch cache (its PodReflector) kept in sync by the simulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from jupyterhub_ov_sim.apiserver import ApiServer
from kubernetes_asyncio import client
from kubespawner.spawner import PodReflector

from .helpers import eventually

LABELS = {"component": "singleuser-server"}


@pytest.fixture
async def reflector(sim_server: ApiServer) -> AsyncIterator[PodReflector]:
    """A PodReflector using the shared default client configuration, pointed at the simulator."""
    previous = client.Configuration.get_default_copy()
    client.Configuration.set_default(client.Configuration(host=sim_server.url))
    pods = PodReflector(namespace="default", labels=LABELS, timeout_seconds=30)
    try:
        await pods.start()
        await asyncio.wait_for(pods.first_load_future, 10)
        yield pods
    finally:
        await pods.stop()
        await pods.api.api_client.close()
        client.Configuration.set_default(previous)


def pod(name: str, labels: dict[str, str] = LABELS) -> dict:
    return {"metadata": {"name": name, "labels": labels}, "spec": {"containers": []}}


async def test_reflector_follows_pods(reflector: PodReflector, core: client.CoreV1Api) -> None:
    await core.create_namespaced_pod("default", pod("jupyter-ann"))
    await core.create_namespaced_pod("default", pod("not-a-notebook", {"component": "hub"}))
    await eventually(lambda: "default/jupyter-ann" in reflector.pods)
    await core.patch_namespaced_pod_status(
        "jupyter-ann", "default", {"status": {"phase": "Running"}}
    )
    await eventually(lambda: reflector.pods["default/jupyter-ann"]["status"]["phase"] == "Running")
    await core.delete_namespaced_pod("jupyter-ann", "default")
    await eventually(lambda: "default/jupyter-ann" not in reflector.pods)
    assert "default/not-a-notebook" not in reflector.pods


async def test_reflector_recovers_from_dropped_watches(
    sim_server: ApiServer, reflector: PodReflector, core: client.CoreV1Api
) -> None:
    rule = sim_server.faults.add(verb="watch", resource="pods", drop_watch_after=0.05, times=2)
    await eventually(lambda: rule.matched == 2)
    await core.create_namespaced_pod("default", pod("jupyter-bob"))
    await eventually(lambda: "default/jupyter-bob" in reflector.pods)
    assert sim_server.counters.get("list", "pods") >= 2  # it re-listed after each cut
