"""The build service with the OpenShift backend, under a real hub, against the simulator.

The hub runs OVKubeSpawner and, as a managed service, the build service with the OpenShift
backend; both talk HTTP to the same simulated cluster. An admin's REST requests import and
build images; they end up in a user's spawner menu by themselves.
"""

from __future__ import annotations

import json
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from jupyterhub_ov.builder.scopes import CUSTOM_SCOPES, READ_SCOPE, WRITE_SCOPE

from ..kube.conftest import KubeSetup, kube_hub
from ..util import free_port
from .test_openshift_hub import spawn_page
from .wheels import make_wheel

pytestmark = pytest.mark.e2e
PREFIX = "/services/image-builder"


def service_config(tmp_path: Path, port: int) -> str:
    wheels = tmp_path / "wheels"
    make_wheel(wheels, "tinydep", "2.0")
    make_wheel(wheels, "tinypkg", "1.0", requires=["tinydep>=2"])
    command = [
        sys.executable,
        "-m",
        "jupyterhub_ov.builder",
        "--BuilderService.backend_class=openshift",
        f"--BuilderService.db_url=sqlite:///{tmp_path / 'builds.sqlite'}",
        f"--OpenShiftBuildBackend.kubeconfig={tmp_path / 'cluster' / 'kubeconfig'}",
        "--OpenShiftBuildBackend.namespace=default",
        f"--OpenShiftBuildBackend.find_links={wheels}",
        "--OpenShiftBuildBackend.no_index=True",
    ]
    service = {
        "name": "image-builder",
        "url": f"http://127.0.0.1:{port}",
        "display": True,
        "command": command,
        "environment": {"UV_CACHE_DIR": str(tmp_path / "uv-cache")},
        "oauth_client_allowed_scopes": [READ_SCOPE, WRITE_SCOPE],
    }
    roles = [
        {"name": "user", "scopes": ["self", "access:services!service=image-builder", READ_SCOPE]},
        {"name": "image-build-admin", "scopes": [WRITE_SCOPE], "users": ["admin"]},
    ]
    return textwrap.dedent(
        f"""
        c.JupyterHub.services.append({service!r})
        c.JupyterHub.custom_scopes = {CUSTOM_SCOPES!r}
        c.JupyterHub.load_roles.extend({roles!r})
        """
    )


def call(kube: KubeSetup, token: str, method: str, path: str, **kw: Any) -> requests.Response:
    headers = {"Authorization": f"token {token}"}
    return requests.request(
        method, f"{kube.hub.url}{PREFIX}{path}", headers=headers, timeout=30, **kw
    )


def wait_up(kube: KubeSetup, token: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if call(kube, token, "GET", "/api/builds").status_code == 200:
                return
        except requests.ConnectionError:
            pass
        assert time.monotonic() < deadline, kube.hub.log()[-3000:]
        time.sleep(0.3)


def finished(kube: KubeSetup, token: str, build_id: str) -> dict[str, Any]:
    """Follow the build's live event stream to its end, then read the record."""
    with requests.get(
        f"{kube.hub.url}{PREFIX}/api/builds/{build_id}/events",
        headers={"Authorization": f"token {token}"},
        stream=True,
        timeout=180,
    ) as stream:
        for _ in stream.iter_lines():
            pass
    return call(kube, token, "GET", f"/api/builds/{build_id}").json()


def body(name: str, display: str, build_spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "annotations": {
                "opendatahub.io/notebook-image-name": display,
                "opendatahub.io/notebook-image-desc": f"{display}, built by the build service",
            },
        },
        "spec": build_spec,
    }


async def test_rest_requests_build_images_that_reach_the_menu(tmp_path: Path) -> None:
    config = service_config(tmp_path, free_port())
    async with kube_hub(tmp_path, config) as kube:
        admin = await kube.run(kube.hub.new_token, "admin")
        user = await kube.run(kube.hub.new_token, "alice")
        await kube.run(wait_up, kube, admin)

        imported = body(
            "team",
            "Team image",
            {"buildType": "ImportImage", "fromImage": "quay.io/example/team:1"},
        )
        packages = body(
            "tiny",
            "Tiny packages",
            {
                "buildType": "PackageList",
                "runtimeEnvironment": {"pythonVersion": "3.11"},
                "packageVersions": ["tinypkg==1.0"],
            },
        )
        refused = await kube.run(call, kube, user, "POST", "/api/builds", json=imported)
        assert refused.status_code == 403  # users read, admins write
        ids = []
        for request in (imported, packages):
            r = await kube.run(call, kube, admin, "POST", "/api/builds", json=request)
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])

        done = [await kube.run(finished, kube, user, build_id) for build_id in ids]

        assert [d["phase"] for d in done] == ["Success", "Success"], json.dumps(done, indent=1)
        assert [t["phase"] for t in done[0]["transitions"]] == [
            "Preparing",
            "Importing",
            "Validating",
            "Success",
        ]
        assert done[1]["resolved"]["lock"] == ["tinydep==2.0", "tinypkg==1.0"]
        assert done[1]["packages"] and done[1]["pythonVersion"].startswith("3.")
        log = await kube.run(call, kube, user, "GET", f"/api/builds/{ids[1]}/log")
        assert log.status_code == 200 and log.text.strip()

        menu = await kube.run(spawn_page, kube.hub.url, "alice")
        for record, display in zip(done, ("Team image", "Tiny packages"), strict=True):
            assert f'value="default/{record["image"]}"' in menu and display in menu
