"""KubeImageCatalog against the cluster simulator: a real API server, a real client, real watches.

Streams are created, patched and deleted through the Kubernetes API as an admin or a build
would; the catalog only ever sees them through KubeSpawner's shared reflectors.
"""

# The client annotates bodies as models and hides _content_type; it accepts dicts and both.
# mypy: disable-error-code="arg-type, call-arg"

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import pytest
from jupyterhub_ov_sim.apiserver import ApiServer
from kubernetes_asyncio import client
from kubespawner import KubeSpawner

from jupyterhub_ov.images import model
from jupyterhub_ov.images.kube import GROUP, PLURAL, VERSION, KubeImageCatalog
from jupyterhub_ov.menu import render_menu

from ..sim.helpers import eventually
from .conftest import StartCatalog

#: how soon a change in the cluster must show in the menu (the issue's promise)
WITHIN = 1.0
LABEL_TRUE = {model.NOTEBOOK_IMAGE_LABEL: "true"}
MERGE = "application/merge-patch+json"


def registry(namespace: str, name: str) -> str:
    return f"image-registry.sim:5000/{namespace}/{name}"


def imported(namespace: str, name: str, tags: tuple[str, ...]) -> dict[str, Any]:
    """``status`` of a stream whose ``tags`` were imported into the registry."""
    repository = registry(namespace, name)
    return {
        "dockerImageRepository": repository,
        "tags": [
            {"tag": t, "items": [{"dockerImageReference": f"{repository}:{t}"}]} for t in tags
        ],
    }


async def create_stream(
    custom: client.CustomObjectsApi,
    name: str,
    *,
    namespace: str = "default",
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    tags: tuple[str, ...] = ("latest",),
    tag_annotations: dict[str, dict[str, str]] | None = None,
    spec: Any = None,
    status: Any = None,
) -> dict[str, Any]:
    """Create a stream through the API, then publish its status like the image importer.

    By default every spec tag is imported; ``status`` replaces that (``{}`` for none).
    """
    if spec is None:
        spec = {
            "lookupPolicy": {"local": True},
            "tags": [{"name": t, "annotations": (tag_annotations or {}).get(t, {})} for t in tags],
        }
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "ImageStream",
        "metadata": {"name": name, "labels": labels or {}, "annotations": annotations or {}},
        "spec": spec,
    }
    created: dict[str, Any] = await custom.create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, body
    )
    if status is None:
        status = imported(namespace, name, tags)
    if status == {}:
        return created
    patched: dict[str, Any] = await custom.patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, PLURAL, name, {"status": status}, _content_type=MERGE
    )
    return patched


def offered(
    catalog: KubeImageCatalog, namespace: str = "default"
) -> dict[str, model.NotebookImage]:
    """What a menu render gets, by image key."""
    return {i.key: i for i in catalog.images(KubeSpawner, namespace)}


async def create_namespace(core: client.CoreV1Api, name: str) -> None:
    await core.create_namespace({"metadata": {"name": name}})


# --- discovery ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "by_name, by_label, expected",
    [
        (True, True, {"default/legacy-notebook", "default/labelled", "default/both-notebook"}),
        (True, False, {"default/legacy-notebook", "default/both-notebook"}),
        (False, True, {"default/labelled", "default/both-notebook"}),
        (False, False, set()),
    ],
)
async def test_discovery_rules_and_their_switches(
    start_catalog: StartCatalog,
    custom: client.CustomObjectsApi,
    by_name: bool,
    by_label: bool,
    expected: set[str],
) -> None:
    await create_stream(custom, "legacy-notebook")
    await create_stream(custom, "labelled", labels=LABEL_TRUE)
    await create_stream(custom, "both-notebook", labels=LABEL_TRUE)
    await create_stream(custom, "plain")  # neither rule
    await create_stream(custom, "refused", labels={model.NOTEBOOK_IMAGE_LABEL: "false"})
    await create_stream(custom, "notebook-prefix")  # the suffix rule is a suffix

    catalog = await start_catalog(match_name_suffix=by_name, match_label=by_label)

    assert set(offered(catalog)) == expected


