"""Turning a REST path and HTTP method into a kind, namespace, name, subresource and verb.

Part of the cluster simulator, a test double of Kubernetes (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ApiError
from .kinds import KindRegistry, ResourceKind


def not_found() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


@dataclass(frozen=True)
class Target:
    """What a request addresses. ``namespace`` is None for cluster scope or all namespaces."""

    kind: ResourceKind
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None

    @property
    def resource(self) -> str:
        """The resource as counters and fault rules name it: ``pods`` or ``pods/status``."""
        return f"{self.kind.plural}/{self.subresource}" if self.subresource else self.kind.plural


# Subresources other than status, per (kind, group): the one verb each answers, as RBAC
# names it. Pods and builds have a read-only log; a BuildConfig is instantiated by a POST.
SUBRESOURCES: dict[tuple[str, str], dict[str, str]] = {
    ("Pod", ""): {"log": "get"},
    ("Build", "build.openshift.io"): {"log": "get"},
    ("BuildConfig", "build.openshift.io"): {"instantiate": "create", "instantiatebinary": "create"},
}
_METHODS = {"get": "GET", "create": "POST"}


# Kinds with a ``scale`` subresource (get, update, patch), as (kind, group); the custom
# ones' paths (their CRD's specReplicasPath, ...) are in ``scale.CUSTOM_PATHS``.
SCALABLE = frozenset({("Deployment", "apps"), ("ReplicaSet", "apps"), ("ModelServer", "intel.com")})


def _serves(kind: ResourceKind, subresource: str) -> bool:
    if subresource == "status":
        return kind.status_subresource
    if subresource == "scale":
        return (kind.kind, kind.group) in SCALABLE
    return subresource in SUBRESOURCES.get((kind.kind, kind.group), {})


def subresource_verb(kind: ResourceKind, subresource: str | None) -> str | None:
    """The verb of a subresource other than status (``log``: get, ``instantiate``: create)."""
    if subresource is None:
        return None
    return SUBRESOURCES.get((kind.kind, kind.group), {}).get(subresource)


def _target(kind: ResourceKind | None, namespace: str | None, rest: list[str]) -> Target:
    if kind is None or len(rest) > 2:
        raise not_found()
    if namespace is None and kind.namespaced and rest:
        raise not_found()  # a namespaced object must be addressed inside its namespace
    name = rest[0] if rest else None
    subresource = rest[1] if len(rest) == 2 else None
    if subresource is not None and not _serves(kind, subresource):
        raise not_found()
    return Target(kind, namespace, name, subresource)


def parse_target(registry: KindRegistry, group: str, version: str, path: str) -> Target:
    """Parse the part of the URL after ``/api/v1/`` or ``/apis/<group>/<version>/``."""
    parts = [p for p in path.split("/") if p]
    if not parts:
        raise not_found()
    if parts[0] == "namespaces" and len(parts) >= 3:
        namespaced_kind = registry.lookup(group, version, parts[2])
        if namespaced_kind is not None and namespaced_kind.namespaced:
            return _target(namespaced_kind, parts[1], parts[3:])
    return _target(registry.lookup(group, version, parts[0]), None, parts[1:])


def verb_for(method: str, target: Target, watch: bool) -> str:
    """The Kubernetes verb of a request (as used in RBAC, counters and fault rules)."""
    special = subresource_verb(target.kind, target.subresource)
    if special is not None:
        if method != _METHODS[special]:
            raise ApiError(
                405, "MethodNotAllowed", f"{target.subresource} only supports {special}", {}
            )
        return special
    if method == "GET":
        if target.name is not None:
            return "get"
        return "watch" if watch else "list"
    if method == "POST" and target.name is None:
        return "create"
    if target.name is not None and not (target.subresource and method == "DELETE"):
        verb = {"PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(method)
        if verb is not None:
            return verb
    if method == "DELETE" and target.subresource is None:
        return "deletecollection"
    raise ApiError(
        405,
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
        {},
    )


def is_true(value: str | None) -> bool:
    """Query flags arrive as ``true``, ``True`` (kubernetes_asyncio) or ``1``."""
    return value is not None and value.lower() in ("true", "1")
