"""A built image reaches a real hub's spawner menu by itself, and starts.

A real JupyterHub with OVKubeSpawner (``tests/kube/conftest.py``) and the OpenShift build
backend share one simulated cluster: the backend imports and validates an image; the
logged-in user's ``/hub/spawn`` page then offers it (no restart, no hub API call), and a
server started from it runs that image.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from jupyterhub_ov.builds.backends.openshift.backend import OpenShiftBuildBackend
from jupyterhub_ov.builds.model import spec

from .. import hubproc
from ..builds.harness import run_build
from ..kube.conftest import kube_hub
from ..util import menu_values

pytestmark = pytest.mark.e2e
PASSWORD = "kube-test-password"  # the test hub's shared password (tests/kube/conftest.py)


def spawn_page(hub_url: str, user: str) -> str:
    """``/hub/spawn`` as ``user`` of the kube test hub sees it."""
    return hubproc.spawn_page(hub_url, user, PASSWORD)


async def test_a_built_image_is_in_the_users_menu_and_starts(tmp_path: Path) -> None:
    async with kube_hub(tmp_path) as kube:
        before = await kube.run(spawn_page, kube.hub.url, "alice")
        assert "default/scipy-notebook:latest" in menu_values(before)
        backend = OpenShiftBuildBackend(kubeconfig=str(kube.cluster.kubeconfig))
        await backend.start()
        try:
            body = {
                "metadata": {
                    "name": "team",
                    "annotations": {
                        "opendatahub.io/notebook-image-name": "Team image",
                        "opendatahub.io/notebook-image-desc": "Built by the build service",
                    },
                },
                "spec": {"buildType": "ImportImage", "fromImage": "quay.io/example/team:1"},
            }
            request = spec.parse_request(body, creator="admin", policy=spec.SpecPolicy())
            published, resolved, _ = await run_build(backend, request)
        finally:
            await backend.stop()
        choice = f"default/{resolved.image}"
        assert f"{choice}" not in menu_values(before)

        after = await kube.run(spawn_page, kube.hub.url, "alice")

        assert f"{choice}" in menu_values(after) and "Team image" in after
        assert re.search(r"Built by the build service", after)
        await kube.run(kube.hub.start_server, "bob", {"image": choice})
        pods = await kube.core.list_namespaced_pod(
            "default", label_selector="hub.jupyter.org/username=bob", _preload_content=False
        )
        (pod,) = json.loads(await pods.read())["items"]
        assert pod["spec"]["containers"][0]["image"] == published.reference
