"""The catalog's Build rule on the simulator: a tag whose newest Build is pending or failed
leaves the menu and comes back once a newer Build completes; BYON import errors are listed."""

from __future__ import annotations

from typing import Any

from kubernetes_asyncio import client
from kubespawner import KubeSpawner

from jupyterhub_ov.images import odh
from jupyterhub_ov.images.kube import BUILD_GROUP, BUILDS, VERSION

from ..sim.helpers import eventually
from .conftest import StartCatalog
from .test_kube_catalog import MERGE, WITHIN, create_stream, imported, offered


async def create_build(
    custom: client.CustomObjectsApi, name: str, to: str, phase: str, number: int
) -> None:
    body = {
        "apiVersion": f"{BUILD_GROUP}/{VERSION}",
        "kind": "Build",
        "metadata": {
            "name": name,
            "labels": {odh.LABEL_BUILD_TYPE: odh.BUILD_TYPE_NOTEBOOK},
            "annotations": {odh.ANN_BUILD_NUMBER: str(number)},
        },
        "spec": {"output": {"to": {"kind": "ImageStreamTag", "name": to}}},
    }
    await custom.create_namespaced_custom_object(BUILD_GROUP, VERSION, "default", BUILDS, body)
    await set_phase(custom, name, phase)  # a created Build starts New, as in OpenShift


async def set_phase(custom: client.CustomObjectsApi, name: str, phase: str) -> None:
    """Like the build controller: Builds have no status subresource, the object is patched."""
    await custom.patch_namespaced_custom_object(  # type: ignore[call-arg]
        BUILD_GROUP,
        VERSION,
        "default",
        BUILDS,
        name,
        {"status": {"phase": phase}},
        _content_type=MERGE,
    )


def tags(catalog: Any) -> list[str]:
    image = offered(catalog).get("default/built-notebook")
    return [t.name for t in image.tags] if image else []


async def test_a_tag_being_built_or_failed_is_not_offered(
    start_catalog: StartCatalog, custom: client.CustomObjectsApi
) -> None:
    await create_stream(custom, "built-notebook", tags=("1", "2"))
    await create_build(custom, "built-1", "built-notebook:2", "Running", 1)
    catalog = await start_catalog()
    await eventually(lambda: tags(catalog) == ["1"], timeout=WITHIN)

    await set_phase(custom, "built-1", "Complete")
    await eventually(lambda: tags(catalog) == ["1", "2"], timeout=WITHIN)
    unchanged = offered(catalog)["default/built-notebook"]
    assert offered(catalog)["default/built-notebook"] is unchanged  # no copy per render

    await create_build(custom, "built-2", "built-notebook:2", "Failed", 2)
    await eventually(lambda: tags(catalog) == ["1"], timeout=WITHIN)
    await create_build(custom, "built-3", "built-notebook:1", "Pending", 1)
    await eventually(lambda: tags(catalog) == [], timeout=WITHIN)  # nothing left: not offered
    builds = KubeSpawner.reflectors[(BUILDS, "default")]
    expected = {
        ("default", "built-notebook:1"): "Pending",
        ("default", "built-notebook:2"): "Failed",
    }
    await eventually(lambda: builds.blocked == expected, timeout=WITHIN)


async def test_without_the_build_watch_builds_are_ignored(
    start_catalog: StartCatalog, custom: client.CustomObjectsApi
) -> None:
    await create_stream(custom, "built-notebook", tags=("1",))
    await create_build(custom, "built-1", "built-notebook:1", "Running", 1)
    catalog = await start_catalog(watch_builds=False)
    assert tags(catalog) == ["1"] and (BUILDS, "default") not in KubeSpawner.reflectors


async def test_import_errors_are_listed_even_for_a_stream_with_no_usable_tag(
    start_catalog: StartCatalog, custom: client.CustomObjectsApi
) -> None:
    failed = {
        "tag": "2",
        "conditions": [{"type": "ImportSuccess", "status": "False", "message": "manifest unknown"}],
    }
    status = imported("default", "byon-notebook", ("1",))
    status["tags"].append(failed)
    await create_stream(custom, "byon-notebook", tags=("1", "2"), status=status)
    broken = {"dockerImageRepository": "r", "tags": [failed]}
    await create_stream(custom, "custom-gone-notebook", tags=("2",), status=broken)
    catalog = await start_catalog()
    await eventually(lambda: "default/byon-notebook" in offered(catalog), timeout=WITHIN)
    assert sorted(catalog.import_errors(KubeSpawner, "default")) == [
        ("default/byon-notebook", "2: manifest unknown"),
        ("default/custom-gone-notebook", "2: manifest unknown"),
    ]
