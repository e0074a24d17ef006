"""Binary builds on the simulated build controller: ``instantiatebinary`` with an upload, as
``oc start-build --from-dir|--from-repo|--from-archive|--from-file`` sends it."""

# The client annotates bodies as models; it accepts dicts.
# mypy: disable-error-code="arg-type"

from __future__ import annotations

import io
import tarfile
from typing import Any

from jupyterhub_ov_sim.buildbehaviours import RecordingBuilds
from kubernetes_asyncio import client

from .conftest import Cluster
from .helpers import RawHTTP, watch_until

BUILDS = ("build.openshift.io", "v1", "default", "builds")
CONFIGS = ("build.openshift.io", "v1", "default", "buildconfigs")
STREAMS = ("image.openshift.io", "v1", "default", "imagestreams")
BINARY = "/apis/build.openshift.io/v1/namespaces/default/buildconfigs/{}/instantiatebinary"
CONTAINERFILE = b"FROM base\nCOPY conf/settings.py /etc/app/\nRUN true\n"


def archive(files: dict[str, bytes]) -> bytes:
    """A tar.gz as ``oc start-build --from-dir`` streams it."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def binary_config(name: str, source: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "build.openshift.io/v1",
        "kind": "BuildConfig",
        "metadata": {"name": name},
        "spec": {
            "source": source or {"type": "Binary", "binary": {}, "contextDir": "app"},
            "strategy": {"type": "Docker", "dockerStrategy": {"dockerfilePath": "Containerfile"}},
            "output": {"to": {"kind": "ImageStreamTag", "name": "bin:latest"}},
        },
    }


async def upload(raw: RawHTTP, name: str, body: bytes, query: str = "") -> tuple[int, Any]:
    async with raw.session.post(raw.base + BINARY.format(name) + query, data=body) as r:
        return r.status, await r.json()


def finished(build: dict[str, Any]) -> bool:
    return build.get("status", {}).get("phase") in ("Complete", "Failed")


async def outcome(custom: client.CustomObjectsApi, name: str) -> tuple[str, str]:
    done = await watch_until(
        custom.list_namespaced_custom_object, *BUILDS, name=name, predicate=finished
    )
    return done["status"]["phase"], done["status"].get("logSnippet", "")


async def test_an_upload_is_the_build_context_and_a_build_without_one_fails(
    cluster: Cluster, custom: client.CustomObjectsApi, raw: RawHTTP
) -> None:
    behaviour = RecordingBuilds()
    cluster.builds.behaviour = behaviour
    await custom.create_namespaced_custom_object(*STREAMS, {"metadata": {"name": "bin"}})
    await custom.create_namespaced_custom_object(*CONFIGS, binary_config("bin"))
    whole = {"app/Containerfile": CONTAINERFILE, "app/conf/settings.py": b"x = 1\n"}

    status, build = await upload(raw, "bin", archive(whole))
    assert status == 201, build
    assert build["metadata"]["name"] == "bin-1"
    assert build["spec"]["source"]["binary"] == {}
    assert build["spec"]["triggeredBy"] == [{"message": "Manually triggered"}]
    assert await outcome(custom, "bin-1") == ("Complete", "")
    assert behaviour.seen("bin-1").dockerfile == CONTAINERFILE.decode()
    stream = await custom.get_namespaced_custom_object(*STREAMS, "bin")
    assert [t["tag"] for t in stream["status"]["tags"]] == ["latest"]

    # what the Containerfile COPYs is not in the upload; the Containerfile is not either
    await upload(raw, "bin", archive({"app/Containerfile": CONTAINERFILE}))
    await upload(raw, "bin", archive({"Containerfile": CONTAINERFILE}))
    # a Binary build started without an upload (a trigger, a plain instantiate)
    cluster.builds.instantiate("default", "bin")
    assert await outcome(custom, "bin-2") == (
        "Failed",
        "error: COPY failed: conf/settings.py: no such file in the build context\n",
    )
    assert await outcome(custom, "bin-3") == (
        "Failed",
        "error: no Dockerfile at app/Containerfile in the binary input (1 files)\n",
    )
    phase, log = await outcome(custom, "bin-4")
    assert phase == "Failed" and "a Binary build needs binary input" in log, log


async def test_what_the_api_refuses_and_discovery(
    cluster: Cluster, custom: client.CustomObjectsApi, raw: RawHTTP
) -> None:
    await custom.create_namespaced_custom_object(*CONFIGS, binary_config("bin"))
    git = {"type": "Git", "git": {"uri": "https://github.com/openvinotoolkit/openvino_notebooks"}}
    await custom.create_namespaced_custom_object(*CONFIGS, binary_config("gitbc", git))
    status, body = await upload(raw, "bin", b"not an archive")
    assert (status, body["reason"]) == (400, "BadRequest")
    assert "not a tar archive" in body["message"]
    status, body = await upload(raw, "gitbc", archive({"Dockerfile": b"FROM x\n"}))
    assert (status, body["reason"]) == (400, "BadRequest")
    status, body = await upload(raw, "missing", archive({"Dockerfile": b"FROM x\n"}))
    assert (status, body["reason"]) == (404, "NotFound")
    status, body = await upload(raw, "bin", CONTAINERFILE, "?asFile=../Containerfile")
    assert (status, body["reason"]) == (400, "BadRequest")
    listed = await custom.list_namespaced_custom_object(*BUILDS)
    assert listed["items"] == []  # a refused upload starts nothing
    status, build = await upload(raw, "bin", CONTAINERFILE, "?asFile=Containerfile")
    assert status == 201 and build["spec"]["source"]["binary"] == {"asFile": "Containerfile"}
    resources = await custom.get_api_resources("build.openshift.io", "v1")
    listed_resources = {r.name: r for r in resources.resources}
    assert listed_resources["buildconfigs/instantiatebinary"].verbs == ["create"]
    assert listed_resources["buildconfigs/instantiatebinary"].kind == "BinaryBuildRequestOptions"
