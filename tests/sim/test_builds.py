"""The simulated OpenShift build controller: phases, output tags, logs, injected failures."""

# The client annotates bodies as models; it accepts dicts.
# mypy: disable-error-code="arg-type"

from __future__ import annotations

from typing import Any

import aiohttp
from jupyterhub_ov_sim.apiserver import ApiServer
from jupyterhub_ov_sim.buildbehaviours import BuildInput, RecordingBuilds, dockerfile_instructions
from jupyterhub_ov_sim.builds import REGISTRY, fail_after
from kubernetes_asyncio import client

from .conftest import Cluster, WatchCollector
from .helpers import RawHTTP, eventually, watch_until

MERGE = "application/merge-patch+json"

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


# --- instantiate, cancel, live logs, what a build was asked ---------------------------------

INSTANTIATE = "/apis/build.openshift.io/v1/namespaces/default/buildconfigs/{}/instantiate"


def build_request(name: str, message: str = "Manually triggered") -> dict[str, Any]:
    return {
        "kind": "BuildRequest",
        "apiVersion": "build.openshift.io/v1",
        "metadata": {"name": name},
        "triggeredBy": [{"message": message}],
    }


def docker_config(name: str, dockerfile: str, target: str) -> dict[str, Any]:
    return {
        "apiVersion": "build.openshift.io/v1",
        "kind": "BuildConfig",
        "metadata": {"name": name},
        "spec": {
            "source": {"type": "Dockerfile", "dockerfile": dockerfile},
            "strategy": {"type": "Docker", "dockerStrategy": {}},
            "output": {"to": {"kind": "ImageStreamTag", "name": target}},
        },
    }


async def test_instantiate_creates_the_next_build_like_oc_start_build(
    cluster: Cluster, custom: client.CustomObjectsApi, raw: RawHTTP
) -> None:
    await custom.create_namespaced_custom_object(*STREAMS, stream("nb"))
    await custom.create_namespaced_custom_object(
        *CONFIGS, docker_config("nb", "FROM base\n", "nb:v1")
    )

    status, first, _ = await raw.request("POST", INSTANTIATE.format("nb"), body=build_request("nb"))
    assert status == 201
    assert first["kind"] == "Build" and first["metadata"]["name"] == "nb-1"
    assert first["spec"]["triggeredBy"] == [{"message": "Manually triggered"}]
    assert first["status"] == {"phase": "New"}
    _, second, _ = await raw.request(
        "POST", INSTANTIATE.format("nb"), body=build_request("nb", "retry")
    )
    assert second["metadata"]["name"] == "nb-2"
    assert second["spec"]["triggeredBy"] == [{"message": "retry"}]
    assert second["spec"]["output"] == first["spec"]["output"]
    done = await watch_until(
        custom.list_namespaced_custom_object, *BUILDS, name="nb-2", predicate=finished
    )
    assert done["status"]["phase"] == "Complete"
    assert cluster.server.counters.get("create", "buildconfigs/instantiate") == 2

    status, body, _ = await raw.request("POST", INSTANTIATE.format("nb"), body=build_request("x"))
    assert (status, body["reason"]) == (400, "BadRequest")  # the names must agree
    status, body, _ = await raw.request(
        "POST", INSTANTIATE.format("missing"), body=build_request("missing")
    )
    assert (status, body["reason"]) == (404, "NotFound")
    status, body, _ = await raw.request("GET", INSTANTIATE.format("nb"))
    assert (status, body["reason"]) == (405, "MethodNotAllowed")
    resources = await custom.get_api_resources("build.openshift.io", "v1")
    listed = {r.name: r for r in resources.resources}
    assert listed["buildconfigs/instantiate"].verbs == ["create"]
    assert listed["buildconfigs/instantiate"].kind == "BuildRequest"
    assert "builds/status" not in listed and "builds/log" in listed  # as in OpenShift


