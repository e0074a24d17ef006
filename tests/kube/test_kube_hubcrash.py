"""A hub SIGKILLed in the middle of an OVKubeSpawner spawn, and started again (real hub,
simulator): what the restarted hub does with the spawn it finds half done."""

from __future__ import annotations

import asyncio

import pytest
import requests

from reliability.checks import PODS
from reliability.cluster import (
    DEFAULT_IMAGE,
    KIND_PATHS,
    on_store_events,
    pull_held,
    restart_killed_hub,
    sigkill_hub,
)

from .conftest import KubeSetup, kube_hub
from .test_kube_hub import probe

pytestmark = pytest.mark.e2e

#: the hub waits this long for a server's address to answer: far longer than the test
HTTP_TIMEOUT = 120


def ask_for_server(kube: KubeSetup, user: str) -> None:
    kube.hub.api("POST", f"/users/{user}")
    try:
        kube.hub.api("POST", f"/users/{user}/server", json={})
    except requests.RequestException:
        pass  # the hub may die while answering


async def ready_server(kube: KubeSetup, user: str, timeout: float) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            server = (await kube.run(kube.hub.user, user))["servers"].get("", {})
            if server.get("ready") or not server.get("pending"):
                return server
            await asyncio.sleep(0.3)


async def test_a_spawn_killed_after_the_pod_create_completes_after_the_restart(tmp_path):
    extra = f"c.OVKubeSpawner.http_timeout = {HTTP_TIMEOUT}\nc.OVKubeSpawner.start_timeout = 120\n"
    async with kube_hub(tmp_path, extra) as kube:
        created: list[str] = []

        def kill_at_create(event) -> None:
            if event.type == "ADDED" and not created:
                created.append(event.obj["metadata"]["uid"])
                sigkill_hub(kube)

        # the image is still being pulled when the new hub looks at the pod
        with pull_held(kube, DEFAULT_IMAGE):
            with on_store_events(kube.cluster.server.store, KIND_PATHS[PODS], kill_at_create):
                await kube.run(ask_for_server, kube, "kim")
                await restart_killed_hub(kube)
            await asyncio.sleep(3)  # the new hub polls the spawner, the pod still Pending
        # the new hub waits for the pod at its real address, and keeps it: not at the
        # placeholder address until http_timeout, then deleting the pod
        server = await ready_server(kube, "kim", HTTP_TIMEOUT / 3)
        assert server.get("ready"), server
        pods = (await kube.core.list_namespaced_pod("default")).items
        assert [p.metadata.uid for p in pods] == created  # the same pod, not another
        assert (await probe(kube, "kim"))["read"] == "kim"  # and it serves the user