async def test_streams_of_every_configured_namespace_are_offered_apart(
    start_catalog: StartCatalog, custom: client.CustomObjectsApi, core: client.CoreV1Api
) -> None:
    for namespace in ("team-a", "team-b", "elsewhere"):
        await create_namespace(core, namespace)
        await create_stream(custom, "same-notebook", namespace=namespace)

    catalog = await start_catalog(namespaces=["team-a", "team-b"])
    images = offered(catalog)

    assert set(images) == {"team-a/same-notebook", "team-b/same-notebook"}
    for namespace in ("team-a", "team-b"):
        image = images[f"{namespace}/same-notebook"]
        assert image.namespace == namespace
        # resolved to the registry, so a pod in any namespace can pull it
        assert image.tags[0].reference == f"{registry(namespace, 'same-notebook')}:latest"


async def test_without_namespaces_the_spawners_namespace_is_used(
    start_catalog: StartCatalog, custom: client.CustomObjectsApi, core: client.CoreV1Api
) -> None:
    await create_namespace(core, "hub-home")
    await create_stream(custom, "home-notebook", namespace="hub-home")
    await create_stream(custom, "default-notebook")

    catalog = await start_catalog(default_namespace="hub-home")

    assert set(offered(catalog, "hub-home")) == {"hub-home/home-notebook"}


# --- what reaches the menu --------------------------------------------------------------


async def test_every_odh_annotation_reaches_the_image(
    start_catalog: StartCatalog, custom: client.CustomObjectsApi
) -> None:
    software = [{"name": "Python", "version": "3.11"}, {"name": "CUDA", "version": "12.4"}]
    dependencies = [{"name": "numpy", "version": "2.1"}, {"name": "torch", "version": "2.5"}]
    messages = [{"severity": "info", "message": "jupyterlab imports"}]
    stream_annotations = {
        model.ANN_NAME: "PyTorch",
        model.ANN_DESC: "Deep learning with <b>PyTorch</b>",
        model.ANN_URL: "https://github.com/example/pytorch-notebook",
        model.ANN_ORDER: "7",
        model.ANN_CREATOR: "admin",
        model.ANN_PHASE: "Succeeded",
        model.ANN_MESSAGES: json.dumps(messages),
    }
    new_tag = {
        model.ANN_SOFTWARE: json.dumps(software),
        model.ANN_DEPENDENCIES: json.dumps(dependencies),
        model.ANN_RECOMMENDED: "true",
        model.ANN_DEFAULT: "true",
        model.ANN_IMPORTED_FROM: "quay.io/example/pytorch:2024.2",
    }
    old_tag = {model.ANN_SOFTWARE: json.dumps(software[:1])}
    repository = registry("default", "pytorch-notebook")
    # 2024.2 resolved by its item's reference; 2024.1 has no item yet: repository + tag
    status = {
        "dockerImageRepository": repository,
        "tags": [
            {"tag": "2024.2", "items": [{"dockerImageReference": f"{repository}@sha256:abc"}]},
            {"tag": "2024.1", "items": []},
        ],
    }
    await create_stream(
        custom,
        "pytorch-notebook",
        annotations=stream_annotations,
        tags=("2024.2", "2024.1"),
        tag_annotations={"2024.2": new_tag, "2024.1": old_tag},
        status=status,
    )

    catalog = await start_catalog()

    assert offered(catalog) == {
        "default/pytorch-notebook": model.NotebookImage(
            name="pytorch-notebook",
            namespace="default",
            display_name="PyTorch",
            description="Deep learning with <b>PyTorch</b>",
            url="https://github.com/example/pytorch-notebook",
            order=7,
            creator="admin",
            phase="Succeeded",
            messages=tuple(messages),
            tags=(
                model.ImageTag(
                    name="2024.2",
                    reference=f"{repository}@sha256:abc",
                    software=tuple(model.Software(**s) for s in software),
                    dependencies=tuple(model.Software(**d) for d in dependencies),
                    recommended=True,
                    default=True,
                    imported_from="quay.io/example/pytorch:2024.2",
                ),
                model.ImageTag(
                    name="2024.1",
                    reference=f"{repository}:2024.1",
                    software=(model.Software(**software[0]),),
                ),
            ),
        )
    }


