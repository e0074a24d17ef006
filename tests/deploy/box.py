"""The platform in a box: deploy/'s manifests applied with kubectl to the simulator.

The simulator's controllers do the rest: the Deployment's pod runs the hub as a local process
(settings and the ConfigMap-mounted jupyterhub_config.py from the manifests; the command, as
the pod gives none, the image's: images/hub/Containerfile's ENTRYPOINT/CMD as read from the
file), the Service forwards its cluster IP to it. Only the hub's *image* is mapped to this
checkout: its PATH (this environment's executables and configurable-http-proxy), the
simulator's kubeconfig (a pod there has no service-account token), and, because the simulator
runs every pod as root, --allow-root for the notebooks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from jupyterhub_ov_sim.cluster import SimulatedCluster, cluster_options, this_environment_path

from ..sim.helpers import Kubectl
from ..util import REPO
from .containerfile import HUB, command, final_stage

#: the hub's image as each overlay names it
HUB_IMAGES = {
    "openshift": "jupyterhub-ov-hub:latest",
    "kubernetes": "registry.example.com/jupyterhub-ov/hub:latest",
}
ADMIN_PASSWORD = "box-admin-password"


@dataclass
class Box:
    cluster: SimulatedCluster
    kubectl: Kubectl
    #: the Service jupyterhub-ov, as users reach it
    url: str
    applied: str


def hub_image_env(kubeconfig: Path) -> dict[str, str]:
    return {
        "PATH": f"{REPO / 'node_modules' / '.bin'}:{this_environment_path()}",
        "KUBECONFIG": str(kubeconfig),
        "JUPYTERHUB_OV_NOTEBOOK_ARGS": "--allow-root",
    }


def wait_healthy(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(f"{url}/hub/health", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"the hub never answered at {url}/hub/health")
        time.sleep(0.5)


async def output(kubectl: Kubectl, *args: str) -> str:
    """What a kubectl command prints, whether it fails or not (for a failure's message)."""
    process = await kubectl.start(*args)
    out, _ = await asyncio.wait_for(process.communicate(), 30)
    return out.decode()


@asynccontextmanager
async def platform_in_a_box(directory: Path, overlay: str) -> AsyncIterator[Box]:
    """The simulator with S3, ``kubectl apply -k deploy/overlays/<overlay>``, the hub healthy."""
    state = directory / "cluster"
    options = cluster_options(
        state,
        s3=True,
        image_env={HUB_IMAGES[overlay]: hub_image_env(state / "kubeconfig")},
        entrypoints={HUB_IMAGES[overlay]: command(final_stage(HUB))},
        bucket_classes={"openshift-storage.noobaa.io": "Delete", "rook-ceph-bucket": "Delete"},
    )
    async with SimulatedCluster(options) as cluster:
        env = {"KUBECONFIG": str(cluster.kubeconfig), "PATH": this_environment_path()}
        kubectl = Kubectl({**env, "HOME": str(directory)})  # its cache stays in the test's dir
        await kubectl(
            "create", "secret", "generic", "jupyterhub-ov-hub",
            f"--from-literal=admin-password={ADMIN_PASSWORD}",
        )  # fmt: skip
        applied = await kubectl("apply", "-k", str(REPO / "deploy" / "overlays" / overlay))
        service = await kubectl.json("get", "service", "jupyterhub-ov")
        url = f"http://{service['spec']['clusterIP']}:{service['spec']['ports'][0]['port']}"
        try:
            await asyncio.to_thread(wait_healthy, url)
        except AssertionError as error:
            pods = await output(kubectl, "get", "pods", "-o", "wide")
            log = await output(kubectl, "logs", "deployment/jupyterhub-ov-hub", "--tail=60")
            raise AssertionError(f"{error}\n{pods}\n{log}") from None
        yield Box(cluster, kubectl, url, applied)
