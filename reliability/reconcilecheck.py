"""Pure: what the servicecrash scenario's reconcile modes conclude from the cluster's objects
(no I/O).

A ModelServer the service was killed while reconciling must end with exactly one Deployment
and one Service that it controls (created once each: a delete and create again is a
duplicate too), and a status that is the truth: ``observedGeneration`` its generation, the
Deployment's replicas, ``Available`` as the Deployment is. One deleted while the service was
down must leave nothing that carries its ``release`` label or names it as owner.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

OWNER_API = "intel.com/v1alpha1"


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta: Mapping[str, Any] = obj.get("metadata") or {}
    return meta


def owned_by(obj: Mapping[str, Any], uid: str) -> bool:
    return any(r.get("uid") == uid for r in _meta(obj).get("ownerReferences") or ())


def owner_problems(obj: Mapping[str, Any], kind: str, name: str, uid: str) -> list[str]:
    """The object's owner references are not exactly its ModelServer as controller."""
    refs = list(_meta(obj).get("ownerReferences") or ())
    wanted = {"apiVersion": OWNER_API, "kind": kind, "name": name, "uid": uid, "controller": True}
    got = [{k: r.get(k) for k in wanted} for r in refs]
    if got != [wanted]:
        return [f"{obj.get('kind')} {_meta(obj).get('name')}: owner references {got}"]
    return []


def duplicates(
    uid: str, objects: Iterable[Mapping[str, Any]], creates: Mapping[str, int]
) -> list[str]:
    """Not exactly one Deployment and one Service owned by ``uid``, or one created more than
    once (``creates``: ``Kind/name`` → ADDED events seen)."""
    objects, out = list(objects), []
    for kind in ("Deployment", "Service"):
        names = [
            str(_meta(o).get("name")) for o in objects if o.get("kind") == kind and owned_by(o, uid)
        ]
        if len(names) != 1:
            out.append(f"{kind}: {len(names)} owned ({', '.join(names)})")
        out += [
            f"{kind} {n}: created {creates[f'{kind}/{n}']} times"
            for n in names
            if creates.get(f"{kind}/{n}", 1) > 1
        ]
    return out


def _condition(status: Mapping[str, Any], kind: str) -> str:
    for c in status.get("conditions") or ():
        if c.get("type") == kind:
            return str(c.get("status"))
    return ""


def status_problems(resource: Mapping[str, Any], deployment: Mapping[str, Any] | None) -> list[str]:
    """The ModelServer's status is not the truth about its generation and Deployment."""
    name = _meta(resource).get("name")
    status: Mapping[str, Any] = resource.get("status") or {}
    out = []
    if status.get("observedGeneration") != _meta(resource).get("generation"):
        out.append(
            f"ModelServer {name}: observedGeneration {status.get('observedGeneration')},"
            f" generation {_meta(resource).get('generation')}"
        )
    if deployment is None:
        return [*out, f"ModelServer {name}: no Deployment"]
    counts = deployment.get("status") or {}
    wanted = (deployment.get("spec") or {}).get("replicas", 1)
    if status.get("replicas") != counts.get("replicas", 0):
        out.append(f"ModelServer {name}: replicas {status.get('replicas')}, {counts}")
    available = "True" if counts.get("availableReplicas", 0) >= wanted > 0 else "False"
    if _condition(status, "Available") != available:
        out.append(f"ModelServer {name}: Available {_condition(status, 'Available')!r}, {counts}")
    return out


def leftovers(name: str, uid: str, objects: Iterable[Mapping[str, Any]]) -> list[str]:
    """Objects of the deleted ModelServer ``name`` (its ``release`` label or owner ``uid``)."""
    return sorted(
        f"{obj.get('kind')} {_meta(obj).get('name')}"
        for obj in objects
        if owned_by(obj, uid) or (_meta(obj).get("labels") or {}).get("release") == name
    )


def notebook_problems(
    resource: Mapping[str, Any],
    record: Mapping[str, Any] | None,
    builds: Iterable[Mapping[str, Any]],
) -> list[str]:
    """The Notebook resource's record (its JSON) is not Ready from a build that ended
    Success, or its status does not say what the record does (state, build id, ``Ready``,
    ``observedGeneration``). ``builds``: the build records (``id``, ``phase``)."""
    name = _meta(resource).get("name")
    if record is None:
        return [f"Notebook {name}: no record"]
    status: Mapping[str, Any] = resource.get("status") or {}
    phases = {b["id"]: b["phase"] for b in builds}
    out = []
    build = record.get("build_id")
    if record.get("state") != "Ready" or phases.get(build) != "Success":
        out.append(f"Notebook {name}: record {record.get('state')}, build {phases.get(build)}")
    for key in ("state", "build_id"):
        if status.get(key) != record.get(key):
            out.append(f"Notebook {name}: status {key} {status.get(key)!r}, {record.get(key)!r}")
    ready = "True" if record.get("state") == "Ready" else "False"
    if _condition(status, "Ready") != ready:
        out.append(f"Notebook {name}: Ready {_condition(status, 'Ready')!r}, not {ready}")
    if status.get("observedGeneration") != _meta(resource).get("generation"):
        out.append(f"Notebook {name}: observedGeneration {status.get('observedGeneration')}")
    return out


def duplicate_builds(builds: Iterable[Mapping[str, Any]], *, expected: int) -> list[str]:
    """Builds beyond the ``expected`` ones (one per applied resource)."""
    ids = sorted(f"build {b['id']} {b['phase']}" for b in builds)
    return ids if len(ids) > expected else []
