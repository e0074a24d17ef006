"""The OpenShift-mode menu in a real browser: live ImageStreams, descriptions, software."""

from __future__ import annotations

import asyncio
import re

import pytest

from ..browser import browser_page, log_in
from ..util import ARTIFACTS
from .conftest import KubeSetup
from .streams import G, P, V, create_stream

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


async def test_menu_follows_image_streams_and_starts_the_choice(kube: KubeSetup):
    loop = asyncio.get_running_loop()
    custom = kube.custom

    def on_loop(coro):  # the simulator lives on the test's loop; the browser in a thread
        return asyncio.run_coroutine_threadsafe(coro, loop).result(30)

    def titles(page) -> list[str]:
        page.wait_for_selector('input[name="image"]')
        return page.locator(".ov-image h3").all_inner_texts()

    def browse() -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        with browser_page(str(ARTIFACTS / "FAILED-kube-browser.png")) as page:
            log_in(page, kube.hub.url, "grace", "kube-test-password")
            assert titles(page) == ["Marker", "SciPy"]
            menu = page.locator(".jupyterhub-ov-menu").inner_text()
            assert "Science" in menu and "scipy 1.14" in menu and "Python 3.11" in menu
            assert page.is_checked('input[value="default/scipy-notebook:latest"]')

            # a new stream shows up on the next render; broken ones change nothing
            on_loop(create_stream(custom, "new-notebook", display="Brand new", order="1"))
            on_loop(
                custom.create_namespaced_custom_object(
                    G, V, "default", P, {"metadata": {"name": "tagless-notebook"}, "spec": {}}
                )
            )
            on_loop(
                create_stream(
                    custom,
                    "odd-notebook",
                    display="Odd",
                    annotations={"opendatahub.io/notebook-image-order": "soon"},
                    packages=None,
                )
            )
            page.reload()
            assert titles(page) == ["Brand new", "Marker", "Odd", "SciPy"]
            page.screenshot(path=str(ARTIFACTS / "kube-spawn-menu.png"), full_page=True)
            on_loop(custom.delete_namespaced_custom_object(G, V, "default", P, "new-notebook"))
            page.reload()
            assert titles(page) == ["Marker", "Odd", "SciPy"]

            page.check('input[value="default/marker:2024.1"]')
            page.select_option('select[name="size"]', "large")
            page.get_by_role("button", name="Start").click()
            page.wait_for_url(re.compile(r".*/user/grace/lab.*"), timeout=90_000)
            page.wait_for_selector(".jp-Launcher", timeout=90_000)
            page.screenshot(path=str(ARTIFACTS / "kube-jupyterlab.png"))
            options = kube.hub.user("grace")["servers"][""]["user_options"]
            assert options == {"image": "default/marker:2024.1", "size": "large"}

            # the chosen image goes away: the menu says so and offers the default
            kube.hub.stop_server("grace")
            on_loop(custom.delete_namespaced_custom_object(G, V, "default", P, "marker"))
            page.goto(f"{kube.hub.url}/hub/spawn")
            assert titles(page) == ["Odd", "SciPy"]
            assert "'default/marker:2024.1' you chose before is no longer available" in (
                page.locator(".alert-warning").inner_text()
            )
            assert page.is_checked('input[value="default/scipy-notebook:latest"]')

    await asyncio.to_thread(browse)
