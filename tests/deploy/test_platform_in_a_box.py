"""deploy/ installs the platform: kubectl apply -k on the simulator, then a user's journey.

Everything the hub does here comes from the manifests (tests/deploy/box.py): a user logs in
through the overlay's Route or Ingress (HTTPS at the simulator's router, its CA trusted,
plain HTTP redirected; JupyterLab's websocket through it too), the build service (a
hub-managed service in the hub's pod) publishes an image into the menu, the user starts it
in Chromium and gets a PVC and a bucket; then the service's other features take a
CustomNBImage, a Notebook and a ModelServer applied with kubectl (tests/deploy/features.py),
and its /metrics counts the model server.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import pytest
import requests
from kubernetes_asyncio import client

from ..browser import browser_page, log_in, trusting_home
from ..kube.streams import create_stream
from ..sim.routing import routed_session
from ..util import ARTIFACTS
from . import features
from .box import ADMIN_PASSWORD, Box, platform_in_a_box

pytestmark = pytest.mark.e2e

#: how users come in, per overlay
FRONT = {"openshift": "route.route.openshift.io", "kubernetes": "ingress.networking.k8s.io"}
REDIRECT = {"openshift": 302, "kubernetes": 308}
BUCKET_CLASS = {"openshift": "openshift-storage.noobaa.io", "kubernetes": "rook-ceph-bucket"}
HUB_PODS = "app.kubernetes.io/name=jupyterhub-ov-hub"
IMPORT = {
    "metadata": {
        "name": "team",
        "annotations": {
            "opendatahub.io/notebook-image-name": "Team image",
            "opendatahub.io/notebook-image-desc": "Built by the build service",
        },
    },
    "spec": {"buildType": "ImportImage", "fromImage": "quay.io/example/team:1"},
}


def admin_token(box: Box) -> str:
    """Log in as the admin (the Secret's password) and make an API token, as in the UI."""
    url = box.url
    session = routed_session(
        box.router.address, box.router.ca_file, [box.host]
    )  # cookies of its own
    session.get(f"{url}/hub/login", timeout=30)
    xsrf = session.cookies["_xsrf"]
    login = {"username": "admin", "password": ADMIN_PASSWORD, "_xsrf": xsrf}
    session.post(f"{url}/hub/login", data=login, timeout=30).raise_for_status()
    # the login gives the session an xsrf token of its own
    xsrf = [cookie.value for cookie in session.cookies if cookie.name == "_xsrf"][-1]
    made = session.post(
        f"{url}/hub/api/users/admin/tokens",
        json={"note": "box test"},
        headers={"X-XSRFToken": xsrf},
        timeout=30,
    )
    assert made.status_code == 201, made.text
    return made.json()["token"]


def publish_image(http: requests.Session, url: str, token: str) -> dict:
    """An ImportImage build through the platform service's REST API, followed to Success."""
    api = f"{url}/services/image-builder/api/builds"
    headers = {"Authorization": f"token {token}"}
    made = http.post(api, json=IMPORT, headers=headers, timeout=30)
    assert made.status_code in (200, 201), made.text
    build_id = made.json()["id"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        build = http.get(f"{api}/{build_id}", headers=headers, timeout=30).json()
        if build["phase"] in ("Success", "Failed", "Cancelled"):
            assert build["phase"] == "Success", build
            return build
        time.sleep(1)
    raise AssertionError(f"build {build_id} did not finish: {build}")


def journey(box: Box, overlay: str, home: Path) -> str:
    """alice logs in at the hub's host name, picks the published image, reaches JupyterLab,
    whose websocket opens through the router too."""
    ARTIFACTS.mkdir(exist_ok=True)
    failed = str(ARTIFACTS / f"FAILED-deploy-{overlay}.png")
    env = trusting_home(home, box.router.ca_file)  # the simulator's CA, nothing else
    resolve = f"--host-resolver-rules=MAP {box.host} {box.router.address}"
    with browser_page(failed, args=[resolve], env=env) as page:
        sockets: list = []
        page.on("websocket", lambda socket: sockets.append(socket))
        log_in(page, box.url, "alice", "alice-password")
        page.wait_for_selector('input[name="image"]')
        menu = page.locator(".jupyterhub-ov-menu").inner_text()
        assert "Team image" in menu and "SciPy" in menu
        page.screenshot(path=str(ARTIFACTS / f"deploy-{overlay}-menu.png"), full_page=True)
        choice = page.locator(".ov-image", has_text="Team image").locator('input[name="image"]')
        chosen = choice.get_attribute("value")
        choice.check()
        page.get_by_role("button", name="Start").click()
        page.wait_for_url(re.compile(r".*/user/alice/lab.*"), timeout=120_000)
        page.wait_for_selector(".jp-Launcher", timeout=120_000)
        page.screenshot(path=str(ARTIFACTS / f"deploy-{overlay}-jupyterlab.png"))
        lab = [s for s in sockets if s.url.startswith(f"wss://{box.host}/user/alice/")]
        assert lab and not any(s.is_closed() for s in lab), [
            (s.url, s.is_closed()) for s in sockets
        ]
        return chosen


def comes_in_through_the_front(box: Box, overlay: str) -> None:
    """The Route is admitted / the Ingress has the router's address; plain HTTP is redirected."""
    plain = box.http.get(box.router.http_url(box.host) + "/hub/login?x=1", allow_redirects=False)
    assert plain.status_code == REDIRECT[overlay], plain.text
    assert plain.headers["Location"] == f"{box.url}/hub/login?x=1"


async def front_status(box: Box, overlay: str) -> None:
    """What the router wrote: the Route's Admitted condition, the Ingress's address."""
    if overlay == "openshift":
        route = await box.kubectl.json("get", "route", "jupyterhub-ov")
        (entry,) = route["status"]["ingress"]
        assert entry["host"] == box.host == "jupyterhub-ov-default.apps.sim.test"
        assert [(c["type"], c["status"]) for c in entry["conditions"]] == [("Admitted", "True")]
    else:
        ingress = await box.kubectl.json("get", "ingress", "jupyterhub-ov")
        assert ingress["status"]["loadBalancer"]["ingress"] == [{"ip": box.router.address}]


@pytest.mark.browser
@pytest.mark.parametrize("overlay", ["openshift", "kubernetes"])
async def test_the_overlay_installs_a_working_platform(tmp_path: Path, overlay: str) -> None:
    async with platform_in_a_box(tmp_path, overlay) as box:
        assert "deployment.apps/jupyterhub-ov-hub created" in box.applied
        assert "networkpolicy.networking.k8s.io/jupyterhub-ov-notebooks created" in box.applied
        assert f"{FRONT[overlay]}/jupyterhub-ov created" in box.applied
        hubs = await box.kubectl.json("get", "pods", "-l", HUB_PODS)
        (hub,) = hubs["items"]
        assert "command" not in hub["spec"]["containers"][0]  # the image's CMD runs
        async with client.ApiClient(client.Configuration(host=box.cluster.server.url)) as api:
            await create_stream(
                client.CustomObjectsApi(api), "scipy-notebook", display="SciPy", default=True
            )
        await front_status(box, overlay)
        await asyncio.to_thread(comes_in_through_the_front, box, overlay)
        token = await asyncio.to_thread(admin_token, box)
        build = await asyncio.to_thread(publish_image, box.http, box.url, token)
        chosen = await asyncio.to_thread(journey, box, overlay, tmp_path / "browser")
        assert chosen == f"default/{build['image']}"

        pods = await box.kubectl.json("get", "pods", "-l", "hub.jupyter.org/username=alice")
        (pod,) = pods["items"]
        assert pod["status"]["phase"] == "Running"
        claim = await box.kubectl.json("get", "pvc", "claim-alice")
        assert claim["status"]["phase"] == "Bound"
        bucket = await box.kubectl.json("get", "objectbucketclaim", "jupyter-bucket-alice")
        assert bucket["status"]["phase"] == "Bound"
        assert bucket["spec"]["storageClassName"] == BUCKET_CLASS[overlay]
        if overlay == "openshift":  # the same base in both: its features seen once
            await features.custom_image_is_built(box, token)
            await features.notebook_is_reconciled(box, token)
            await features.model_server_is_deployed(box, token, "jupyter-bucket-alice")
