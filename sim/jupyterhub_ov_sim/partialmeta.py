"""Metadata-only answers (``PartialObjectMetadata``), as the real API server gives them.

A client that wants only names, labels and annotations (client-go's metadata informers; the
hub's watch of connection Secrets) asks with
``Accept: application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1`` for a list and
``...;as=PartialObjectMetadata;...`` for a get or a watch; the server then sends
``{"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": ...}`` for
each object and never its ``data``/``spec``/``status``. A request that offers only the
wrong one of the two (the list form for a watch) and no plain JSON is refused with 406.
Part of the cluster simulator, a test double of Kubernetes (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

from typing import Any

from . import errors

API_VERSION = "meta.k8s.io/v1"
ITEM = "PartialObjectMetadata"
LIST = "PartialObjectMetadataList"


def _offers(accept: str) -> list[tuple[str, dict[str, str]]]:
    """The media types of an Accept header with their parameters."""
    offers = []
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if not media:
            continue
        values = dict(p.split("=", 1) for p in params if "=" in p)
        offers.append((media, {k.strip(): v.strip() for k, v in values.items()}))
    return offers


def wanted(accept: str, verb: str) -> str | None:
    """``ITEM`` or ``LIST`` when the request asks for metadata only (``LIST`` for a list,
    ``ITEM`` for a get or watch), None for whole objects; ApiError 406 when it asks only for
    a form that does not fit the verb."""
    fits = LIST if verb == "list" else ITEM
    plain = False
    for media, params in _offers(accept):
        if "json" not in media and not media.endswith("*"):
            continue  # protobuf, cbor: this server answers JSON only
        shape = params.get("as")
        if shape is None:
            plain = True
        elif shape == fits and params.get("g") == "meta.k8s.io" and params.get("v") == "v1":
            return fits
    if plain or "as=" not in accept:
        return None
    raise errors.not_acceptable(accept)


def item(obj: dict[str, Any]) -> dict[str, Any]:
    """An object as ``PartialObjectMetadata``: its metadata and nothing else."""
    return {"kind": ITEM, "apiVersion": API_VERSION, "metadata": obj.get("metadata") or {}}


def list_body(items: list[dict[str, Any]], rv: int) -> dict[str, Any]:
    return {
        "kind": LIST,
        "apiVersion": API_VERSION,
        "metadata": {"resourceVersion": str(rv)},
        "items": [item(o) for o in items],
    }
