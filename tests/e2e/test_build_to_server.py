"""Local mode end to end, in a browser: the admin builds an image in the panel, a user starts it.

The shipped config as is, with the real local build backend (uv, layered on the hub's own
environment); the only change is where packages come from: tiny wheels this test writes
(``--no-index --find-links``), so nothing is downloaded.
"""

from __future__ import annotations

import asyncio
import re
import textwrap
from collections.abc import Iterator

import pytest

from ..browser import browser_page, fill_package_list_build, log_in, open_service
from ..builds.wheels import tiny_index
from ..hubproc import Hub, running_hub
from ..kernel import run_code
from ..util import ARTIFACTS

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    directory = tmp_path_factory.mktemp("build-to-server")
    wheels = tiny_index(directory / "wheels")
    extra = textwrap.dedent(
        f"""
        for _service in c.JupyterHub.services:
            if _service["name"] == "image-builder":
                _service["command"] = _service["command"] + [
                    "--LocalBuildBackend.find_links={wheels}",
                    "--LocalBuildBackend.no_index=True",
                ]
        """
    )
    with running_hub(directory, extra) as running:
        yield running


def test_admin_builds_in_the_panel_and_a_user_starts_the_new_image(hub: Hub) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with browser_page(str(ARTIFACTS / "FAILED-build-to-server.png")) as page:
        log_in(page, hub.url, "admin", hub.admin_password)
        page.wait_for_url(re.compile(r".*/hub/spawn.*"))
        open_service(page, hub.url, "image-builder")
        description = "ovtiny and its dependency, built in the panel"
        fill_package_list_build(page, "tinytools", "Tiny tools", description, "ovtiny==2.0\n")
        page.click("#submit-build")
        page.wait_for_url(re.compile(r".*/services/image-builder/builds/[0-9a-f]{32}$"))
        # phases and log lines arrive while the build runs (uv's output, the validation)
        page.wait_for_selector('#phase[data-phase="Validating"]', timeout=60_000)
        assert page.locator('#transitions [data-phase="Success"]').count() == 0
        assert page.inner_text("#log").strip()
        page.wait_for_selector('#phase[data-phase="Success"]', timeout=120_000)
        phases = page.locator("#transitions li").evaluate_all(
            "items => items.map(i => i.dataset.phase)"
        )
        assert phases == [
            "Preparing",
            "Resolving",
            "Building",
            "Importing",
            "Validating",
            "Success",
        ]
        log = page.inner_text("#log")
        assert "ovtiny" in log and "ovdep" in log  # what uv resolved and installed
        page.screenshot(path=str(ARTIFACTS / "build-to-server-build.png"), full_page=True)

    with browser_page(str(ARTIFACTS / "FAILED-build-to-server-user.png")) as page:
        log_in(page, hub.url, "ivan", "jupyterhub-ov")
        page.wait_for_selector('input[name="image"]')
        image = page.locator('.ov-image:has(h3:text-is("Tiny tools"))')
        assert "ovtiny and its dependency, built in the panel" in image.inner_text()
        # the image's top-level packages (ovdep came as ovtiny's dependency)
        assert "ovtiny 2.0" in image.inner_text() and "ovdep" not in image.inner_text()
        choice = image.locator('input[name="image"]')
        value = choice.get_attribute("value") or ""
        assert value.startswith("tinytools-notebook:")
        page.screenshot(path=str(ARTIFACTS / "build-to-server-menu.png"), full_page=True)
        choice.check()
        page.get_by_role("button", name="Start").click()
        page.wait_for_url(re.compile(r".*/user/ivan/lab.*"), timeout=90_000)
        page.wait_for_selector(".jp-Launcher", timeout=90_000)
        page.screenshot(path=str(ARTIFACTS / "build-to-server-lab.png"))

    # the Sync browser API cannot run inside an event loop: the kernel call gets its own
    out = asyncio.run(run_code(hub.url, "ivan", hub.token, "import ovtiny; print(ovtiny.VERSION)"))
    assert out.strip() == "2.0"
    assert hub.user("ivan")["servers"][""]["user_options"] == {"image": value}
    hub.stop_server("ivan")
