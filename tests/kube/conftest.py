"""A simulated OpenShift namespace with NooBaa-like buckets, and a real hub using OVKubeSpawner."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from jupyterhub_ov_sim.cluster import SimulatedCluster, cluster_options
from kubernetes_asyncio import client

from ..hubproc import Hub, running_hub
from ..ovms.helpers import OVMS_IMAGE_COMMANDS
from ..util import REPO, free_port
from .streams import create_stream, reference

CHP = REPO / "node_modules" / ".bin" / "configurable-http-proxy"
MARKER_IMAGE = reference("default", "marker", "2024.1")

#: a hub using KubeSpawner (or a subclass) against the simulator; {cls} is the config section
HUB_CONFIG = """
c.JupyterHub.hub_connect_ip = "127.0.0.1"
c.ConfigurableHTTPProxy.command = [{chp!r}]
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = "kube-test-password"
c.Authenticator.allow_all = True
c.{cls}.k8s_api_host = {api!r}
c.{cls}.namespace = "default"
c.{cls}.cmd = ["jupyterhub-singleuser"]
c.{cls}.args = ["--allow-root"]
c.{cls}.storage_pvc_ensure = True
c.{cls}.storage_capacity = "1Gi"
c.{cls}.volumes = [
    {{"name": "home", "persistentVolumeClaim": {{"claimName": "{{pvc_name}}"}}}}
]
c.{cls}.volume_mounts = [{{"name": "home", "mountPath": "/opt/app-root/src"}}]
c.{cls}.working_dir = "/opt/app-root/src"
c.{cls}.environment = {{"HOME": "/opt/app-root/src"}}
c.{cls}.default_url = "/lab"
c.{cls}.start_timeout = 60
c.{cls}.http_timeout = 60
# POST /server answers 202 at once, so tests can follow the progress stream
c.JupyterHub.tornado_settings = {{"slow_spawn_timeout": 0}}
# servers outlive a hub restart, as in a real deployment
c.JupyterHub.cleanup_servers = False
"""

OV_CONFIG = """
c.JupyterHub.spawner_class = "ov-kube"
c.OVKubeSpawner.sizes = [
    {"name": "small", "display_name": "Small", "cpu_limit": 1, "mem_limit": "1G", "default": True},
    {"name": "large", "display_name": "Large", "cpu_limit": 2, "mem_limit": "4G"},
]
c.OVKubeSpawner.bucket_storage_class = "openshift-storage.noobaa.io"
c.OVKubeSpawner.bucket_grants = {"alice": ["team-shared"]}
"""


def hub_config(cls: str, api: str) -> str:
    return HUB_CONFIG.format(cls=cls, chp=str(CHP), api=api)


@dataclass
class KubeSetup:
    cluster: SimulatedCluster
    api: client.ApiClient
    hub: Hub
    start_hub: Callable[[], Any]
    stop_hub: Callable[[], Any]

    async def restart_hub(self) -> None:
        await asyncio.to_thread(self.stop_hub)
        self.hub = await asyncio.to_thread(self.start_hub)

    @property
    def custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.api)

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    async def run(self, func, *args, **kwargs):
        """Blocking hub calls go to a thread: the simulator shares this event loop."""
        return await asyncio.to_thread(func, *args, **kwargs)


@asynccontextmanager
async def kube_hub(
    directory: Path,
    extra_config: str = "",
    *,
    base: Callable[[str], str] | None = None,
    **cluster: object,
) -> AsyncIterator[KubeSetup]:
    """The simulator (with S3 and buckets) in this loop; the hub as a subprocess.

    The hub's config is `hub_config` for OVKubeSpawner + OV_CONFIG, or ``base(api_url)``.
    """
    entrypoints = {MARKER_IMAGE: ["env", "OV_MARKER=marker-notebook"]}
    entrypoints.update(cluster.pop("entrypoints", {}))  # type: ignore[call-overload]
    cluster.setdefault("image_commands", OVMS_IMAGE_COMMANDS)  # ModelServers' pods serve
    options = cluster_options(directory / "cluster", s3=True, entrypoints=entrypoints, **cluster)
    async with SimulatedCluster(options) as sim:
        async with client.ApiClient(client.Configuration(host=sim.server.url)) as api:
            custom = client.CustomObjectsApi(api)
            await create_stream(
                custom,
                "scipy-notebook",
                display="SciPy",
                description="Science",
                default=True,
                packages=[{"name": "scipy", "version": "1.14"}],
            )
            await create_stream(
                custom,
                "marker",
                display="Marker",
                description="Has a marker",
                tags=("2024.1",),
                labels={"opendatahub.io/notebook-image": "true"},
            )
            if base is None:
                config = hub_config("OVKubeSpawner", sim.server.url) + OV_CONFIG
            else:
                config = base(sim.server.url)
            config += extra_config
            env = {"KUBECONFIG": str(sim.kubeconfig)}
            (directory / "hub").mkdir(exist_ok=True)
            managers = []
            ports = (free_port(), free_port(), free_port())  # the same across restarts

            def start_hub() -> Hub:
                managers.append(
                    running_hub(directory / "hub", config, env=env, base_config=None, ports=ports)
                )
                return managers[-1].__enter__()

            def stop_hub() -> None:
                managers.pop().__exit__(None, None, None)

            setup = KubeSetup(sim, api, await asyncio.to_thread(start_hub), start_hub, stop_hub)
            try:
                yield setup
            finally:
                while managers:
                    await asyncio.to_thread(stop_hub)


@pytest.fixture
async def kube(tmp_path: Path) -> AsyncIterator[KubeSetup]:
    async with kube_hub(tmp_path) as setup:
        yield setup
