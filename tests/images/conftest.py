"""The OpenShift image catalog against the cluster simulator, with KubeSpawner's shared clients.

The simulator fixtures come from its pytest plugin (`jupyterhub_ov_sim.testing`) and the typed API
fixtures come from the simulator's test suite; nothing here is a copy of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from jupyterhub_ov_sim.apiserver import ApiServer
from kubernetes_asyncio import client
from kubespawner import KubeSpawner
from kubespawner.clients import shared_client

from jupyterhub_ov.images.kube import KubeImageCatalog

from ..sim.conftest import api_client, core, custom

__all__ = ["api_client", "core", "custom"]

StartCatalog = Callable[..., Awaitable[KubeImageCatalog]]


@pytest.fixture
async def start_catalog(sim_server: ApiServer) -> AsyncIterator[StartCatalog]:
    """``await start_catalog(namespaces=[...], ...)``: a started catalog on the simulator.

    Reflectors get their client from kubespawner's `shared_client`, which uses the default
    client configuration (what KubeSpawner's `load_config` sets in a hub): point it at the
    simulator for this test, and stop the shared reflectors afterwards so none leaks into the
    next test's event loop.
    """
    previous = client.Configuration.get_default_copy()
    client.Configuration.set_default(client.Configuration(host=sim_server.url))

    async def start(default_namespace: str = "default", **config: Any) -> KubeImageCatalog:
        catalog = KubeImageCatalog(**config)
        await catalog.start(KubeSpawner, default_namespace)
        return catalog

    try:
        yield start
    finally:
        await KubeSpawner._stop_all_reflectors()
        KubeSpawner.reflectors.clear()
        await shared_client("CustomObjectsApi").api_client.close()
        client.Configuration.set_default(previous)
