"""A minimal OpenAPI v3 description: just enough for ``kubectl`` to trust the server.

kubectl downloads ``/openapi/v3`` before ``apply``/``create -f`` to learn whether the
server validates fields itself (the ``fieldValidation`` query parameter on each kind's PATCH
operation). This document declares that for every registered kind and carries no schemas,
so kubectl leaves validation to the server (which, here, accepts any fields).
Part of the cluster simulator, a test double of Kubernetes (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .kinds import KindRegistry, ResourceKind

PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/apply-patch+yaml",
)


def _path_key(group_version: str) -> str:
    return "api/v1" if group_version == "v1" else f"apis/{group_version}"


def _object_path(kind: ResourceKind) -> str:
    prefix = "/" + _path_key(kind.api_version)
    scope = "/namespaces/{namespace}" if kind.namespaced else ""
    return f"{prefix}{scope}/{kind.plural}/{{name}}"


def _patch_operation(kind: ResourceKind) -> dict[str, Any]:
    types = (
        PATCH_TYPES
        if not kind.builtin
        else (*PATCH_TYPES, "application/strategic-merge-patch+json")
    )
    return {
        "operationId": f"patch{kind.kind}",
        "x-kubernetes-action": "patch",
        "x-kubernetes-group-version-kind": {
            "group": kind.group,
            "version": kind.version,
            "kind": kind.kind,
        },
        "parameters": [
            {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}},
            {"name": "fieldManager", "in": "query", "schema": {"type": "string"}},
            {"name": "dryRun", "in": "query", "schema": {"type": "string"}},
        ],
        "requestBody": {"content": {t: {"schema": {"type": "object"}} for t in types}},
        "responses": {"200": {"description": "OK"}},
    }


def group_version_document(registry: KindRegistry, group_version: str) -> dict[str, Any] | None:
    kinds = registry.group_versions().get(group_version)
    if kinds is None:
        return None
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes (jupyterhub-ov simulator)", "version": "v1.31.0"},
        "paths": {_object_path(kind): {"patch": _patch_operation(kind)} for kind in kinds},
        "components": {"schemas": {}},
    }


def index(registry: KindRegistry) -> dict[str, Any]:
    paths = {}
    for group_version in registry.group_versions():
        document = group_version_document(registry, group_version)
        digest = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()
        key = _path_key(group_version)
        paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest.upper()}"}
    return {"paths": paths}


def document_for_path(registry: KindRegistry, path: str) -> dict[str, Any] | None:
    """The document served at ``/openapi/v3/<path>`` (``api/v1`` or ``apis/<g>/<v>``)."""
    if path == "api/v1":
        return group_version_document(registry, "v1")
    if path.startswith("apis/"):
        return group_version_document(registry, path.removeprefix("apis/"))
    return None
