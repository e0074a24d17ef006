"""The OpenVINO notebook image in local mode, end to end in a browser.

The admin creates a Notebook in the panel's "Create Notebook" form (first with invalid
input: the API's problems, nothing created); the controller builds ``openvino-notebook``
from a small local repository standing in for openvino_notebooks, with the real
``openvino`` wheel added to its requirements; the panel shows the Notebook's state, commit,
tags and build, and a warning when a check cannot read the repository; a user starts the
image from the menu, finds the repository's notebooks in the work directory and runs an
OpenVINO model on the CPU in the started server's kernel.

The shipped config as is, except: the build service may clone ``file://`` repositories, and
packages come only from the cached real wheels and the tests' tiny wheels (``--no-index``),
so the build downloads nothing.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import importlib.util
import json
import re
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from jupyterhub_ov.builds.model.phases import PATHS
from jupyterhub_ov.service.features.notebooks import model as openvino

from ..browser import browser_page, log_in, open_service
from ..builds.gitrepos import make_repository
from ..hubproc import Hub, running_hub
from ..kernel import run_code
from ..util import ARTIFACTS

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SERVICE = "/services/image-builder"
NOTEBOOK = "v2024"
HELLO = {
    "cells": [
        {
            "cell_type": "code",
            "metadata": {},
            "source": "import openvino as ov\nov.Core().available_devices",
            "outputs": [],
            "execution_count": None,
        }
    ],
    "metadata": {},
    "nbformat": 4,
    "nbformat_minor": 5,
}
#: a model run in the started server: x * 3 compiled for the CPU
TRIPLE = """
import json, os, sys
import numpy as np, openvino as ov, openvino.opset13 as ops, ovtiny
x = ops.parameter([2], np.float32, name="x")
model = ov.Model([ops.multiply(x, ops.constant(np.float32(3)))], [x], "triple")
core = ov.Core()
out = core.compile_model(model, "CPU")([np.array([1, 2], np.float32)])[0]
print(json.dumps({
    "version": ov.get_version(), "devices": core.available_devices, "out": out.tolist(),
    "ovtiny": ovtiny.VERSION, "prefix": sys.prefix,
    "notebooks": sorted(os.listdir("openvino-notebook/notebooks")),
}))
"""


@pytest.fixture(scope="module")
def notebooks_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A stand-in for openvino_notebooks: requirements, notebooks in a folder, a Dockerfile
    (which local mode ignores); its path and the commit of ``main``."""
    path = tmp_path_factory.mktemp("git") / "openvino_notebooks"
    commit = make_repository(
        path,
        {
            "README.md": "# OpenVINO notebooks (test stand-in)\n",
            # openvino itself comes from the controller (NotebookController.packages)
            "requirements.txt": "# what the notebooks need besides openvino\novtiny==1.0\n",
            "Dockerfile": (
                "FROM quay.io/opendatahub/notebooks:base\nRUN pip install -r requirements.txt\n"
            ),
            "notebooks/hello-world/hello-world.ipynb": json.dumps(HELLO),
            "notebooks/hello-world/README.md": "# Hello OpenVINO\n",
        },
    )
    return path, commit


@pytest.fixture(scope="module")
def hub(
    tmp_path_factory: pytest.TempPathFactory, openvino_wheels: Path, wheels: Path
) -> Iterator[Hub]:
    directory = tmp_path_factory.mktemp("openvino-notebook")
    options = [
        *("--PlatformService.git_schemes=https", "--PlatformService.git_schemes=file"),
        *("--LocalBuildBackend.git_schemes=https", "--LocalBuildBackend.git_schemes=file"),
        f"--LocalBuildBackend.find_links={openvino_wheels}",
        f"--LocalBuildBackend.find_links={wheels}",
        "--LocalBuildBackend.no_index=True",
    ]
    extra = textwrap.dedent(
        f"""
        for _service in c.JupyterHub.services:
            if _service["name"] == "image-builder":
                _service["command"] = _service["command"] + {options!r}
        """
    )
    with running_hub(directory, extra) as running:
        yield running


