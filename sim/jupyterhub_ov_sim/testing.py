"""pytest fixtures on the simulator, for any test suite that talks to Kubernetes.

Installed, the simulator registers this module as a pytest plugin (the ``pytest11`` entry
point ``jupyterhub_ov_sim``), so tests ask for ``sim_server``, ``sim_api_client`` or
``sim_cluster`` without importing anything; pytest loads it only when it runs.
Everything runs in the test's event loop; nothing is mocked: clients talk HTTP to a real
(simulated) API server, pods are real processes. A test double of Kubernetes, never production.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from kubernetes_asyncio import client

from .apiserver import ApiServer
from .cluster import SimulatedCluster, cluster_options


@pytest.fixture
async def sim_server() -> AsyncIterator[ApiServer]:
    """The simulated API server, listening on a free port of 127.0.0.1 in the test's loop."""
    server = ApiServer(seed=1234)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def sim_api_client(sim_server: ApiServer) -> AsyncIterator[client.ApiClient]:
    """A real kubernetes_asyncio ApiClient talking HTTP to ``sim_server``."""
    async with client.ApiClient(client.Configuration(host=sim_server.url)) as api:
        yield api


@pytest.fixture
async def sim_cluster(sim_server: ApiServer, tmp_path: Path) -> AsyncIterator[SimulatedCluster]:
    """``sim_server`` plus kubelet, workload, Service, volume and build controllers.

    ``sim_cluster.kubeconfig`` is the file to give a hub subprocess as ``KUBECONFIG``.
    """
    async with SimulatedCluster(cluster_options(tmp_path), server=sim_server) as cluster:
        yield cluster
