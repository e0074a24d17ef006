"""Playwright driving Debian's Chromium (never a downloaded browser)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def trusting_home(home: Path, ca_file: Path) -> dict[str, str]:
    """An environment whose ``HOME`` has an NSS database trusting ``ca_file`` for servers.

    Chromium on Linux trusts the certificates of ``$HOME/.pki/nssdb`` besides its own roots;
    ``certutil`` (Debian's libnss3-tools) writes it.
    """
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True, exist_ok=True)
    certutil = ["certutil", "-d", f"sql:{nssdb}"]
    subprocess.run([*certutil, "-N", "--empty-password"], check=True, capture_output=True)
    trust = ["-A", "-n", "simulator-ca", "-t", "C,,", "-i", str(ca_file)]
    subprocess.run([*certutil, *trust], check=True, capture_output=True)
    return {**os.environ, "HOME": str(home)}


@contextmanager
def browser_page(
    failure_screenshot: str | None = None,
    *,
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> Iterator:
    """A page of a fresh headless Chromium; ``args`` added to its command line, ``env`` its
    environment (e.g. ``trusting_home``'s)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=[*ARGS, *args], env=env, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(30_000)
            try:
                yield page
            except BaseException:
                if failure_screenshot:
                    page.screenshot(path=failure_screenshot, full_page=True)
                raise
        finally:
            browser.close()


def log_in(page, hub_url: str, username: str, password: str) -> None:
    page.goto(f"{hub_url}/hub/login")
    page.fill("#username_input", username)
    page.fill("#password_input", password)
    page.click("#login_submit")


def open_service(page, hub_url: str, name: str) -> None:
    """From the hub's home page, through the Services menu, to the service ``name``."""
    import re

    page.goto(f"{hub_url}/hub/home")
    page.get_by_role("button", name="Services").click()
    page.get_by_role("link", name=name).click()
    page.wait_for_url(re.compile(rf".*/services/{name}/$"))


def fill_package_list_build(page, name: str, display: str, description: str, packages: str) -> None:
    """The build panel's "New build" form for a package list, not yet submitted."""
    page.get_by_role("button", name="New build").click()
    page.check("#type-PackageList")
    page.fill("#f-name", name)
    page.fill("#f-display", display)
    page.fill("#f-description", description)
    page.fill("#f-packages", packages)