def notebooks_api(hub: Hub, token: str, path: str = "") -> requests.Response:
    return requests.get(
        f"{hub.url}{SERVICE}/api/notebooks{path}",
        headers={"Authorization": f"token {token}"},
        timeout=30,
    )


def wait_for_check(hub: Hub, token: str, before: str | None) -> dict:
    """The record once its ``last_check`` moved past ``before``."""
    for _ in range(150):
        record = notebooks_api(hub, token, f"/{NOTEBOOK}").json()
        if record["status"]["last_check"] != before:
            return dict(record)
        time.sleep(0.2)
    raise AssertionError(f"no check after {before}")


@pytest.mark.timeout(600)
def test_admin_creates_a_notebook_and_a_user_runs_openvino(
    hub: Hub, notebooks_repo: tuple[Path, str], openvino_wheels: Path
) -> None:
    repo, commit = notebooks_repo
    wheel = next(openvino_wheels.glob("openvino-*.whl"))
    version = wheel.name.split("-")[1]
    # the hub's own environment has openvino too (the local model server runs on it, from
    # the local extra): a layer over it installs openvino only if its version differs
    assert importlib.util.find_spec("openvino") is not None
    in_base = importlib.metadata.version("openvino") == version
    token = hub.new_token("admin")
    ARTIFACTS.mkdir(exist_ok=True)
    with browser_page(str(ARTIFACTS / "FAILED-openvino-admin.png")) as page:
        log_in(page, hub.url, "admin", hub.admin_password)
        page.wait_for_url(re.compile(r".*/hub/spawn.*"))
        open_service(page, hub.url, "image-builder")
        page.wait_for_selector("#no-notebooks:not([hidden])")
        page.get_by_role("button", name="Create Notebook").click()
        # the operator's defaults
        assert page.input_value("#nb-git-uri") == openvino.DEFAULT_GIT_URI
        assert page.input_value("#nb-git-ref") == "main"
        assert page.input_value("#nb-minutes") == "120"
        assert not page.is_checked("#nb-auto-update")

        page.fill("#nb-name", "V2024!")
        page.fill("#nb-git-uri", "ftp://example.org/openvino_notebooks")
        page.fill("#nb-minutes", "0")
        page.click("#submit-notebook")
        page.wait_for_selector("#nb-name.is-invalid")
        assert "lowercase letters" in page.inner_text("#nb-name ~ .invalid-feedback")
        assert "scheme must be one of https, file" in page.inner_text(
            "#nb-git-uri ~ .invalid-feedback"
        )
        assert "whole number of minutes" in page.inner_text("#nb-minutes ~ .invalid-feedback")
        assert not page.is_visible("#nb-git-ref.is-invalid")
        page.screenshot(path=str(ARTIFACTS / "openvino-form-errors.png"), full_page=True)
        assert notebooks_api(hub, token).json() == {"notebooks": []}

        page.fill("#nb-name", NOTEBOOK)
        page.fill("#nb-git-uri", repo.as_uri())
        page.fill("#nb-minutes", "120")
        page.click("#submit-notebook")
        page.wait_for_selector("#new-notebook", state="hidden")
        row = page.locator(f'#notebooks tr[data-notebook="{NOTEBOOK}"]')
        row.locator('[data-field="build"]').click(timeout=30_000)

        page.wait_for_url(re.compile(rf".*{SERVICE}/builds/[0-9a-f]{{32}}$"))
        page.wait_for_selector('#phase[data-phase="Success"]', timeout=300_000)
        assert page.inner_text("#build-title") == f"OpenVINO™ Toolkit {NOTEBOOK} (GitRepository)"
        phases = page.locator("#transitions li").evaluate_all(
            "items => items.map(i => i.dataset.phase)"
        )
        assert phases == [p.value for p in PATHS["GitRepository"]]
        log = page.inner_text("#log")
        assert f"is commit {commit}" in log
        assert f"openvino=={version}" in log and "ovtiny==1.0" in log  # the lock
        page.screenshot(path=str(ARTIFACTS / "openvino-build.png"), full_page=True)

        page.get_by_role("link", name="All builds").click()
        ready = page.locator(f'#notebooks tr[data-notebook="{NOTEBOOK}"][data-state="Ready"]')
        ready.wait_for()
        text = ready.inner_text()
        assert f"Published openvino-notebook:{NOTEBOOK}" in text and commit[:12] in text
        assert ready.locator('[data-field="tags"]').inner_text().split() == [NOTEBOOK]
        assert ready.locator('[data-field="build_date"]').inner_text().endswith("ago")
        assert ready.locator('[data-field="build"]').inner_text() == "Last build"

        # a check that cannot read the repository: a warning, the image stays
        before = notebooks_api(hub, token, f"/{NOTEBOOK}").json()["status"]["last_check"]
        moved = repo.with_name("moved-away")
        repo.rename(moved)
        try:
            ready.get_by_role("button", name="Check now").click()
            warning = ready.locator('[data-field="warning"]')
            warning.wait_for()
            assert "could not be read" in warning.inner_text()
            # no auto-update: no check follows by itself
            assert "checked again only on request" in warning.inner_text()
            assert "alert-warning" in (warning.get_attribute("class") or "")
            page.screenshot(path=str(ARTIFACTS / "openvino-warning.png"), full_page=True)
        finally:
            moved.rename(repo)
        first = wait_for_check(hub, token, before)
        # the branch did not move: a check clears the warning and builds nothing
        ready.get_by_role("button", name="Check now").click()
        warning.wait_for(state="detached")
        record = wait_for_check(hub, token, first["status"]["last_check"])
        assert record["status"]["tags"] == [NOTEBOOK]
        assert record["status"]["build_id"] == first["status"]["build_id"]
        assert record["status"]["commit"] == commit

    with browser_page(str(ARTIFACTS / "FAILED-openvino-user.png")) as page:
        log_in(page, hub.url, "ivan", "jupyterhub-ov")
        page.wait_for_selector('input[name="image"]')
        image = page.locator(f'.ov-image:has(h3:text-is("OpenVINO™ Toolkit {NOTEBOOK}"))')
        assert commit[:12] in image.inner_text()
        # what validation found in the image's own layer (the kernel below runs openvino)
        layer = "ovtiny 1.0" if in_base else f"openvino {version}, ovtiny 1.0"
        assert image.inner_text().endswith(f"· {layer}")
        choice = image.locator('input[name="image"]')
        assert choice.get_attribute("value") == f"openvino-notebook:{NOTEBOOK}"
        page.screenshot(path=str(ARTIFACTS / "openvino-menu.png"), full_page=True)

        # users see the Notebooks, and change nothing
        page.goto(f"{hub.url}{SERVICE}/")
        page.wait_for_selector(f'#notebooks tr[data-notebook="{NOTEBOOK}"][data-state="Ready"]')
        assert page.locator("#new-notebook-toggle, #new-notebook, [data-check]").count() == 0

        page.goto(f"{hub.url}/hub/spawn")
        page.locator(f'.ov-image:has(h3:text-is("OpenVINO™ Toolkit {NOTEBOOK}"))').locator(
            'input[name="image"]'
        ).check()
        page.get_by_role("button", name="Start").click()
        page.wait_for_url(re.compile(r".*/user/ivan/lab.*"), timeout=90_000)
        page.wait_for_selector(".jp-Launcher", timeout=90_000)
        page.screenshot(path=str(ARTIFACTS / "openvino-lab.png"))

    copied = hub.data / "users" / "ivan" / "openvino-notebook"
    notebook = "notebooks/hello-world/hello-world.ipynb"
    assert (copied / notebook).read_text() == (repo / notebook).read_text()
    assert not (copied / ".git").exists()
    # the Sync browser API cannot run inside an event loop: the kernel call gets its own
    result = json.loads(asyncio.run(run_code(hub.url, "ivan", hub.token, TRIPLE, timeout=120)))
    assert result["version"].startswith(version)
    assert "CPU" in result["devices"] and result["out"] == [3.0, 6.0]
    assert result["ovtiny"] == "1.0" and result["notebooks"] == ["hello-world"]
    assert result["prefix"] == str(hub.data / "environments" / f"openvino-notebook--{NOTEBOOK}")
    hub.stop_server("ivan")
