"""The platform in a box: deploy/'s manifests applied with kubectl to the simulator.

The simulator's controllers do the rest: the Deployment's pod runs the hub as a local process
(settings and the ConfigMap-mounted jupyterhub_config.py from the manifests; the command, as
the pod gives none, the image's: images/hub/Containerfile's ENTRYPOINT/CMD as read from the
file), the Service forwards its cluster IP to it, and users come in as on a cluster:
through the overlay's Route (edge TLS with the router's certificate) or Ingress (TLS with its
Secret, which the box makes with the simulator's CA), by host name at the simulator's router,
trusting that CA only (tests/sim/routing.py). Only the hub's *image* is mapped to
this checkout: its PATH (this environment's executables and configurable-http-proxy), the
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
from jupyterhub_ov_sim.router import Router

from ..sim.helpers import Kubectl
from ..sim.routing import routed_session
from ..util import REPO
from .containerfile import HUB, command, final_stage

#: the hub's image as each overlay names it
HUB_IMAGES = {
    "openshift": "jupyterhub-ov-hub:latest",
    "kubernetes": "registry.example.com/jupyterhub-ov/hub:latest",
}
ADMIN_PASSWORD = "box-admin-password"
#: the Ingress's host (deploy/overlays/kubernetes/ingress.yaml) and its TLS Secret
INGRESS_HOST, INGRESS_SECRET = "jupyterhub.example.com", "jupyterhub-ov-tls"


@dataclass
class Box:
    cluster: SimulatedCluster
    kubectl: Kubectl
    router: Router
    #: the hub's host name (the Route's or the Ingress's) and its https URL at the router
    host: str
    url: str
    #: requests through the router to ``host``, verifying TLS against the simulator's CA
    http: requests.Session
    applied: str


def hub_image_env(kubeconfig: Path) -> dict[str, str]:
    return {
        "PATH": f"{REPO / 'node_modules' / '.bin'}:{this_environment_path()}",
        "KUBECONFIG": str(kubeconfig),
        "JUPYTERHUB_OV_NOTEBOOK_ARGS": "--allow-root",
    }


def wait_healthy(http: requests.Session, url: str, timeout: float = 120) -> None:
    """Until the hub answers. On a loaded machine its first start may fail (the hub exits when
    its managed service does not answer within ~10 s) and the ReplicaSet's next pod serve."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if http.get(f"{url}/hub/health", timeout=5).status_code == 200:
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
        assert cluster.router is not None
        if overlay == "kubernetes":
            await tls_secret(kubectl, cluster.router, directory)
        applied = await kubectl("apply", "-k", str(REPO / "deploy" / "overlays" / overlay))
        host = INGRESS_HOST
        if overlay == "openshift":  # the host the Route was given
            host = (await kubectl.json("get", "route", "jupyterhub-ov"))["spec"]["host"]
        url = cluster.router.https_url(host)
        http = routed_session(cluster.router.address, cluster.router.ca_file, [host])
        try:
            await asyncio.to_thread(wait_healthy, http, url)
        except AssertionError as error:
            columns = "custom-columns=OBJECT:.involvedObject.name,REASON:.reason,MESSAGE:.message"
            events = await output(kubectl, "get", "events", "-o", columns)
            log = await output(kubectl, "logs", "deployment/jupyterhub-ov-hub", "--tail=60")
            raise AssertionError(f"{error}\n{events}\n{log}") from None
        with http:
            yield Box(cluster, kubectl, cluster.router, host, url, http, applied)


async def tls_secret(kubectl: Kubectl, router: Router, directory: Path) -> None:
    """The Ingress's TLS Secret, a certificate for its host signed by the simulator's CA."""
    cert, key = router.ca.issue([INGRESS_HOST])
    (directory / "tls.crt").write_bytes(cert)
    (directory / "tls.key").write_bytes(key)
    await kubectl(
        "create", "secret", "tls", INGRESS_SECRET,
        f"--cert={directory / 'tls.crt'}", f"--key={directory / 'tls.key'}",
    )  # fmt: skip
