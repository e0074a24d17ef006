"""Deletion rules: finalizers, deletionTimestamp, propagation policies, namespace termination.

The real server leaves cascading to the garbage-collector controller; here it runs inline
right after each removal, which is the "Background" behaviour with zero delay.
Part of the cluster simulator, a test double of Kubernetes (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import copy
from typing import Any, Protocol

from . import errors, meta
from .kinds import KindRegistry, ResourceKind
from .selectors import Matcher


class ObjectStore(Protocol):
    """What the rules need of the store (``store.ObjectStore``, which calls them).

    A protocol here, so the store imports these rules and not the other way round; the
    underscored methods write without running the rules again.
    """

    registry: KindRegistry
    namespace_kind: ResourceKind | None

    def _current(self, kind: ResourceKind, namespace: str, name: str) -> dict[str, Any]: ...

    def _store(
        self, kind: ResourceKind, obj: dict[str, Any], type_: str, old: dict[str, Any] | None
    ) -> dict[str, Any]: ...

    def _remove(self, kind: ResourceKind, obj: dict[str, Any]) -> dict[str, Any]: ...

    def list_objects(
        self, kind: ResourceKind, namespace: str | None = ..., matches: Matcher = ...
    ) -> tuple[list[dict[str, Any]], int]: ...

    def find_by_uid(self, uid: str) -> tuple[ResourceKind, dict[str, Any]] | None: ...

    def dependents(self, uid: str) -> list[tuple[ResourceKind, dict[str, Any]]]: ...

    def update(
        self, kind: ResourceKind, namespace: str, name: str, body: dict[str, Any]
    ) -> dict[str, Any]: ...

    def delete(
        self, kind: ResourceKind, namespace: str, name: str, options: dict[str, Any] | None = ...
    ) -> tuple[dict[str, Any], bool]: ...


FOREGROUND = "foregroundDeletion"
POLICIES = ("Foreground", "Background", "Orphan")


def _check_preconditions(kind: ResourceKind, obj: dict[str, Any], pre: Any) -> None:
    if not isinstance(pre, dict):
        return
    md, name = obj["metadata"], obj["metadata"]["name"]
    for field, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
        wanted = pre.get(field)
        if wanted and str(wanted) != md.get(field):
            raise errors.conflict(
                kind,
                name,
                f"Precondition failed: {label} in precondition: {wanted}, "
                f"{label} in object meta: {md.get(field)}",
            )


def delete(
    store: ObjectStore, kind: ResourceKind, obj: dict[str, Any], options: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """Delete ``obj`` (the stored instance); True if it is gone, False if only marked."""
    _check_preconditions(kind, obj, options.get("preconditions"))
    policy = options.get("propagationPolicy") or "Background"
    if policy not in POLICIES:
        raise errors.bad_request(
            f'propagationPolicy: Unsupported value: "{policy}": supported values: '
            '"Foreground", "Background", "Orphan"'
        )
    md = obj["metadata"]
    if md.get("deletionTimestamp"):
        return copy.deepcopy(obj), False
    if policy == "Orphan":
        _orphan(store, md["uid"])
    finalizers = list(md.get("finalizers") or [])
    if policy == "Foreground" and store.dependents(md["uid"]):
        finalizers.append(FOREGROUND)
    if kind.kind == "Namespace":
        return _terminate_namespace(store, kind, obj, finalizers)
    if not finalizers:
        return store._remove(kind, obj), True
    marked = _mark(store, kind, obj, finalizers)
    if policy == "Foreground":
        _delete_dependents(store, md["uid"])
    return marked, False


def _mark(
    store: ObjectStore, kind: ResourceKind, obj: dict[str, Any], finalizers: list[str]
) -> dict[str, Any]:
    new = copy.deepcopy(obj)
    new["metadata"]["deletionTimestamp"] = meta.now()
    new["metadata"]["deletionGracePeriodSeconds"] = 0
    if finalizers:
        new["metadata"]["finalizers"] = finalizers
    else:
        new["metadata"].pop("finalizers", None)
    return store._store(kind, new, "MODIFIED", obj)


def _orphan(store: ObjectStore, uid: str) -> None:
    for kind, dependent in store.dependents(uid):
        body = copy.deepcopy(dependent)
        refs = body["metadata"].get("ownerReferences") or []
        body["metadata"]["ownerReferences"] = [r for r in refs if r.get("uid") != uid]
        body["metadata"]["resourceVersion"] = None
        md = dependent["metadata"]
        store.update(kind, md.get("namespace", ""), md["name"], body)


def _delete_dependents(store: ObjectStore, uid: str) -> None:
    for kind, dependent in store.dependents(uid):
        if not _has_live_owner(store, dependent, ignoring=uid):
            delete(store, kind, dependent, {})


def _has_live_owner(store: ObjectStore, obj: dict[str, Any], ignoring: str = "") -> bool:
    for owner_uid in meta.owner_uids(obj):
        if owner_uid == ignoring:
            continue
        found = store.find_by_uid(owner_uid)
        if found is not None and not found[1]["metadata"].get("deletionTimestamp"):
            return True
    return False


def _terminate_namespace(
    store: ObjectStore, kind: ResourceKind, obj: dict[str, Any], finalizers: list[str]
) -> tuple[dict[str, Any], bool]:
    name = obj["metadata"]["name"]
    marked_obj = copy.deepcopy(obj)
    marked_obj.setdefault("status", {})["phase"] = "Terminating"
    marked = _mark(store, kind, marked_obj, finalizers)
    for content_kind in store.registry:
        if content_kind.namespaced:
            items, _ = store.list_objects(content_kind, name)
            for item in items:
                _delete_if_present(store, content_kind, name, item["metadata"]["name"])
    removed = _finish_namespace(store, name)
    return (removed, True) if removed else (marked, False)


def _delete_if_present(store: ObjectStore, kind: ResourceKind, namespace: str, name: str) -> None:
    try:
        store.delete(kind, namespace, name)
    except errors.ApiError as error:
        if error.code != 404:
            raise


def _namespace_empty(store: ObjectStore, namespace: str) -> bool:
    return not any(
        store.list_objects(kind, namespace)[0] for kind in store.registry if kind.namespaced
    )


def _finish_namespace(store: ObjectStore, namespace: str) -> dict[str, Any] | None:
    """Remove a terminating namespace once it is empty; the removed object, if any."""
    ns_kind = store.namespace_kind
    assert ns_kind is not None
    try:
        ns = store._current(ns_kind, "", namespace)
    except errors.ApiError:
        return None
    if not ns["metadata"].get("deletionTimestamp") or ns["metadata"].get("finalizers"):
        return None
    if not _namespace_empty(store, namespace):
        return None
    return store._remove(ns_kind, ns)


def after_removal(store: ObjectStore, kind: ResourceKind, gone: dict[str, Any]) -> None:
    """Cascade to dependents, finish foreground owners and terminating namespaces."""
    uid = gone["metadata"]["uid"]
    _delete_dependents(store, uid)
    for owner_uid in meta.owner_uids(gone):
        found = store.find_by_uid(owner_uid)
        if found is None:
            continue
        owner_kind, owner = found
        finalizers = owner["metadata"].get("finalizers") or []
        if FOREGROUND in finalizers and not store.dependents(owner_uid):
            body = copy.deepcopy(owner)
            body["metadata"]["finalizers"] = [f for f in finalizers if f != FOREGROUND]
            md = owner["metadata"]
            store.update(owner_kind, md.get("namespace", ""), md["name"], body)
    namespace = gone["metadata"].get("namespace")
    if kind.namespaced and namespace:
        _finish_namespace(store, namespace)


def delete_collection(
    store: ObjectStore,
    kind: ResourceKind,
    namespace: str | None,
    matches: Matcher,
    options: dict[str, Any],
) -> list[dict[str, Any]]:
    """Delete every match; the objects as each delete answered (gone or marked)."""
    items, _ = store.list_objects(kind, namespace, matches)
    results = []
    for item in items:
        md = item["metadata"]
        try:
            obj, _ = store.delete(kind, md.get("namespace", ""), md["name"], options)
        except errors.ApiError as error:
            if error.code != 404:
                raise
            continue
        results.append(obj)
    return results
