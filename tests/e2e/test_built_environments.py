"""Environments made by the local build backend, started by the real hub of the shipped config."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import requests

from jupyterhub_ov.builds.model import spec

from ..builds.cases.local import local_backend, package_list, parse
from ..builds.gitrepos import Repo
from ..builds.harness import RecordingReporter, drive
from ..hubproc import Hub
from ..kernel import run_code

pytestmark = pytest.mark.e2e

#: a little more than the catalog's rescan interval: the menu then offers the new build
RESCAN = 1.5


def read(path: Path) -> str:
    return path.read_text()


def edit(path: Path, text: str) -> None:
    path.write_text(text)


async def build(hub: Hub, wheels: Path, request: spec.BuildRequest) -> str:
    backend = local_backend(hub.data / "environments", wheels)
    published = await drive(backend, request, RecordingReporter(request.build_type))
    await asyncio.sleep(RESCAN)
    return published.image


async def test_a_built_environment_runs_the_server_with_its_packages(local_hub, wheels):
    hub = local_hub
    image = await build(hub, wheels, package_list("tiny", "ovtiny>=2"))
    hub.start_server("heidi", {"image": image})
    code = (
        "import json, os, sys, ovtiny, jupyterlab;"
        " print(json.dumps([ovtiny.VERSION, sys.prefix, os.environ['JUPYTERHUB_OV_IMAGE']]))"
    )
    version, prefix, chosen = json.loads(await run_code(hub.url, "heidi", hub.token, code))
    assert version == "2.0" and chosen == image
    assert prefix == str(hub.data / "environments" / image.replace(":", "--"))
    # the layer's server has the buckets in its file browser (jupyter-fs from the base)
    resources = await asyncio.to_thread(
        requests.get,
        f"{hub.url}/user/heidi/jupyterfs/resources",
        headers={"Authorization": f"token {hub.token}"},
        timeout=30,
    )
    assert resources.status_code == 200, resources.text
    assert [(r["url"], r["init"]) for r in resources.json()] == [("s3://jupyter-heidi", True)]
    hub.stop_server("heidi")


async def test_a_repository_build_gives_each_user_its_notebooks_once(
    local_hub, wheels, notebook_repo: Repo
):
    hub = local_hub
    request = parse("demo", spec.BuildType.GIT_REPOSITORY, repositoryUrl=notebook_repo.url)
    image = await build(hub, wheels, request)
    hub.start_server("grace", {"image": image})
    copied = hub.data / "users" / "grace" / "demo-notebook"
    assert read(copied / "demo.ipynb") == read(notebook_repo.path / "demo.ipynb")
    code = "import ovtiny; print(ovtiny.VERSION, open('demo-notebook/data/readme.md').read())"
    assert (await run_code(hub.url, "grace", hub.token, code)).split() == ["1.0", "#", "Data"]

    edit(copied / "demo.ipynb", "grace's own version")
    hub.stop_server("grace")
    hub.start_server("grace", {"image": image})
    assert read(copied / "demo.ipynb") == "grace's own version"  # never overwritten
    hub.stop_server("grace")
