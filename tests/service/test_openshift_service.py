"""The build service with the OpenShift backend, under a real hub, against the simulator.

The hub runs OVKubeSpawner and, as a managed service, the build service with the OpenShift
backend; both talk HTTP to the same simulated cluster (one hub and cluster for the module).
An admin's REST requests import and build images, and an admin's ``Notebook`` resource gets
the OpenVINO notebook image built: they end up in a user's spawner menu by themselves. A
``ModelServer`` resource gets its Deployment and Service and a status from the same service,
and a ``CustomNBImage`` resource's image reaches the menu with its name and description.
"""

# The client annotates bodies as models; it accepts dicts.
# mypy: disable-error-code="arg-type"

from __future__ import annotations

import html
import json
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import requests
import yaml
from jupyterhub_ov_sim.buildbehaviours import RecordingBuilds
from kubernetes_asyncio import client

from jupyterhub_ov.service.features.notebooks import model as openvino
from jupyterhub_ov.service.scopes import CUSTOM_SCOPES, READ_SCOPE, WRITE_SCOPE

from ..builds.gitrepos import make_repository
from ..builds.wheels import make_wheel
from ..kube.conftest import KubeSetup, kube_hub
from ..sim.helpers import watch_until
from ..util import REPO, free_port, menu_values
from .test_openshift_hub import spawn_page

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]
PREFIX = "/services/image-builder"
APPS, OPERATOR = "redhat-ods-applications", ("redhat-ods-operator", "rhods-operator")


