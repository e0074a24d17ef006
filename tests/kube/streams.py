"""ImageStreams for tests, created through the API like an admin or a build would."""

# The client annotates bodies as models; it accepts dicts.
# mypy: disable-error-code="arg-type"

from __future__ import annotations

import json
from typing import Any

from kubernetes_asyncio import client

from jupyterhub_ov.images import model

G, V, P = "image.openshift.io", "v1", "imagestreams"


def reference(namespace: str, name: str, tag: str) -> str:
    return f"image-registry.sim:5000/{namespace}/{name}:{tag}"


async def create_stream(
    api: client.CustomObjectsApi,
    name: str,
    *,
    namespace: str = "default",
    display: str | None = None,
    description: str = "",
    tags: tuple[str, ...] = ("latest",),
    packages: list[dict[str, str]] | None = None,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    default: bool = False,
    order: str | None = None,
) -> dict[str, Any]:
    """A stream whose tags are all imported (present in status.tags)."""
    ann = {model.ANN_DESC: description, **(annotations or {})}
    if display:
        ann[model.ANN_NAME] = display
    if order:
        ann[model.ANN_ORDER] = order
    tag_ann = {
        model.ANN_SOFTWARE: json.dumps([{"name": "Python", "version": "3.11"}]),
        model.ANN_DEPENDENCIES: json.dumps(packages or []),
    }
    if default:
        tag_ann[model.ANN_DEFAULT] = "true"
    body = {
        "apiVersion": f"{G}/{V}",
        "kind": "ImageStream",
        "metadata": {"name": name, "labels": labels or {}, "annotations": ann},
        "spec": {
            "lookupPolicy": {"local": True},
            "tags": [{"name": t, "annotations": tag_ann} for t in tags],
        },
    }
    await api.create_namespaced_custom_object(G, V, namespace, P, body)
    status = {
        "status": {
            "dockerImageRepository": f"image-registry.sim:5000/{namespace}/{name}",
            "tags": [
                {"tag": t, "items": [{"dockerImageReference": reference(namespace, name, t)}]}
                for t in tags
            ],
        }
    }
    return await api.patch_namespaced_custom_object_status(
        G, V, namespace, P, name, status, _content_type="application/merge-patch+json"
    )  # type: ignore[call-arg]  # kubernetes_asyncio takes it; its stubs do not say so
