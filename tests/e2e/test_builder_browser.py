"""An admin builds an image through the panel, in a real browser, following it live."""

from __future__ import annotations

import re

import pytest

from ..browser import browser_page, fill_package_list_build, log_in, open_service
from ..builder.svc import builder_hub
from ..util import ARTIFACTS

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture(scope="module")
def builder(tmp_path_factory):
    # slow enough phases that the page shows them arriving one by one
    with builder_hub(tmp_path_factory.mktemp("builder-browser"), step_delay=0.7) as service:
        yield service


def test_admin_builds_an_image_from_the_services_menu(builder) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with browser_page(str(ARTIFACTS / "FAILED-builder-panel.png")) as page:
        log_in(page, builder.hub.url, "admin", builder.hub.admin_password)
        page.wait_for_url(re.compile(r".*/hub/spawn.*"))
        open_service(page, builder.hub.url, "image-builder")
        hostile = "ovtiny==1.0\n--index-url https://evil.example/simple"
        fill_package_list_build(page, "BAD NAME", "Tiny", "A tiny environment", hostile)
        page.click("#submit-build")
        page.wait_for_selector("#f-name.is-invalid")  # the API's problems, next to the fields
        assert "must be lowercase" in page.inner_text("#f-name ~ .invalid-feedback")
        assert "pip options are not allowed" in page.inner_text("#f-packages ~ .invalid-feedback")
        page.screenshot(path=str(ARTIFACTS / "builder-form-errors.png"), full_page=True)
        assert builder.recorded() == []

        page.fill("#f-name", "tiny")
        page.fill("#f-packages", "ovtiny==1.0\n")
        page.click("#submit-build")
        page.wait_for_url(re.compile(r".*/services/image-builder/builds/[0-9a-f]{32}$"))
        page.wait_for_selector('#phase[data-phase="Building"]')
        page.wait_for_selector("#log >> text=step 3/3")
        assert page.locator('#transitions [data-phase="Success"]').count() == 0  # still live
        page.wait_for_selector('#phase[data-phase="Success"]', timeout=30_000)
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
        assert page.inner_text("#log").splitlines()[-1] == "step 3/3"
        page.wait_for_selector("#retry:not([hidden])")
        page.screenshot(path=str(ARTIFACTS / "builder-build-success.png"), full_page=True)

        page.get_by_role("link", name="All builds").click()
        row = page.locator("#builds tbody tr").first
        row.locator('[data-phase="Success"]').wait_for()
        assert "tiny-notebook:" in row.inner_text() and "admin" in row.inner_text()
        page.screenshot(path=str(ARTIFACTS / "builder-list.png"), full_page=True)


def test_a_user_sees_builds_read_only(builder) -> None:
    with browser_page(str(ARTIFACTS / "FAILED-builder-readonly.png")) as page:
        log_in(page, builder.hub.url, "erin", "jupyterhub-ov")
        page.wait_for_url(re.compile(r".*/hub/spawn.*"))
        page.goto(f"{builder.url}/")
        page.wait_for_selector("#builds tbody tr")
        assert page.locator("#new-build-toggle").count() == 0
        page.locator("#builds tbody tr a", has_text="Details").first.click()
        page.wait_for_selector('#transitions [data-phase="Success"]')  # replayed by the stream
        assert "step 3/3" in page.inner_text("#log")
        assert page.locator("#cancel, #retry, #delete").count() == 0