async def test_only_tags_in_status_are_offered(
    start_catalog: StartCatalog, custom: client.CustomObjectsApi
) -> None:
    status = imported("default", "partial-notebook", ("a", "c", "not-in-spec"))
    await create_stream(custom, "partial-notebook", tags=("a", "b", "c"), status=status)

    catalog = await start_catalog()

    assert [t.name for t in offered(catalog)["default/partial-notebook"].tags] == ["a", "c"]


@pytest.mark.parametrize(
    "phase, shown",
    [("Validating", False), ("Failed", False), ("Succeeded", True), (None, True)],
)
async def test_images_not_validated_are_hidden(
    start_catalog: StartCatalog, custom: client.CustomObjectsApi, phase: str | None, shown: bool
) -> None:
    annotations = {model.ANN_PHASE: phase} if phase else {}
    await create_stream(custom, "custom-notebook", annotations=annotations)
    await create_stream(custom, "other-notebook")

    catalog = await start_catalog()

    expected = {"default/other-notebook"} | ({"default/custom-notebook"} if shown else set())
    assert set(offered(catalog)) == expected


# --- live: no restart --------------------------------------------------------------------


async def test_created_changed_and_deleted_streams_show_within_a_second(
    start_catalog: StartCatalog, custom: client.CustomObjectsApi
) -> None:
    await create_stream(custom, "stable-notebook")
    catalog = await start_catalog()
    assert set(offered(catalog)) == {"default/stable-notebook"}

    await create_stream(custom, "new-notebook", annotations={model.ANN_NAME: "New"})
    await eventually(lambda: "default/new-notebook" in offered(catalog), timeout=WITHIN)
    assert offered(catalog)["default/new-notebook"].display_name == "New"

    await custom.patch_namespaced_custom_object(
        GROUP,
        VERSION,
        "default",
        PLURAL,
        "new-notebook",
        {"metadata": {"annotations": {model.ANN_NAME: "Renamed", model.ANN_ORDER: "1"}}},
        _content_type=MERGE,
    )
    await eventually(
        lambda: offered(catalog)["default/new-notebook"].display_name == "Renamed", timeout=WITHIN
    )
    # the order annotation moved it to the top of the menu
    assert [i.key for i in catalog.images(KubeSpawner, "default")] == [
        "default/new-notebook",
        "default/stable-notebook",
    ]

    await custom.patch_namespaced_custom_object(
        GROUP,
        VERSION,
        "default",
        PLURAL,
        "new-notebook",
        {"metadata": {"annotations": {model.ANN_PHASE: "Validating"}}},
        _content_type=MERGE,
    )
    await eventually(lambda: "default/new-notebook" not in offered(catalog), timeout=WITHIN)

    await custom.delete_namespaced_custom_object(
        GROUP, VERSION, "default", PLURAL, "stable-notebook"
    )
    await eventually(lambda: offered(catalog) == {}, timeout=WITHIN)


async def test_a_stream_published_later_appears_once_its_tag_is_imported(
    start_catalog: StartCatalog, custom: client.CustomObjectsApi
) -> None:
    catalog = await start_catalog()
    await create_stream(custom, "building-notebook", status={})  # a build has not pushed yet
    reflector = KubeSpawner.reflectors[("imagestreams", "default")]
    await eventually(lambda: "default/building-notebook" in reflector.resources, timeout=WITHIN)
    assert offered(catalog) == {}

    await custom.patch_namespaced_custom_object_status(
        GROUP,
        VERSION,
        "default",
        PLURAL,
        "building-notebook",
        {"status": imported("default", "building-notebook", ("latest",))},
        _content_type=MERGE,
    )
    await eventually(lambda: "default/building-notebook" in offered(catalog), timeout=WITHIN)


# --- robustness --------------------------------------------------------------------------


