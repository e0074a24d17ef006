"""The S3-aware minimal notebook's local request (images/requests/minimal-notebook.json) built
for real by the local build backend and started by the real hub of the shipped config: a
single-user server that answers, with the user's bucket in its file browser."""

from __future__ import annotations

import asyncio
import json

import pytest
import requests

from jupyterhub_ov.builds.model.spec import parse_request
from jupyterhub_ov.builds.model.spec_rules import SpecPolicy

from ..builds.cases.local import local_backend
from ..builds.harness import RecordingReporter, drive
from ..builds.openvino_wheels import cached_wheels
from ..images.manifests import IMAGES
from ..kernel import run_code

pytestmark = pytest.mark.e2e

#: a little more than the catalog's rescan interval: the menu then offers the new build
RESCAN = 1.5


async def test_the_minimal_request_builds_and_serves_the_bucket_browser(local_hub):
    hub = local_hub
    body = json.loads((IMAGES / "requests" / "minimal-notebook.json").read_text())
    request = parse_request(body, creator="admin", policy=SpecPolicy())
    # the real wheels of its packages, offline after the first run (.cache/wheels)
    wheels = await asyncio.to_thread(
        cached_wheels, "minimal-notebook", list(request.package_versions)
    )
    backend = local_backend(hub.data / "environments", wheels)
    published = await drive(backend, request, RecordingReporter(request.build_type))
    await asyncio.sleep(RESCAN)
    assert published.image.startswith("minimal-notebook:")

    hub.start_server("ivan", {"image": published.image})
    code = (
        "import json, os, sys, boto3, jupyterfs, s3fs;"
        " print(json.dumps([sys.prefix, os.environ['JUPYTERHUB_OV_IMAGE']]))"
    )
    prefix, chosen = json.loads(await run_code(hub.url, "ivan", hub.token, code))
    assert chosen == published.image
    assert prefix == str(hub.data / "environments" / published.image.replace(":", "--"))
    resources = await asyncio.to_thread(
        requests.get,
        f"{hub.url}/user/ivan/jupyterfs/resources",
        headers={"Authorization": f"token {hub.token}"},
        timeout=30,
    )
    assert resources.status_code == 200, resources.text
    drives = [(r["url"], r["init"], r.get("errors")) for r in resources.json()]
    assert drives == [("s3://jupyter-ivan", True, [])], drives
    hub.stop_server("ivan")
