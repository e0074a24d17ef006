"""The simulated OpenShift build controller: phases, output tags, logs, injected failures."""

# The client annotates bodies as models; it accepts dicts.
# mypy: disable-error-code="arg-type"

from __future__ import annotations

from typing import Any

from kubernetes_asyncio import client

from jupyterhub_ov.sim.builds import REGISTRY, fail_after

from .conftest import Cluster, WatchCollector
from .helpers import RawHTTP, watch_until

BUILDS = ("build.openshift.io", "v1", "default", "builds")
CONFIGS = ("build.openshift.io", "v1", "default", "buildconfigs")
STREAMS = ("image.openshift.io", "v1", "default", "imagestreams")


def stream(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStream",
        "metadata": {"name": name},
    }


def spec(target: str) -> dict[str, Any]:
    return {
        "source": {"git": {"uri": "https://github.com/openvinotoolkit/openvino_notebooks"}},
        "strategy": {"dockerStrategy": {}},
        "output": {"to": {"kind": "ImageStreamTag", "name": target}},
    }


def finished(build: dict[str, Any]) -> bool:
    return build.get("status", {}).get("phase") in ("Complete", "Failed")


async def test_build_config_builds_and_publishes_a_tag(
    cluster: Cluster, custom: client.CustomObjectsApi, raw: RawHTTP, collect_events: WatchCollector
) -> None:
    await custom.create_namespaced_custom_object(*STREAMS, stream("openvino-notebook"))
    body = {
        "apiVersion": "build.openshift.io/v1",
        "kind": "BuildConfig",
        "metadata": {"name": "openvino-notebook"},
        "spec": {**spec("openvino-notebook:2024.1"), "triggers": [{"type": "ConfigChange"}]},
    }
    config = await custom.create_namespaced_custom_object(*CONFIGS, body)
    done = await watch_until(
        custom.list_namespaced_custom_object,
        *BUILDS,
        name="openvino-notebook-1",
        predicate=finished,
    )
    assert done["status"]["phase"] == "Complete"
    assert done["metadata"]["annotations"]["openshift.io/build.number"] == "1"
    assert done["metadata"]["labels"]["openshift.io/build-config.name"] == "openvino-notebook"
    assert done["metadata"]["ownerReferences"][0]["uid"] == config["metadata"]["uid"]
    assert done["spec"]["output"]["to"]["name"] == "openvino-notebook:2024.1"
    events = await collect_events(
        custom.list_namespaced_custom_object,
        *BUILDS,
        count=4,
        resource_version=config["metadata"]["resourceVersion"],
    )
    phases = [(e["type"], e["raw_object"]["status"].get("phase")) for e in events]
    assert phases == [
        ("ADDED", "New"),
        ("MODIFIED", "Pending"),
        ("MODIFIED", "Running"),
        ("MODIFIED", "Complete"),
    ]
    published = await custom.get_namespaced_custom_object(*STREAMS, "openvino-notebook")
    (tag,) = published["status"]["tags"]
    reference = tag["items"][0]["dockerImageReference"]
    assert tag["tag"] == "2024.1"
    assert reference.startswith(f"{REGISTRY}/default/openvino-notebook@sha256:")
    assert done["status"]["outputDockerImageReference"] == f"{REGISTRY}/default/openvino-notebook"
    assert published["status"]["dockerImageRepository"] == f"{REGISTRY}/default/openvino-notebook"
    status, log, _ = await raw.request(
        "GET",
        "/apis/build.openshift.io/v1/namespaces/default/builds/openvino-notebook-1/log",
        parse=False,
    )
    assert status == 200 and "Push successful" in log
    assert (await custom.get_namespaced_custom_object(*CONFIGS, "openvino-notebook"))["status"] == {
        "lastVersion": 1
    }


async def test_build_waits_for_its_output_stream(
    cluster: Cluster, custom: client.CustomObjectsApi
) -> None:
    body = {
        "apiVersion": "build.openshift.io/v1",
        "kind": "Build",
        "metadata": {"name": "b"},
        "spec": spec("later:latest"),
    }
    await custom.create_namespaced_custom_object(*BUILDS, body)
    waiting = await watch_until(
        custom.list_namespaced_custom_object,
        *BUILDS,
        name="b",
        predicate=lambda b: b["status"].get("reason") == "InvalidOutputReference",
    )
    assert waiting["status"]["phase"] == "New"
    await custom.create_namespaced_custom_object(*STREAMS, stream("later"))
    done = await watch_until(
        custom.list_namespaced_custom_object, *BUILDS, name="b", predicate=finished
    )
    assert done["status"]["phase"] == "Complete"
    assert "reason" not in done["status"]


async def test_injected_failure(
    cluster: Cluster, custom: client.CustomObjectsApi, core: client.CoreV1Api
) -> None:
    cluster.builds.behaviour = fail_after(0, "pip: no matching distribution\n")
    await custom.create_namespaced_custom_object(*STREAMS, stream("custom"))
    body = {
        "apiVersion": "build.openshift.io/v1",
        "kind": "Build",
        "metadata": {"name": "broken"},
        "spec": spec("custom:v1"),
    }
    await custom.create_namespaced_custom_object(*BUILDS, body)
    done = await watch_until(
        custom.list_namespaced_custom_object, *BUILDS, name="broken", predicate=finished
    )
    assert done["status"]["phase"] == "Failed"
    assert done["status"]["reason"] == "GenericBuildFailed"
    assert done["status"]["logSnippet"] == "pip: no matching distribution\n"
    assert "tags" not in (await custom.get_namespaced_custom_object(*STREAMS, "custom")).get(
        "status", {}
    )
    events = await core.list_namespaced_event(
        "default", field_selector="involvedObject.name=broken"
    )
    assert ("BuildFailed", "Warning") in [(e.reason, e.type) for e in events.items]


async def test_rebuilds_are_numbered_and_newest_first(
    cluster: Cluster, custom: client.CustomObjectsApi
) -> None:
    await custom.create_namespaced_custom_object(*STREAMS, stream("nb"))
    body = {
        "apiVersion": "build.openshift.io/v1",
        "kind": "BuildConfig",
        "metadata": {"name": "nb"},
        "spec": spec("nb:latest"),
    }
    await custom.create_namespaced_custom_object(*CONFIGS, body)  # no trigger: no build yet
    first = cluster.builds.instantiate("default", "nb")
    await watch_until(
        custom.list_namespaced_custom_object,
        *BUILDS,
        name=first["metadata"]["name"],
        predicate=finished,
    )
    second = cluster.builds.instantiate("default", "nb")
    assert (first["metadata"]["name"], second["metadata"]["name"]) == ("nb-1", "nb-2")
    await watch_until(
        custom.list_namespaced_custom_object, *BUILDS, name="nb-2", predicate=finished
    )
    published = await custom.get_namespaced_custom_object(*STREAMS, "nb")
    items = published["status"]["tags"][0]["items"]
    assert len(items) == 2 and items[0]["image"] != items[1]["image"]
    await custom.delete_namespaced_custom_object(*CONFIGS, "nb")
    remaining = await custom.list_namespaced_custom_object(*BUILDS)
    assert remaining["items"] == []  # builds are owned by their config