def service_config(tmp_path: Path, port: int) -> str:
    wheels = tmp_path / "wheels"
    make_wheel(wheels, "tinydep", "2.0")
    make_wheel(wheels, "tinypkg", "1.0", requires=["tinydep>=2"])
    for name, version in (("pandas", "2.0.3"), ("boto3", "1.26.0")):  # the CNBi examples'
        make_wheel(wheels, name, version)
    # the git repository example's GitHub repository, as a local one git is pointed at
    tutorial = tmp_path / "elyra-aidevsecops-tutorial.git"
    make_repository(tutorial, {"requirements.txt": "pandas\n"}, branch="master")
    home = tmp_path / "service-home"
    home.mkdir()
    (home / ".gitconfig").write_text(
        f'[url "{tutorial.as_uri()}"]\n\tinsteadOf = https://github.com/AICoE/elyra-aidevsecops-tutorial\n'
    )
    command = [
        sys.executable,
        "-m",
        "jupyterhub_ov.service",
        "--PlatformService.backend_class=openshift",
        f"--PlatformService.db_url=sqlite:///{tmp_path / 'builds.sqlite'}",
        f"--OpenShiftBuildBackend.kubeconfig={tmp_path / 'cluster' / 'kubeconfig'}",
        "--OpenShiftBuildBackend.namespace=default",
        f"--OpenShiftBuildBackend.find_links={wheels}",
        "--OpenShiftBuildBackend.no_index=True",
        # the local repository standing in for openvino_notebooks (the Notebook reconciler
        # runs by default with this backend, on the backend's kubeconfig)
        "--PlatformService.git_schemes=https",
        "--PlatformService.git_schemes=file",
        "--PlatformService.git_hosts=[]",
        "--OpenShiftBuildBackend.git_schemes=https",
        "--OpenShiftBuildBackend.git_schemes=file",
        "--OpenShiftBuildBackend.git_hosts=[]",
    ]
    service = {
        "name": "image-builder",
        "url": f"http://127.0.0.1:{port}",
        "display": True,
        "command": command,
        "environment": {"UV_CACHE_DIR": str(tmp_path / "uv-cache"), "HOME": str(home)},
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
        except (requests.ConnectionError, requests.Timeout):  # bound, not yet serving
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


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def kube(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[KubeSetup]:
    """The simulator (builds recorded), a hub with OVKubeSpawner and the build service."""
    tmp_path = tmp_path_factory.mktemp("openshift-service")
    config = service_config(tmp_path, free_port())
    async with kube_hub(tmp_path, config, build_behaviour=RecordingBuilds()) as kube:
        admin = await kube.run(kube.hub.new_token, "admin")
        await kube.run(wait_up, kube, admin)
        yield kube


async def test_rest_requests_build_images_that_reach_the_menu(kube: KubeSetup) -> None:
    admin = await kube.run(kube.hub.new_token, "admin")
    user = await kube.run(kube.hub.new_token, "alice")

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
        assert f"default/{record['image']}" in menu_values(menu) and display in menu


async def test_a_notebook_resource_gets_the_openvino_image_into_the_menu_and_its_status(
    kube: KubeSetup, tmp_path: Path
) -> None:
    repo = tmp_path / "openvino_notebooks"
    dockerfile = "FROM quay.io/opendatahub/notebooks:jupyter-minimal-ubi9-python-3.11\n"
    commit = await kube.run(make_repository, repo, {"Dockerfile": dockerfile})
    core, apps = kube.core, client.AppsV1Api(kube.api)
    for namespace in (APPS, OPERATOR[0]):
        await core.create_namespace({"metadata": {"name": namespace}})
    labels = {"name": OPERATOR[1]}
    template = {
        "metadata": {"labels": labels},
        "spec": {"containers": [{"name": "m", "image": "o"}]},
    }
    deployment = {
        "metadata": {"name": OPERATOR[1], "labels": labels},
        "spec": {"selector": {"matchLabels": labels}, "template": template},
    }
    await apps.create_namespaced_deployment(OPERATOR[0], deployment)

    # what an admin's `oc apply -f notebook.yaml` sends
    notebook = {
        "apiVersion": "intel.com/v1alpha1",
        "kind": "Notebook",
        "metadata": {"name": "v2024"},
        "spec": {"git_uri": repo.as_uri(), "git_ref": "main"},
    }
    G, V, P = openvino.GROUP, openvino.VERSION, openvino.PLURAL
    await kube.custom.create_namespaced_custom_object(G, V, APPS, P, notebook)
    done = await watch_until(
        kube.custom.list_namespaced_custom_object,
        G,
        V,
        APPS,
        P,
        name="v2024",
        predicate=lambda n: any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in (n.get("status") or {}).get("conditions") or ()
        ),
        timeout=120,
    )

    status = done["status"]
    assert status["commit"] == commit and status["image"] == "openvino-notebook:v2024"
    assert status["build_date"] and status["latest_update_date"]
    assert status["observedGeneration"] == 1
    builds = kube.cluster.builds
    assert builds is not None and isinstance(builds.behaviour, RecordingBuilds)
    (built,) = [i for i in builds.behaviour.inputs if i.output == "openvino-notebook:v2024"]
    assert (built.strategy, built.git_uri, built.git_ref) == ("Docker", repo.as_uri(), commit)
    admin = await kube.run(kube.hub.new_token, "admin")
    record = (await kube.run(call, kube, admin, "GET", "/api/notebooks/v2024")).json()
    assert record["namespace"] == APPS and record["status"]["commit"] == commit

    menu = await kube.run(spawn_page, kube.hub.url, "alice")
    assert "default/openvino-notebook:v2024" in menu_values(menu)
    assert "OpenVINO™ Toolkit v2024" in menu


async def test_a_model_server_resource_gets_its_deployment_service_and_status(
    kube: KubeSetup,
) -> None:
    # the modelservers feature runs by default and, with this backend, reconciles the cluster's
    # ModelServers on the backend's kubeconfig (its pods run the local model server, which
    # finds no model here: test_ovms_on_sim.py serves one)
    server = {
        "apiVersion": "intel.com/v1alpha1",
        "kind": "ModelServer",
        "metadata": {"name": "wired"},
        "spec": {"models_settings": {"model_name": "m", "model_path": "s3://models/m"}},
    }
    G, V, P = "intel.com", "v1alpha1", "modelservers"
    created = await kube.custom.create_namespaced_custom_object(G, V, "default", P, server)
    done = await watch_until(
        kube.custom.list_namespaced_custom_object,
        G,
        V,
        "default",
        P,
        name="wired",
        predicate=lambda m: bool((m.get("status") or {}).get("endpoints")),
        timeout=60,
    )
    assert done["status"]["labelSelector"] == "release=wired"
    assert done["status"]["endpoints"]["rest"] == "wired-ovms.default.svc:8081"
    owner = created["metadata"]["uid"]
    deployment = await client.AppsV1Api(kube.api).read_namespaced_deployment(
        "wired-ovms", "default"
    )
    service = await kube.core.read_namespaced_service("wired-ovms", "default")
    for made in (deployment, service):
        assert [ref.uid for ref in made.metadata.owner_references] == [owner]
    await kube.custom.delete_namespaced_custom_object(G, V, "default", P, "wired")


@pytest.mark.parametrize("example", ["import-image", "package-list", "git-repository"])
async def test_a_custom_nb_image_resource_reaches_the_menu_with_its_name_and_description(
    kube: KubeSetup, example: str
) -> None:
    # the customimages feature runs by default and, with this backend, builds the
    # CustomNBImage resources of the backend's namespace (each of the design's examples)
    resource = yaml.safe_load((REPO / f"docs/examples/customnbimages/{example}.yaml").read_text())
    name = resource["metadata"]["name"]
    annotations = resource["metadata"]["annotations"]
    G, V, P = "meteor.zone", "v1alpha1", "customnbimages"
    await kube.custom.create_namespaced_custom_object(G, V, "default", P, resource)
    done = await watch_until(
        kube.custom.list_namespaced_custom_object,
        G,
        V,
        "default",
        P,
        name=name,
        predicate=lambda r: (r.get("status") or {}).get("phase") in ("Success", "Failure"),
        timeout=180,
    )
    assert done["status"]["phase"] == "Success", done["status"]
    image = done["status"]["image"]
    # published as a `*-notebook` stream (the legacy menu rule) unless so named already
    assert image.split(":")[0] in (name, f"{name}-notebook"), image

    menu = await kube.run(spawn_page, kube.hub.url, "alice")
    assert f"default/{image}" in menu_values(menu)
    assert html.escape(annotations["opendatahub.io/notebook-image-name"]) in menu
    assert html.escape(annotations["opendatahub.io/notebook-image-desc"]) in menu
    admin = await kube.run(kube.hub.new_token, "admin")
    record = await kube.run(call, kube, admin, "GET", f"/api/builds/{done['status']['buildId']}")
    assert record.json()["resource"] == f"{P}.{G}/default/{name}"
    assert record.json()["creator"] == annotations["opendatahub.io/notebook-image-creator"]