async def test_cancelling_a_running_build_stops_its_work(
    cluster: Cluster,
    custom: client.CustomObjectsApi,
    core: client.CoreV1Api,
    raw: RawHTTP,
) -> None:
    behaviour = RecordingBuilds(hold=lambda build: build.config == "slow")
    cluster.builds.behaviour = behaviour
    await custom.create_namespaced_custom_object(*STREAMS, stream("slow"))
    dockerfile = "FROM base\nRUN pip install slowpkg==1\n"
    await custom.create_namespaced_custom_object(
        *CONFIGS, docker_config("slow", dockerfile, "slow:v1")
    )
    _, build, _ = await raw.request("POST", INSTANTIATE.format("slow"), body=build_request("slow"))
    running = await watch_until(
        custom.list_namespaced_custom_object,
        *BUILDS,
        name="slow-1",
        predicate=lambda b: b["status"].get("phase") == "Running",
    )
    await eventually(lambda: "slow-1" in behaviour.holding)

    # what oc cancel-build does: PUT the build with status.cancelled, retrying on conflicts
    running["status"]["cancelled"] = True
    await custom.replace_namespaced_custom_object(*BUILDS, "slow-1", running)

    done = await watch_until(
        custom.list_namespaced_custom_object,
        *BUILDS,
        name="slow-1",
        predicate=lambda b: b["status"]["phase"] not in ("New", "Pending", "Running"),
    )
    assert done["status"]["phase"] == "Cancelled"
    assert done["status"]["reason"] == "CancelledBuild"
    assert done["status"]["message"] == "The build was cancelled by the user."
    assert done["status"]["cancelled"] is True and "completionTimestamp" in done["status"]
    await eventually(lambda: behaviour.cancelled == ["slow-1"])
    assert "tags" not in (await custom.get_namespaced_custom_object(*STREAMS, "slow")).get(
        "status", {}
    )
    events = await core.list_namespaced_event(
        "default", field_selector="involvedObject.name=slow-1"
    )
    assert ("BuildCancelled", "Build default/slow-1 has been cancelled") in [
        (e.reason, e.message) for e in events.items
    ]
    # a cancel of a finished build changes nothing
    behaviour.release()
    await custom.create_namespaced_custom_object(
        *CONFIGS, docker_config("quick", "FROM base\n", "slow:v2")
    )
    _, quick, _ = await raw.request(
        "POST", INSTANTIATE.format("quick"), body=build_request("quick")
    )
    complete = await watch_until(
        custom.list_namespaced_custom_object, *BUILDS, name="quick-1", predicate=finished
    )
    await custom.patch_namespaced_custom_object(
        *BUILDS, "quick-1", {"status": {"cancelled": True}}, _content_type=MERGE
    )
    after = await custom.get_namespaced_custom_object(*BUILDS, "quick-1")
    assert after["status"]["phase"] == complete["status"]["phase"] == "Complete"
    assert build["metadata"]["name"] == "slow-1" and quick["metadata"]["name"] == "quick-1"


async def test_a_build_log_can_be_followed_while_it_runs(
    cluster: Cluster, custom: client.CustomObjectsApi, sim_server: ApiServer
) -> None:
    cluster.builds.behaviour = RecordingBuilds(step_seconds=0.2)
    await custom.create_namespaced_custom_object(*STREAMS, stream("logged"))
    dockerfile = "FROM base\nRUN echo one\nRUN echo two\n"
    await custom.create_namespaced_custom_object(
        *CONFIGS, docker_config("logged", dockerfile, "logged:v1")
    )
    cluster.builds.instantiate("default", "logged")
    path = "/apis/build.openshift.io/v1/namespaces/default/builds/logged-1/log?follow=true"
    lines: list[tuple[str, str]] = []  # (line, the build's phase when it arrived)
    async with aiohttp.ClientSession() as http, http.get(sim_server.url + path) as response:
        assert response.status == 200
        async for raw_line in response.content:
            build = await custom.get_namespaced_custom_object(*BUILDS, "logged-1")
            lines.append((raw_line.decode().rstrip("\n"), build["status"]["phase"]))
    assert [line for line, _ in lines] == [
        "STEP 1/4: FROM base",
        "STEP 2/4: RUN echo one",
        "STEP 3/4: RUN echo two",
        "STEP 4/4: COMMIT logged:v1",
        "Successfully pushed logged:v1",
        "Push successful",
    ]
    assert lines[0][1] == "Running"  # streamed as written, not at the end


