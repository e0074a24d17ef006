"""A real JupyterHub with unmodified KubeSpawner spawns a real single-user server via the simulator.

The hub runs as a subprocess with ``KUBECONFIG`` pointing at the simulator (kubernetes_asyncio
reads it at import time, so it must be set in the hub's environment, not in ours).
"""

# The client annotates bodies as models; it accepts dicts.
# mypy: disable-error-code="arg-type"

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from jupyterhub_ov_sim.kubeconfig import write_kubeconfig
from kubernetes_asyncio import client

from ..browser import ARGS, CHROMIUM
from ..util import ARTIFACTS, free_port
from .conftest import Cluster
from .helpers import eventually, watch_until
from .hubs import CHP, TOKEN, api, kubespawner_hub, until_ready

pytestmark = pytest.mark.e2e


def hub_config(tmp: Path, api_url: str, ports: dict[str, int]) -> str:
    return f"""
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {ports["proxy"]}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {ports["hub"]}
c.JupyterHub.hub_connect_ip = "127.0.0.1"
c.ConfigurableHTTPProxy.command = [{str(CHP)!r}]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{ports["proxy_api"]}"
c.JupyterHub.db_url = "sqlite:///{tmp}/hub.sqlite"
c.JupyterHub.cookie_secret_file = "{tmp}/cookie_secret"
c.JupyterHub.pid_file = "{tmp}/hub.pid"
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.services = [{{"name": "e2e", "api_token": {TOKEN!r}}}]
c.JupyterHub.load_roles = [{{
    "name": "e2e",
    "scopes": ["admin:users", "admin:servers", "list:users", "read:users", "access:servers"],
    "services": ["e2e"],
}}]
c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
c.KubeSpawner.k8s_api_host = {api_url!r}
c.KubeSpawner.namespace = "default"
c.KubeSpawner.image = "sim/jupyter"
c.KubeSpawner.cmd = ["jupyterhub-singleuser"]
c.KubeSpawner.args = ["--allow-root"]
c.KubeSpawner.storage_pvc_ensure = True
c.KubeSpawner.storage_capacity = "1Gi"
c.KubeSpawner.volumes = [
    {{"name": "home", "persistentVolumeClaim": {{"claimName": "{{pvc_name}}"}}}}
]
c.KubeSpawner.volume_mounts = [{{"name": "home", "mountPath": "/home/jovyan"}}]
c.KubeSpawner.working_dir = "/home/jovyan"
c.KubeSpawner.environment = {{"HOME": "/home/jovyan"}}
c.KubeSpawner.start_timeout = 60
c.KubeSpawner.http_timeout = 60
"""


@pytest.fixture
async def hub(cluster: Cluster, tmp_path: Path) -> AsyncIterator[str]:
    """A JupyterHub subprocess using KubeSpawner against the simulator; yields its URL."""
    ports = {name: free_port() for name in ("proxy", "hub", "proxy_api")}
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", cluster.server.url)
    config = hub_config(tmp_path, cluster.server.url, ports)
    async with kubespawner_hub(tmp_path, config, kubeconfig, ports["proxy"]) as url:
        yield url


async def test_kubespawner_spawns_through_the_simulator(
    hub: str, cluster: Cluster, core: client.CoreV1Api
) -> None:
    async with aiohttp.ClientSession() as http:
        status, _ = await api(http, "POST", f"{hub}/hub/api/users/ann")
        assert status == 201
        status, _ = await api(http, "POST", f"{hub}/hub/api/users/ann/server")
        assert status in (201, 202)
        pod = await watch_until(
            core.list_namespaced_pod,
            "default",
            name="jupyter-ann",
            predicate=lambda p: p.get("status", {}).get("phase") == "Running",
            timeout=60,
        )
        await until_ready(http, hub, "ann", 60)
        status, body = await api(http, "GET", f"{hub}/user/ann/api/status")
        assert status == 200, body
        assert "started" in body
        claim = await core.read_namespaced_persistent_volume_claim("claim-ann", "default")
        assert claim.status.phase == "Bound"
        status, _ = await api(http, "DELETE", f"{hub}/hub/api/users/ann/server")
        assert status in (202, 204)
    await eventually(lambda: pod["metadata"]["uid"] not in cluster.kubelet.pods, timeout=30)
    pid = int(pod["status"]["containerStatuses"][0]["containerID"].removeprefix("sim://"))
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the single-user server's process is gone with its pod
    assert (await core.list_namespaced_pod("default")).items == []
    claim = await core.read_namespaced_persistent_volume_claim("claim-ann", "default")
    assert claim.status.phase == "Bound"  # the user's storage outlives the server


@pytest.mark.browser
async def test_browser_reaches_jupyterlab_in_a_simulated_pod(
    hub: str, cluster: Cluster, core: client.CoreV1Api
) -> None:
    from playwright.async_api import async_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=ARGS, headless=True
        )
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(60_000)
        try:
            await page.goto(f"{hub}/hub/login")
            await page.fill("#username_input", "bea")
            await page.fill("#password_input", "any")  # the dummy authenticator
            await page.click("#login_submit")
            await page.wait_for_url(re.compile(r".*/user/bea/lab.*"), timeout=90_000)
            await page.wait_for_selector(".jp-Launcher", timeout=90_000)
            await page.screenshot(path=str(ARTIFACTS / "sim-kubespawner-jupyterlab.png"))
        except BaseException:
            await page.screenshot(path=str(ARTIFACTS / "FAILED-sim-kubespawner.png"))
            raise
        finally:
            await browser.close()
    pod = await core.read_namespaced_pod("jupyter-bea", "default")
    assert pod.status.phase == "Running" and pod.status.pod_ip.startswith("127.")
