"""A person's path through the local hub, in a real browser: log in, pick an image, use it."""

from __future__ import annotations

import re

import pytest

from ..browser import browser_page, log_in
from ..util import ARTIFACTS

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_log_in_choose_image_reach_jupyterlab(local_hub):
    hub = local_hub
    ARTIFACTS.mkdir(exist_ok=True)
    with browser_page(str(ARTIFACTS / "FAILED-local-browser.png")) as page:
        log_in(page, hub.url, "frank", "jupyterhub-ov")  # his first login: sets his password
        page.wait_for_selector('input[name="image"]')
        menu = page.locator(".jupyterhub-ov-menu")
        assert menu.locator(".ov-image h3").all_inner_texts() == [
            "Default environment",
            "Marker environment",
        ]
        assert "A test environment with the ovmarker module" in menu.inner_text()
        assert "ovmarker 1.0" in menu.inner_text() and "jupyterlab" in menu.inner_text()
        assert page.is_checked('input[value="default-notebook:latest"]')
        page.screenshot(path=str(ARTIFACTS / "local-spawn-menu.png"), full_page=True)

        page.check('input[value="marker-notebook:latest"]')
        page.get_by_role("button", name="Start").click()
        page.wait_for_url(re.compile(r".*/user/frank/lab.*"), timeout=90_000)
        page.wait_for_selector(".jp-Launcher", timeout=90_000)
        page.screenshot(path=str(ARTIFACTS / "local-jupyterlab.png"))
        assert hub.user("frank")["servers"][""]["user_options"] == {
            "image": "marker-notebook:latest"
        }

        hub.stop_server("frank")
        page.goto(f"{hub.url}/hub/spawn")
        page.wait_for_selector('input[name="image"]')
        assert page.is_checked('input[value="marker-notebook:latest"]')  # last choice kept


def test_the_first_login_sets_a_names_password(local_hub):
    with browser_page() as page:
        log_in(page, local_hub.url, "mallory", "mallorys-own")
        page.wait_for_url(re.compile(r".*/hub/spawn.*"))
    with browser_page() as page:  # someone else, later, under her name
        log_in(page, local_hub.url, "mallory", "jupyterhub-ov")
        page.wait_for_selector("#login_submit")
        assert "Invalid username or password" in page.content()
    with browser_page() as page:
        log_in(page, local_hub.url, "newcomer", "short")  # too short to become a password
        page.wait_for_selector("#login_submit")
        assert "Password too short" in page.content()


@pytest.mark.parametrize(
    "username, password",
    [
        ("admin", "jupyterhub-ov"),  # the admin needs the admin password
        ("admin", "jupyterhub-ov-admin-demo-password"),  # no documented default any more
    ],
)
def test_wrong_password_is_refused(local_hub, username, password):
    with browser_page() as page:
        log_in(page, local_hub.url, username, password)
        page.wait_for_selector("#login_submit")
        assert "Invalid username or password" in page.content()


def test_admin_logs_in_with_the_admin_password(local_hub):
    with browser_page(str(ARTIFACTS / "FAILED-local-admin.png")) as page:
        log_in(page, local_hub.url, "admin", local_hub.admin_password)
        page.wait_for_url(re.compile(r".*/hub/spawn.*"))
        page.goto(f"{local_hub.url}/hub/admin")
        page.wait_for_selector("text=Add Users")
