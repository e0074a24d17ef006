# The client annotates bodies as models and hides _content_type; it accepts dicts and both.
# mypy: disable-error-code="arg-type, call-arg"
"""Label and field selectors: the parser and matcher as tables, then through list and watch."""

from __future__ import annotations

import pytest
from jupyterhub_ov_sim.errors import ApiError
from jupyterhub_ov_sim.selectors import object_matcher, parse_label_selector
from kubernetes_asyncio import client
from kubernetes_asyncio.client import ApiException

LABELS = {"app": "jupyterhub", "component": "singleuser-server", "hub.jupyter.org/username": "ann"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("", True),
        ("app=jupyterhub", True),
        ("app==jupyterhub", True),
        ("app=other", False),
        ("app!=other", True),
        ("app!=jupyterhub", False),
        ("missing!=x", True),
        ("app in (jupyterhub, binder)", True),
        ("app in (binder)", False),
        ("app notin (binder,other)", True),
        ("app notin (jupyterhub)", False),
        ("missing notin (x)", True),
        ("component", True),
        ("missing", False),
        ("!missing", True),
        ("!app", False),
        ("app=jupyterhub,component=singleuser-server", True),
        ("app=jupyterhub,component=hub", False),
        ("hub.jupyter.org/username=ann", True),
        ("app in (jupyterhub),!missing,component", True),
    ],
)
def test_label_selector_table(selector: str, expected: bool) -> None:
    matches = object_matcher(selector, None, ())
    assert matches({"metadata": {"labels": LABELS}}) is expected


@pytest.mark.parametrize("selector", ["app=(x", "app in x", "=x", "a b"])
def test_malformed_label_selectors_are_400(selector: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_label_selector(selector)
    assert caught.value.code == 400


POD = {
    "metadata": {"name": "p", "namespace": "ns"},
    "spec": {"nodeName": ""},
    "status": {"phase": "Running"},
}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("metadata.name=p", True),
        ("metadata.name==p", True),
        ("metadata.name=q", False),
        ("metadata.name!=q", True),
        ("metadata.namespace=ns,status.phase=Running", True),
        ("status.phase!=Running", False),
        ("spec.nodeName=", True),
    ],
)
def test_field_selector_table(selector: str, expected: bool) -> None:
    allowed = ("metadata.name", "metadata.namespace", "status.phase", "spec.nodeName")
    assert object_matcher(None, selector, allowed)(POD) is expected


def test_unsupported_field_is_400() -> None:
    with pytest.raises(ApiError) as caught:
        object_matcher(None, "spec.image=x", ("metadata.name",))
    assert (caught.value.code, caught.value.message) == (
        400,
        "field label not supported: spec.image",
    )


async def _pods(core: client.CoreV1Api) -> None:
    for name, labels, phase in (
        ("a", {"app": "jupyterhub", "tier": "hub"}, "Running"),
        ("b", {"app": "jupyterhub", "tier": "user"}, "Pending"),
        ("c", {"app": "other"}, "Running"),
    ):
        body = {"metadata": {"name": name, "labels": labels}, "spec": {"containers": []}}
        await core.create_namespaced_pod("default", body)
        await core.patch_namespaced_pod_status(name, "default", {"status": {"phase": phase}})


@pytest.mark.parametrize(
    ("labels", "fields", "names"),
    [
        ("app=jupyterhub", None, ["a", "b"]),
        ("tier in (hub,user),app", None, ["a", "b"]),
        ("!tier", None, ["c"]),
        (None, "status.phase=Running", ["a", "c"]),
        (None, "metadata.name!=a,status.phase=Running", ["c"]),
        ("app=jupyterhub", "status.phase=Running", ["a"]),
    ],
)
async def test_list_with_selectors(
    core: client.CoreV1Api, labels: str | None, fields: str | None, names: list[str]
) -> None:
    await _pods(core)
    kwargs = {k: v for k, v in (("label_selector", labels), ("field_selector", fields)) if v}
    listed = await core.list_namespaced_pod("default", **kwargs)
    assert [p.metadata.name for p in listed.items] == names


async def test_list_with_bad_field_selector(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as caught:
        await core.list_namespaced_config_map("default", field_selector="data.x=1")
    assert caught.value.status == 400


async def test_custom_objects_select_by_name(custom: client.CustomObjectsApi) -> None:
    for name in ("x", "y"):
        body = {"apiVersion": "route.openshift.io/v1", "kind": "Route", "metadata": {"name": name}}
        await custom.create_namespaced_custom_object(
            "route.openshift.io", "v1", "default", "routes", body
        )
    listed = await custom.list_namespaced_custom_object(
        "route.openshift.io", "v1", "default", "routes", field_selector="metadata.name=y"
    )
    assert [item["metadata"]["name"] for item in listed["items"]] == ["y"]