async def test_recorded_inputs_and_what_a_builder_refuses(
    cluster: Cluster, custom: client.CustomObjectsApi
) -> None:
    behaviour = RecordingBuilds(fail=lambda build: build.config == "failing")
    cluster.builds.behaviour = behaviour
    await custom.create_namespaced_custom_object(*STREAMS, stream("rec"))
    cases = {
        "docker": docker_config(
            "docker", "# pinned\nFROM ignored\nRUN pip \\\n  install a==1\n", ""
        ),
        "no-from": docker_config("no-from", "RUN true\n", ""),
        "failing": docker_config("failing", "FROM base\nRUN pip install a==1\n", ""),
        "s2i": {
            "apiVersion": "build.openshift.io/v1",
            "kind": "BuildConfig",
            "metadata": {"name": "s2i"},
            "spec": {
                "source": {"git": {"uri": "https://example.com/r.git", "ref": "abc123"}},
                "strategy": {
                    "sourceStrategy": {"from": {"kind": "DockerImage", "name": "quay.io/b:1"}}
                },
            },
        },
    }
    cases["docker"]["spec"]["strategy"]["dockerStrategy"] = {
        "from": {"kind": "DockerImage", "name": "quay.io/builder:3.11"}
    }
    phases = {}
    for name, body in cases.items():
        body["spec"]["output"] = {"to": {"kind": "ImageStreamTag", "name": f"rec:{name}"}}
        await custom.create_namespaced_custom_object(*CONFIGS, body)
        cluster.builds.instantiate("default", name)
        done = await watch_until(
            custom.list_namespaced_custom_object, *BUILDS, name=f"{name}-1", predicate=finished
        )
        phases[name] = (done["status"]["phase"], done["status"].get("reason"))
    assert phases == {
        "docker": ("Complete", None),
        "no-from": ("Failed", "GenericBuildFailed"),
        "failing": ("Failed", "DockerBuildFailed"),
        "s2i": ("Complete", None),
    }
    docker = behaviour.seen("docker-1")
    assert (docker.strategy, docker.builder) == ("Docker", "quay.io/builder:3.11")
    assert dockerfile_instructions(docker.dockerfile) == ["FROM ignored", "RUN pip install a==1"]
    s2i = behaviour.seen("s2i-1")
    assert (s2i.strategy, s2i.builder, s2i.git_uri, s2i.git_ref) == (
        "Source",
        "quay.io/b:1",
        "https://example.com/r.git",
        "abc123",
    )
    failed = await custom.get_namespaced_custom_object(*BUILDS, "no-from-1")
    assert failed["status"]["logSnippet"] == "error: no FROM statement found\n"


async def test_rules_fail_or_hold_the_builds_they_match_and_contents_mean_nothing(
    cluster: Cluster, custom: client.CustomObjectsApi, raw: RawHTTP
) -> None:
    """What fails or waits is the test's rule (here: a label the Build inherits from its
    BuildConfig, a git source); words in a Dockerfile or a repository's name change nothing."""

    def broken(build: BuildInput) -> bool:
        return build.labels.get("test/variant") == "broken"

    behaviour = RecordingBuilds(
        fail=broken, hold=lambda build: build.git_uri == "https://example.com/slow.git"
    )
    cluster.builds.behaviour = behaviour
    await custom.create_namespaced_custom_object(*STREAMS, stream("rules"))
    dockerfile = "FROM base\nRUN pip install sim-fail-build sim-hold-build\n"
    configs = {
        "labelled": docker_config("labelled", dockerfile, "rules:labelled"),
        "plain": docker_config("plain", dockerfile, "rules:plain"),
        "slow": {
            "apiVersion": "build.openshift.io/v1",
            "kind": "BuildConfig",
            "metadata": {"name": "slow"},
            "spec": {
                "source": {"git": {"uri": "https://example.com/slow.git"}},
                "strategy": {
                    "sourceStrategy": {"from": {"kind": "DockerImage", "name": "quay.io/b:1"}}
                },
                "output": {"to": {"kind": "ImageStreamTag", "name": "rules:slow"}},
            },
        },
    }
    configs["labelled"]["metadata"]["labels"] = {"test/variant": "broken"}
    for name, body in configs.items():
        await custom.create_namespaced_custom_object(*CONFIGS, body)
        cluster.builds.instantiate("default", name)
    await eventually(lambda: behaviour.holding == {"slow-1"})
    for name in ("labelled", "plain"):
        await watch_until(
            custom.list_namespaced_custom_object, *BUILDS, name=f"{name}-1", predicate=finished
        )
    labelled = await custom.get_namespaced_custom_object(*BUILDS, "labelled-1")
    assert labelled["metadata"]["labels"]["test/variant"] == "broken"  # from its BuildConfig
    assert (labelled["status"]["phase"], labelled["status"]["reason"]) == (
        "Failed",
        "DockerBuildFailed",
    )
    _, log, _ = await raw.request(
        "GET", "/apis/build.openshift.io/v1/namespaces/default/builds/labelled-1/log", parse=False
    )
    assert log.splitlines()[-2:] == [
        "STEP 2/3: RUN pip install sim-fail-build sim-hold-build",
        "error: build error: exit status 1",
    ]
    plain = await custom.get_namespaced_custom_object(*BUILDS, "plain-1")
    assert plain["status"]["phase"] == "Complete"
    slow = await custom.get_namespaced_custom_object(*BUILDS, "slow-1")
    assert slow["status"]["phase"] == "Running"
    behaviour.release()
    done = await watch_until(
        custom.list_namespaced_custom_object, *BUILDS, name="slow-1", predicate=finished
    )
    assert done["status"]["phase"] == "Complete" and behaviour.holding == set()
