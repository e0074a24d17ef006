"""The menu's "other image" choice with a real hub and OVKubeSpawner on the simulator:
KubeSpawner 7.1's unlisted_choice rules, checked on the server at submit and again at start."""

from __future__ import annotations

import asyncio

import requests
from markupsafe import escape

from jupyterhub_ov.unlisted import UNLISTED_FIELD

from ..hubproc import spawn_page
from ..util import menu_island
from .conftest import MARKER_IMAGE, KubeSetup, kube_hub
from .test_kube_hub import pod_of

PASSWORD = "kube-test-password"
UNLISTED = r"""
c.OVKubeSpawner.unlisted_image = {
    "enabled": True,
    "display_name": "Image reference",
    "validation_regex": r"^image-registry\.sim:5000/default/",
    "validation_message": "Only images of the cluster registry.",
}
"""


def post_form(hub_url: str, user: str, form: dict) -> requests.Response:
    with requests.Session() as session:
        session.get(f"{hub_url}/hub/login", timeout=30).raise_for_status()
        login = {"username": user, "password": PASSWORD, "_xsrf": session.cookies["_xsrf"]}
        session.post(f"{hub_url}/hub/login", data=login, timeout=30).raise_for_status()
        session.get(f"{hub_url}/hub/spawn", timeout=30).raise_for_status()
        body = form | {"_xsrf": session.cookies["_xsrf"]}
        return session.post(f"{hub_url}/hub/spawn", data=body, timeout=60)


async def stopped(kube: KubeSetup, user: str) -> None:
    for _ in range(300):
        if not (await kube.run(kube.hub.user, user))["servers"].get("", {}).get("pending"):
            assert not (await kube.run(kube.hub.user, user))["servers"].get("", {}).get("ready")
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{user}'s start did not end")


async def refused_at_submit_and_start(
    kube: KubeSetup, user: str, form: dict, options: dict, at_submit: str, at_start: str
) -> None:
    """``form`` is refused at submit (``at_submit`` on the page) and nothing starts; the REST
    API skips the form, so ``options`` sent there are refused at start (``at_start`` logged)."""
    refused = await kube.run(post_form, kube.hub.url, user, form)
    assert str(escape(at_submit)) in refused.text  # as Jinja escapes it
    server = (await kube.run(kube.hub.user, user))["servers"].get("", {})
    assert not server.get("ready") and not server.get("pending") and not server.get("started")
    r = await kube.run(kube.hub.api, "POST", f"/users/{user}/server", json=options)
    assert r.status_code in (201, 202), r.text
    await stopped(kube, user)
    assert at_start in kube.hub.log()


async def wait_ready(kube: KubeSetup, user: str) -> dict:
    for _ in range(300):
        server = (await kube.run(kube.hub.user, user))["servers"].get("")
        if server and server.get("ready"):
            return server
        await asyncio.sleep(0.2)
    raise AssertionError(f"{user}'s server did not start:\n{kube.hub.log()[-3000:]}")


async def test_other_image_is_validated_at_submit_and_start(tmp_path):
    async with kube_hub(tmp_path, UNLISTED) as kube:
        page = await kube.run(spawn_page, kube.hub.url, "carol", PASSWORD)
        _, _, rest = menu_island(page)
        assert 'id="ov-other"' in rest and "Image reference" in rest
        assert 'pattern="^image-registry\\.sim:5000/default/"' in rest

        await refused_at_submit_and_start(
            kube,
            "carol",
            {"image": "unlisted-choice", UNLISTED_FIELD: "docker.io/evil/miner:1"},
            {UNLISTED_FIELD: "evil:1"},
            "'docker.io/evil/miner:1' is not allowed. Only images of the cluster registry.",
            "'evil:1' is not allowed. Only images of the cluster registry.",
        )

        await kube.run(
            post_form,
            kube.hub.url,
            "carol",
            {"image": "unlisted-choice", UNLISTED_FIELD: MARKER_IMAGE},
        )
        server = await wait_ready(kube, "carol")
        assert server["user_options"] == {UNLISTED_FIELD: MARKER_IMAGE}
        assert (await pod_of(kube, "carol"))["spec"]["containers"][0]["image"] == MARKER_IMAGE


async def test_a_typed_image_is_refused_when_not_enabled(kube: KubeSetup):
    refused = await kube.run(
        post_form, kube.hub.url, "dave", {"image": "unlisted-choice", UNLISTED_FIELD: "x:1"}
    )
    assert "Entering an image by hand is not enabled here." in refused.text
    server = (await kube.run(kube.hub.user, "dave"))["servers"].get("", {})
    assert not server.get("ready") and not server.get("pending") and not server.get("started")
