"""The in-memory object store behind the simulated API server.

All methods are synchronous and run on the event loop thread, so each is atomic with respect
to the others (the role etcd transactions play in the real server). Every change gets the next
global resourceVersion and is appended to the kind's event log for watchers.
Part of the cluster simulator, a test double of Kubernetes (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import copy
import random
from typing import Any

from . import admission, clusterips, errors, gc, meta, routes
from .ippool import ServiceIPPool
from .kinds import KindRegistry, ResourceKind
from .patches import STRATEGIC_MERGE_PATCH, apply_patch
from .selectors import Matcher
from .watchcache import EventLog, Subscription, WatchEvent, filter_event

Key = tuple[str, str]  # (namespace or "", name)
DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public")
POD_KEY = ("", "pods")


def _is_route(kind: ResourceKind) -> bool:
    return kind.group == "route.openshift.io" and kind.kind == "Route"


def _match_all(obj: Any) -> bool:
    return True


class ObjectStore:
    """Objects of every registered kind, the global resourceVersion and per-kind event logs."""

    def __init__(
        self,
        registry: KindRegistry | None = None,
        *,
        history: int = 1000,
        seed: int | None = None,
        namespaces: tuple[str, ...] = DEFAULT_NAMESPACES,
    ) -> None:
        self.registry = registry or KindRegistry()
        self.history = history
        self._rng = random.Random(seed)
        self._objects: dict[tuple[str, str], dict[Key, dict[str, Any]]] = {}
        self._logs: dict[tuple[str, str], EventLog] = {}
        self._rv = 0
        self.service_ips = ServiceIPPool()
        self.namespace_kind = self.registry.lookup("", "v1", "namespaces")
        if self.namespace_kind is None:
            raise ValueError("the registry must serve core v1 namespaces")
        for name in namespaces:
            self.create(self.namespace_kind, "", {"metadata": {"name": name}})

    # -- reading ---------------------------------------------------------------------------

    @property
    def resource_version(self) -> int:
        return self._rv

    def _bucket(self, kind: ResourceKind) -> dict[Key, dict[str, Any]]:
        return self._objects.setdefault(kind.key, {})

    def log(self, kind: ResourceKind) -> EventLog:
        if kind.key not in self._logs:
            self._logs[kind.key] = EventLog(self.history)
        return self._logs[kind.key]

    def _key(self, kind: ResourceKind, namespace: str, name: str) -> Key:
        return (namespace if kind.namespaced else "", name)

    def _current(self, kind: ResourceKind, namespace: str, name: str) -> dict[str, Any]:
        obj = self._bucket(kind).get(self._key(kind, namespace, name))
        if obj is None:
            raise errors.not_found(kind, name)
        return obj

    def namespace_of(self, namespace: str) -> dict[str, Any]:
        """The Namespace object named ``namespace`` (its labels decide pod admission)."""
        assert self.namespace_kind is not None
        return self._bucket(self.namespace_kind).get(("", namespace)) or {}

    def get(self, kind: ResourceKind, namespace: str, name: str) -> dict[str, Any]:
        return copy.deepcopy(self._current(kind, namespace, name))

    def list_objects(
        self, kind: ResourceKind, namespace: str | None = None, matches: Matcher = _match_all
    ) -> tuple[list[dict[str, Any]], int]:
        """Matching objects sorted by namespace and name, and the list's resourceVersion."""
        items = [
            copy.deepcopy(obj)
            for (ns, _), obj in sorted(self._bucket(kind).items())
            if (not namespace or ns == namespace) and matches(obj)
        ]
        return items, self._rv

    def watch(
        self,
        kind: ResourceKind,
        namespace: str | None,
        matches: Matcher,
        resource_version: int | None,
    ) -> tuple[list[WatchEvent], Subscription]:
        """Initial events plus a live subscription, taken atomically so nothing is missed.

        Without a resourceVersion (or with 0) the initial events are synthetic ADDED events
        for the current objects; otherwise the retained history newer than that version.
        """
        log = self.log(kind)
        if resource_version:
            initial = [
                visible
                for event in log.since(resource_version)
                if (visible := filter_event(event, namespace, matches)) is not None
            ]
        else:
            items, _ = self.list_objects(kind, namespace, matches)
            initial = [WatchEvent(int(o["metadata"]["resourceVersion"]), "ADDED", o) for o in items]
        return initial, log.subscribe(namespace, matches)

    def find_by_uid(self, uid: str) -> tuple[ResourceKind, dict[str, Any]] | None:
        for kind in self.registry:
            for obj in self._bucket(kind).values():
                if obj["metadata"]["uid"] == uid:
                    return kind, obj
        return None

    def dependents(self, uid: str) -> list[tuple[ResourceKind, dict[str, Any]]]:
        return [
            (kind, obj)
            for kind in self.registry
            for obj in list(self._bucket(kind).values())
            if uid in meta.owner_uids(obj)
        ]

    # -- writing ---------------------------------------------------------------------------

    def _emit(self, kind: ResourceKind, type_: str, obj: dict[str, Any], old: Any = None) -> None:
        self.log(kind).append(WatchEvent(self._rv, type_, copy.deepcopy(obj), old))

    def _store(
        self, kind: ResourceKind, obj: dict[str, Any], type_: str, old: dict[str, Any] | None
    ) -> dict[str, Any]:
        self._rv += 1
        obj["metadata"]["resourceVersion"] = str(self._rv)
        md = obj["metadata"]
        self._bucket(kind)[self._key(kind, md.get("namespace", ""), md["name"])] = obj
        self._emit(kind, type_, obj, copy.deepcopy(old) if old is not None else None)
        return copy.deepcopy(obj)

    def _check_namespace(self, kind: ResourceKind, namespace: str, name: str) -> None:
        if not kind.namespaced:
            return
        assert self.namespace_kind is not None
        ns = self._bucket(self.namespace_kind).get(("", namespace))
        if ns is None:
            raise errors.namespace_not_found(namespace)
        if ns["metadata"].get("deletionTimestamp"):
            raise errors.forbidden_terminating(kind, name, namespace)

    def _pick_name(self, kind: ResourceKind, namespace: str, md: dict[str, Any]) -> str:
        name = md.get("name") or ""
        prefix = md.get("generateName") or ""
        if name or not prefix:
            return str(name)
        for _ in range(10):
            candidate = meta.generate_name(prefix, self._rng)
            if self._key(kind, namespace, candidate) not in self._bucket(kind):
                return candidate
        return candidate  # the create below answers 409 AlreadyExists, as the real server does

    def create(
        self, kind: ResourceKind, namespace: str, body: dict[str, Any], *, dry_run: bool = False
    ) -> dict[str, Any]:
        md = body.get("metadata") or {}
        body_ns = md.get("namespace")
        if kind.namespaced and body_ns and body_ns != namespace:
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on "
                "the request"
            )
        name = self._pick_name(kind, namespace, md)
        meta.validate_name(kind, name)
        self._check_namespace(kind, namespace, name)
        if self._key(kind, namespace, name) in self._bucket(kind):
            raise errors.already_exists(kind, name)
        obj = meta.initialise(kind, body, namespace, name)
        if kind.kind == "Namespace":
            obj.setdefault("spec", {})["finalizers"] = ["kubernetes"]
        if kind.key == POD_KEY:
            admission.enforce(self.namespace_of(namespace), obj)
        if dry_run:
            return obj
        if clusterips.is_service(kind):
            clusterips.on_create(kind, obj, self.service_ips)
        elif _is_route(kind):
            routes.default_host(obj)
        return self._store(kind, obj, "ADDED", None)

    def update(
        self,
        kind: ResourceKind,
        namespace: str,
        name: str,
        body: dict[str, Any],
        *,
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        old = self._current(kind, namespace, name)
        body_name = (body.get("metadata") or {}).get("name")
        if body_name and body_name != name:
            raise errors.bad_request(
                f"the name of the object ({body_name}) does not match the name on the URL ({name})"
            )
        wanted = (body.get("metadata") or {}).get("resourceVersion")
        if wanted and str(wanted) != old["metadata"]["resourceVersion"]:
            raise errors.conflict(kind, name, errors.STALE)
        new = meta.merge_for_update(kind, old, body, subresource)
        if clusterips.is_service(kind):
            clusterips.on_update(kind, new, old)
        elif _is_route(kind):
            routes.keep_host(new, old)
        new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
        if meta.same_object(new, old) or dry_run:
            return copy.deepcopy(new)
        if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers"):
            self._store(kind, new, "MODIFIED", old)
            return self._remove(kind, new)
        return self._store(kind, new, "MODIFIED", old)

    def patch(
        self,
        kind: ResourceKind,
        namespace: str,
        name: str,
        body: Any,
        content_type: str,
        *,
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        current = self._current(kind, namespace, name)
        if not kind.builtin and content_type.startswith(STRATEGIC_MERGE_PATCH):
            raise errors.unsupported_patch()
        patched = apply_patch(current, body, content_type)
        if not isinstance(patched, dict):
            raise errors.bad_request("the patch turned the object into something else")
        patched_rv = (patched.get("metadata") or {}).get("resourceVersion")
        if patched_rv and str(patched_rv) != current["metadata"]["resourceVersion"]:
            raise errors.conflict(kind, name, errors.STALE)
        patched.setdefault("metadata", {})["resourceVersion"] = None
        return self.update(kind, namespace, name, patched, subresource=subresource, dry_run=dry_run)

    # -- deleting (the rules live in gc.py) ---------------------------------------------

    def _remove(self, kind: ResourceKind, obj: dict[str, Any]) -> dict[str, Any]:
        md = obj["metadata"]
        self._bucket(kind).pop(self._key(kind, md.get("namespace", ""), md["name"]), None)
        self._rv += 1
        gone = copy.deepcopy(obj)
        gone["metadata"]["resourceVersion"] = str(self._rv)
        self._emit(kind, "DELETED", gone)
        if clusterips.is_service(kind):
            clusterips.on_remove(gone, self.service_ips)
        gc.after_removal(self, kind, gone)
        return gone

    def delete(
        self, kind: ResourceKind, namespace: str, name: str, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], bool]:
        """Delete or, with finalizers pending, mark for deletion; True if removed now."""
        return gc.delete(self, kind, self._current(kind, namespace, name), options or {})

    def delete_collection(
        self,
        kind: ResourceKind,
        namespace: str | None,
        matches: Matcher,
        options: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        return gc.delete_collection(self, kind, namespace, matches, options or {})

    def close_watches(self) -> None:
        for log in self._logs.values():
            log.close_all()
