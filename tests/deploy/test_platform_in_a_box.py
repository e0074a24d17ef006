"""deploy/ installs the platform: kubectl apply -k on the simulator, then a user's journey.

Everything the hub does here comes from the manifests (tests/deploy/box.py): a user logs in
through the Service, the build service (a hub-managed service in the hub's pod) publishes an
image into the menu, the user starts it in Chromium and gets a PVC and a bucket; then the
service's other features take a CustomNBImage, a Notebook and a ModelServer applied with
kubectl (tests/deploy/features.py), and its /metrics counts the model server.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import pytest
import requests
from kubernetes_asyncio import client

from ..browser import browser_page, log_in
from ..kube.streams import create_stream
from ..util import ARTIFACTS
from . import features
from .box import ADMIN_PASSWORD, Box, platform_in_a_box

pytestmark = pytest.mark.e2e

#: how users come in, per overlay
FRONT = {"openshift": "route.route.openshift.io", "kubernetes": "ingress.networking.k8s.io"}
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


def admin_token(url: str) -> str:
    """Log in as the admin (the Secret's password) and make an API token, as in the UI."""
    session = requests.Session()
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


def publish_image(url: str, token: str) -> dict:
    """An ImportImage build through the platform service's REST API, followed to Success."""
    api = f"{url}/services/image-builder/api/builds"
    headers = {"Authorization": f"token {token}"}
    made = requests.post(api, json=IMPORT, headers=headers, timeout=30)
    assert made.status_code in (200, 201), made.text
    build_id = made.json()["id"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        build = requests.get(f"{api}/{build_id}", headers=headers, timeout=30).json()
        if build["phase"] in ("Success", "Failed", "Cancelled"):
            assert build["phase"] == "Success", build
            return build
        time.sleep(1)
    raise AssertionError(f"build {build_id} did not finish: {build}")


def journey(box: Box, overlay: str) -> str:
    """alice logs in through the Service, picks the published image, reaches JupyterLab."""
    ARTIFACTS.mkdir(exist_ok=True)
    with browser_page(str(ARTIFACTS / f"FAILED-deploy-{overlay}.png")) as page:
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
        return chosen


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
        token = await asyncio.to_thread(admin_token, box.url)
        build = await asyncio.to_thread(publish_image, box.url, token)
        chosen = await asyncio.to_thread(journey, box, overlay)
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
