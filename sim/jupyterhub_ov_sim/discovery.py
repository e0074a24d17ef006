"""Discovery documents (``/api``, ``/apis``, per group-version resource lists, ``/version``).

Shapes follow the real server closely because the generated clients validate them: every
APIResource carries ``singularName`` (empty for subresources), ``/version`` has every field.
Part of the cluster simulator, a test double of Kubernetes (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

from typing import Any

from .kinds import KindRegistry, ResourceKind
from .paths import SCALABLE, SUBRESOURCES

# what the real discovery documents name as the kind of these subresources
SUBRESOURCE_KINDS = {
    ("Build", "log"): "BuildLog",
    ("BuildConfig", "instantiate"): "BuildRequest",
    ("BuildConfig", "instantiatebinary"): "BinaryBuildRequestOptions",
}

KUBERNETES_VERSION = ("1", "31", "v1.31.0")
COLLECTION_VERBS = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
]


def version_info() -> dict[str, str]:
    major, minor, git_version = KUBERNETES_VERSION
    return {
        "major": major,
        "minor": minor,
        "gitVersion": f"{git_version}+jupyterhub-ov-sim",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2024-08-13T07:28:49Z",
        "goVersion": "go1.22.5",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def api_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _resources(kind: ResourceKind) -> list[dict[str, Any]]:
    verbs = list(COLLECTION_VERBS)
    if kind.kind == "Namespace":
        verbs.remove("deletecollection")
    main: dict[str, Any] = {
        "name": kind.plural,
        "singularName": kind.singular,
        "namespaced": kind.namespaced,
        "kind": kind.kind,
        "verbs": verbs,
    }
    if kind.short_names:
        main["shortNames"] = list(kind.short_names)
    result = [main]
    if kind.status_subresource:
        result.append(
            {
                "name": f"{kind.plural}/status",
                "singularName": "",
                "namespaced": kind.namespaced,
                "kind": kind.kind,
                "verbs": ["get", "patch", "update"],
            }
        )
    if (kind.kind, kind.group) in SCALABLE:
        result.append(
            {
                "name": f"{kind.plural}/scale",
                "singularName": "",
                "namespaced": kind.namespaced,
                "group": "autoscaling",
                "version": "v1",
                "kind": "Scale",
                "verbs": ["get", "patch", "update"],
            }
        )
    for subresource, verb in SUBRESOURCES.get((kind.kind, kind.group), {}).items():
        result.append(
            {
                "name": f"{kind.plural}/{subresource}",
                "singularName": "",
                "namespaced": kind.namespaced,
                "kind": SUBRESOURCE_KINDS.get((kind.kind, subresource), kind.kind),
                "verbs": [verb],
            }
        )
    return result


def resource_list(registry: KindRegistry, group_version: str) -> dict[str, Any] | None:
    kinds = registry.group_versions().get(group_version)
    if kinds is None:
        return None
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": [resource for kind in kinds for resource in _resources(kind)],
    }


def _group(name: str, versions: list[str]) -> dict[str, Any]:
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": entries, "preferredVersion": entries[0]}


def api_groups(registry: KindRegistry) -> dict[str, Any]:
    versions: dict[str, list[str]] = {}
    for kind in registry:
        if kind.group and kind.version not in versions.setdefault(kind.group, []):
            versions[kind.group].append(kind.version)
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group(name, vs) for name, vs in versions.items()],
    }


def api_group(registry: KindRegistry, name: str) -> dict[str, Any] | None:
    for group in api_groups(registry)["groups"]:
        if group["name"] == name:
            return {"kind": "APIGroup", "apiVersion": "v1", **group}
    return None
