"""The simulated image import controller and the ImageStream tag generations it relies on."""

# The client annotates bodies as models and hides _content_type; it accepts dicts and both.
# mypy: disable-error-code="arg-type, call-arg"

from __future__ import annotations

from typing import Any

import pytest
from jupyterhub_ov_sim import imagestreams
from jupyterhub_ov_sim.cluster import SimulatedCluster
from jupyterhub_ov_sim.imports import not_found_message
from kubernetes_asyncio import client

from .helpers import watch_until

STREAMS = ("image.openshift.io", "v1", "default", "imagestreams")
MERGE = "application/merge-patch+json"
REGISTRY = imagestreams.REGISTRY


def docker_tag(name: str, reference: str) -> dict[str, Any]:
    return {"name": name, "from": {"kind": "DockerImage", "name": reference}}


def status_tag(stream: dict[str, Any], tag: str) -> dict[str, Any] | None:
    return next((t for t in stream.get("status", {}).get("tags") or [] if t["tag"] == tag), None)


def answered(tag: str) -> Any:
    """The stream's import controller reported on ``tag``'s current spec generation."""

    def check(stream: dict[str, Any]) -> bool:
        spec = next(t for t in stream["spec"]["tags"] if t["name"] == tag)
        return imagestreams.observed_generation(stream, tag) >= spec["generation"]

    return check


async def create(custom: client.CustomObjectsApi, name: str, *tags: dict[str, Any]) -> Any:
    body = {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStream",
        "metadata": {"name": name},
        "spec": {"tags": list(tags)},
    }
    return await custom.create_namespaced_custom_object(*STREAMS, body)


async def test_a_docker_image_tag_is_imported_pinned_to_a_digest(
    sim_cluster: SimulatedCluster, custom: client.CustomObjectsApi
) -> None:
    created = await create(custom, "py", docker_tag("3.11", "quay.io/org/python:3.11"))
    assert created["spec"]["tags"][0]["generation"] == 1  # set by the server

    stream = await watch_until(
        custom.list_namespaced_custom_object, *STREAMS, name="py", predicate=answered("3.11")
    )

    entry = status_tag(stream, "3.11")
    assert entry is not None and "conditions" not in entry
    (item,) = entry["items"]
    digest = imagestreams.digest_of("quay.io/org/python:3.11")
    assert item["dockerImageReference"] == f"quay.io/org/python@{digest}"
    assert (item["image"], item["generation"]) == (digest, 1)
    assert digest.startswith("sha256:") and len(digest) == 7 + 64
    assert stream["status"]["dockerImageRepository"] == f"{REGISTRY}/default/py"
    # a digest reference imports as itself
    assert (
        imagestreams.pinned_reference(item["dockerImageReference"]) == item["dockerImageReference"]
    )


async def test_generations_tell_which_import_answers_which_change(
    sim_cluster: SimulatedCluster, custom: client.CustomObjectsApi
) -> None:
    await create(custom, "multi", docker_tag("a", "quay.io/org/a:1"))
    stream = await watch_until(
        custom.list_namespaced_custom_object, *STREAMS, name="multi", predicate=answered("a")
    )

    # add a tag and change nothing else: the old tag keeps its generation, no re-import
    stream["spec"]["tags"].append(docker_tag("b", "quay.io/org/b:1"))
    for tag in stream["spec"]["tags"]:
        tag.pop("generation", None)  # a client that does not know about generations
    updated = await custom.replace_namespaced_custom_object(*STREAMS, "multi", stream)
    generations = {t["name"]: t["generation"] for t in updated["spec"]["tags"]}
    assert generations == {"a": 1, "b": 2} and updated["metadata"]["generation"] == 2

    # change where "a" comes from: a new generation and a new import, newest item first
    current = await watch_until(
        custom.list_namespaced_custom_object, *STREAMS, name="multi", predicate=answered("b")
    )
    assert [i["generation"] for i in status_tag(current, "a")["items"]] == [1]  # type: ignore[index]
    current["spec"]["tags"][0]["from"]["name"] = "quay.io/org/a:2"
    changed = await custom.replace_namespaced_custom_object(*STREAMS, "multi", current)
    assert changed["spec"]["tags"][0]["generation"] == 3
    done = await watch_until(
        custom.list_namespaced_custom_object, *STREAMS, name="multi", predicate=answered("a")
    )
    items = status_tag(done, "a")["items"]  # type: ignore[index]
    assert [i["generation"] for i in items] == [3, 1]
    assert items[0]["image"] == imagestreams.digest_of("quay.io/org/a:2")


@pytest.mark.parametrize("message", ["", "manifest unknown: manifest unknown"])
async def test_a_failed_import_is_reported_as_openshift_does(
    sim_cluster: SimulatedCluster, custom: client.CustomObjectsApi, message: str
) -> None:
    assert sim_cluster.imports is not None
    sim_cluster.imports.failures["quay.io/org/missing:1"] = message
    await create(custom, "broken", docker_tag("v1", "quay.io/org/missing:1"))

    stream = await watch_until(
        custom.list_namespaced_custom_object, *STREAMS, name="broken", predicate=answered("v1")
    )

    entry = status_tag(stream, "v1")
    assert entry is not None and "items" not in entry
    (condition,) = entry["conditions"]
    expected = message or 'dockerimage.image.openshift.io "quay.io/org/missing:1" not found'
    assert expected == (message or not_found_message("quay.io/org/missing:1"))
    assert {k: condition[k] for k in ("type", "status", "reason", "message", "generation")} == {
        "type": "ImportSuccess",
        "status": "False",
        "reason": "NotFound",
        "message": expected,
        "generation": 1,
    }

    # fixing the reference imports it and clears the condition
    await custom.patch_namespaced_custom_object(
        *STREAMS,
        "broken",
        {"spec": {"tags": [docker_tag("v1", "quay.io/org/present:1")]}},
        _content_type=MERGE,
    )
    fixed = await watch_until(
        custom.list_namespaced_custom_object, *STREAMS, name="broken", predicate=answered("v1")
    )
    entry = status_tag(fixed, "v1")
    assert entry is not None and "conditions" not in entry
    assert entry["items"][0]["generation"] == 2


async def test_tags_from_elsewhere_are_not_imported(
    sim_cluster: SimulatedCluster, custom: client.CustomObjectsApi
) -> None:
    reference = {"name": "ref", "reference": True, "from": docker_tag("", "quay.io/o/r:1")["from"]}
    local = {"name": "local", "from": {"kind": "ImageStreamTag", "name": "other:1"}}
    await create(custom, "others", reference, local, docker_tag("real", "quay.io/o/real:1"))

    stream = await watch_until(
        custom.list_namespaced_custom_object, *STREAMS, name="others", predicate=answered("real")
    )

    assert [t["tag"] for t in stream["status"]["tags"]] == ["real"]
