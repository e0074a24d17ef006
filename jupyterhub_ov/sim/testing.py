"""pytest fixtures on the simulator, for any test suite that talks to Kubernetes.

Use them from a conftest with ``from jupyterhub_ov.sim.testing import sim_server, sim_cluster``
(or ``pytest_plugins = ["jupyterhub_ov.sim.testing"]`` in the top-level conftest).
Everything runs in the test's event loop; nothing is mocked: clients talk HTTP to a real
(simulated) API server, pods are real processes. A test double of Kubernetes, never production.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from kubernetes_asyncio import client

from .apiserver import ApiServer
from .cluster import ClusterOptions, SimulatedCluster


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


def cluster_options(state_dir: Path, **overrides: object) -> ClusterOptions:
    """Options for tests: fast retries, and pods that find this environment's executables."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    options = ClusterOptions(state_dir=state_dir, retry_interval=0.05, extra_env={"PATH": path})
    for name, value in overrides.items():
        setattr(options, name, value)
    return options


@pytest.fixture
async def sim_cluster(sim_server: ApiServer, tmp_path: Path) -> AsyncIterator[SimulatedCluster]:
    """``sim_server`` plus kubelet, volume binder and build controller; kubeconfig written.

    ``sim_cluster.kubeconfig`` is the file to give a hub subprocess as ``KUBECONFIG``.
    """
    async with SimulatedCluster(cluster_options(tmp_path), server=sim_server) as cluster:
        yield cluster