BROKEN: dict[str, dict[str, Any]] = {
    "tagless-notebook": {"spec": {"lookupPolicy": {"local": True}}, "status": {}},
    "empty-tags-notebook": {"spec": {"tags": []}, "status": {}},
    "unimported-notebook": {"status": {}},  # spec tags, none in status.tags
    "status-not-a-map-notebook": {"status": "corrupt"},
    "tags-not-maps-notebook": {"spec": {"tags": ["latest", 3]}},
    "tag-annotations-not-a-map-notebook": {
        "spec": {"tags": [{"name": "latest", "annotations": "corrupt"}]}
    },
    "status-tags-not-a-list-notebook": {"status": {"tags": "corrupt"}},
}


async def test_tagless_and_malformed_streams_are_skipped_and_logged_once(
    start_catalog: StartCatalog,
    custom: client.CustomObjectsApi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await create_stream(custom, "good-notebook", annotations={model.ANN_NAME: "Good"})
    await create_stream(custom, "also-good", labels=LABEL_TRUE)
    catalog = await start_catalog()
    before = catalog.images(KubeSpawner, "default")
    assert [i.key for i in before] == ["default/also-good", "default/good-notebook"]

    for name, parts in BROKEN.items():
        await create_stream(custom, name, **parts)
    reflector = KubeSpawner.reflectors[("imagestreams", "default")]
    await eventually(lambda: len(reflector.resources) == 2 + len(BROKEN), timeout=WITHIN)

    caplog.set_level(logging.WARNING)
    for _ in range(3):  # a problem is logged once, not once per render
        assert catalog.images(KubeSpawner, "default") == before
        render_menu(catalog.images(KubeSpawner, "default"))

    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    for name in BROKEN:
        assert sum(name in w for w in warnings) == 1, (name, warnings)
    assert not any("good" in w for w in warnings), warnings


async def test_a_relist_neither_reparses_nor_logs_again(
    start_catalog: StartCatalog,
    custom: client.CustomObjectsApi,
    sim_server: ApiServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    await create_stream(custom, "kept-notebook")
    await create_stream(custom, "tagless-notebook", **BROKEN["tagless-notebook"])
    catalog = await start_catalog()
    reflector = KubeSpawner.reflectors[("imagestreams", "default")]
    # the watch task lists again before it watches, whenever the loop gets to it: wait for
    # its watch, then relist as it does on every reconnect (new objects for the same streams)
    await eventually(lambda: sim_server.counters.get("watch", PLURAL) >= 1)
    listed = reflector.resources
    before = catalog.images(KubeSpawner, "default")
    await reflector._list_and_update()
    assert reflector.resources is not listed
    after = catalog.images(KubeSpawner, "default")

    assert [i.key for i in after] == ["default/kept-notebook"]
    assert after[0] is before[0]
    assert sum("tagless-notebook" in r.getMessage() for r in caplog.records) == 1


async def test_a_stream_with_bad_optional_annotations_is_offered_with_one_warning_each(
    start_catalog: StartCatalog,
    custom: client.CustomObjectsApi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    await create_stream(
        custom,
        "sloppy-notebook",
        annotations={model.ANN_ORDER: "first", model.ANN_MESSAGES: "not json"},
        tag_annotations={"latest": {model.ANN_SOFTWARE: "python 3.11"}},
    )
    catalog = await start_catalog()

    for _ in range(3):
        image = offered(catalog)["default/sloppy-notebook"]
    assert (image.order, image.messages, image.tags[0].software) == (model.DEFAULT_ORDER, (), ())
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 3, warnings
    for fragment in (model.ANN_ORDER, model.ANN_MESSAGES, model.ANN_SOFTWARE):
        assert sum(fragment in w and "sloppy-notebook" in w for w in warnings) == 1, warnings


async def test_a_link_that_is_not_http_never_reaches_the_menu(
    start_catalog: StartCatalog,
    custom: client.CustomObjectsApi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    await create_stream(
        custom, "linked-notebook", annotations={model.ANN_URL: "javascript:alert(document.domain)"}
    )
    catalog = await start_catalog()
    for _ in range(3):
        image = offered(catalog)["default/linked-notebook"]
    assert image.url is None  # offered, without the link
    assert "javascript:" not in render_menu([image])
    warnings = [r.getMessage() for r in caplog.records if "linked-notebook" in r.getMessage()]
    assert len(warnings) == 1 and "is not an http(s) URL; no link shown" in warnings[0]


# --- cost of a render --------------------------------------------------------------------


async def test_a_menu_render_makes_no_api_request(
    start_catalog: StartCatalog,
    custom: client.CustomObjectsApi,
    core: client.CoreV1Api,
    sim_server: ApiServer,
) -> None:
    await create_namespace(core, "team")
    for i in range(20):
        await create_stream(custom, f"image-{i}-notebook", tags=("a", "b"))
        await create_stream(custom, f"team-{i}", namespace="team", labels=LABEL_TRUE)
    catalog = await start_catalog(namespaces=["default", "team"])
    counters = sim_server.counters
    # each reflector's own background list + watch, once, not per render
    await eventually(lambda: counters.get("watch", PLURAL) == 2)

    before = counters.snapshot()
    for _ in range(100):
        images = catalog.images(KubeSpawner, "default")
        html = render_menu(images)
        await asyncio.sleep(0)  # let anything a render might have scheduled run
    after = counters.snapshot()

    assert len(images) == 40 and all(i.key in html for i in images)
    assert after == before, {k: after[k] - before.get(k, 0) for k in after}
    # the counters do see a request made by this client: one list is one list
    await custom.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL)
    assert counters.get("list", PLURAL) == before.get(("list", PLURAL), 0) + 1


async def test_the_reflectors_are_shared_by_every_catalog_and_spawner(
    start_catalog: StartCatalog, custom: client.CustomObjectsApi, sim_server: ApiServer
) -> None:
    await create_stream(custom, "shared-notebook")
    await create_stream(custom, "shared-labelled", labels=LABEL_TRUE)
    first = await start_catalog()
    # the reflector's own two lists (start, then its watch task's) are over once it watches
    await eventually(lambda: sim_server.counters.get("watch", PLURAL) >= 1)
    lists = sim_server.counters.get("list", PLURAL)

    second = await start_catalog()  # what the next spawner's options form does
    by_name_only = await start_catalog(match_label=False)  # its own rules, the same cache

    assert sim_server.counters.get("list", PLURAL) == lists
    assert list(KubeSpawner.reflectors) == [("imagestreams", "default"), ("builds", "default")]
    assert set(offered(first)) == {"default/shared-notebook", "default/shared-labelled"}
    assert offered(second) == offered(first)
    assert set(offered(by_name_only)) == {"default/shared-notebook"}


async def test_concurrent_first_renders_start_one_watch(
    start_catalog: StartCatalog, custom: client.CustomObjectsApi, sim_server: ApiServer
) -> None:
    await create_stream(custom, "busy-notebook")
    catalogs = [KubeImageCatalog() for _ in range(10)]

    await asyncio.gather(*(c.start(KubeSpawner, "default") for c in catalogs))

    assert list(KubeSpawner.reflectors) == [("imagestreams", "default"), ("builds", "default")]
    await eventually(lambda: sim_server.counters.get("watch", PLURAL) >= 1)
    # one reflector's start-up (its first list, then list + watch), not ten
    assert sim_server.counters.get("list", PLURAL) == 2
    assert sim_server.counters.get("watch", PLURAL) == 1
    assert all(set(offered(c)) == {"default/busy-notebook"} for c in catalogs)


async def test_a_watch_that_gave_up_is_started_afresh(
    start_catalog: StartCatalog, custom: client.CustomObjectsApi, sim_server: ApiServer
) -> None:
    await create_stream(custom, "first-notebook")
    catalog = await start_catalog()
    gave_up = KubeSpawner.reflectors[("imagestreams", "default")]
    gave_up.watch_task.cancel()  # its watch loop has ended ...
    with contextlib.suppress(asyncio.CancelledError):
        await gave_up.watch_task
    gave_up.on_failure()  # what KubeSpawner's reflector calls when it stops retrying
    assert ("imagestreams", "default") not in KubeSpawner.reflectors

    await create_stream(custom, "later-notebook")  # missed by the dead watch
    await catalog.start(KubeSpawner, "default")  # the next menu render
    assert KubeSpawner.reflectors[("imagestreams", "default")] is not gave_up
    assert set(offered(catalog)) == {"default/first-notebook", "default/later-notebook"}
