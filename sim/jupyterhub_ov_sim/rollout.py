"""The pure rules of Deployments and ReplicaSets: template hashes, rolling-update arithmetic,
owner references and the status documents the controllers write.

Part of the cluster simulator, a test double of Kubernetes (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

from .meta import SUFFIX_ALPHABET, now

HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"


def fnv32a(data: bytes) -> int:
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def template_hash(template: dict[str, Any], collision_count: int = 0) -> str:
    """The ``pod-template-hash``: FNV-32a of the template, spelt like the real controller's
    (each decimal digit as a letter of the safe alphabet; the real one hashes the Go struct,
    so the values differ from a real cluster's, their shape does not)."""
    text = json.dumps(without_hash(template), sort_keys=True, separators=(",", ":"))
    digits = str(fnv32a(f"{text}{collision_count or ''}".encode()))
    return "".join(SUFFIX_ALPHABET[ord(d) % len(SUFFIX_ALPHABET)] for d in digits)


def without_hash(template: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(template or {})
    labels = (result.get("metadata") or {}).get("labels")
    if labels is not None:
        labels.pop(HASH_LABEL, None)
    return result


def owner_reference(owner: dict[str, Any]) -> dict[str, Any]:
    md = owner["metadata"]
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": md["name"],
        "uid": md["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def controller_uid(obj: dict[str, Any]) -> str | None:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid"))
    return None


def replicas_of(obj: dict[str, Any]) -> int:
    """``spec.replicas``, 1 when unset (the API's default)."""
    value = (obj.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def status_count(obj: dict[str, Any], field: str) -> int:
    return int((obj.get("status") or {}).get(field) or 0)


def _resolve(value: Any, total: int, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        share = int(value[:-1]) * total / 100
        return math.ceil(share) if round_up else math.floor(share)
    return int(value)


def surge_and_unavailable(deployment: dict[str, Any]) -> tuple[int, int]:
    """``maxSurge`` (rounded up) and ``maxUnavailable`` (rounded down), defaults 25%; never
    both zero, as the real controller."""
    strategy = (deployment.get("spec") or {}).get("strategy") or {}
    rolling = strategy.get("rollingUpdate") or {}
    want = replicas_of(deployment)
    surge = _resolve(rolling.get("maxSurge", "25%"), want, round_up=True)
    unavailable = _resolve(rolling.get("maxUnavailable", "25%"), want, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, min(unavailable, want)


def pod_ready(pod: dict[str, Any]) -> bool:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return bool(condition.get("status") == "True")
    return False


def pod_active(pod: dict[str, Any]) -> bool:
    """Counted by its ReplicaSet: not being deleted, not finished."""
    phase = (pod.get("status") or {}).get("phase")
    return not pod["metadata"].get("deletionTimestamp") and phase not in ("Succeeded", "Failed")


def _rank(pod: dict[str, Any]) -> tuple[int, int, int]:
    status = pod.get("status") or {}
    return (
        1 if (pod.get("spec") or {}).get("nodeName") else 0,
        1 if status.get("phase") == "Running" else 0,
        1 if pod_ready(pod) else 0,
    )


def deletion_order(pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Surplus pods in the order they go: unscheduled, pending, not ready; newest first."""
    newest_first = sorted(
        pods, key=lambda p: (p["metadata"].get("creationTimestamp", ""), p["metadata"]["name"])
    )[::-1]
    return sorted(newest_first, key=_rank)


def replicaset_status(rs: dict[str, Any], pods: list[dict[str, Any]]) -> dict[str, Any]:
    """``minReadySeconds`` is not honoured: a ready pod counts as available at once."""
    ready = sum(1 for pod in pods if pod_ready(pod))
    return {
        "replicas": len(pods),
        "fullyLabeledReplicas": len(pods),
        "readyReplicas": ready,
        "availableReplicas": ready,
        "observedGeneration": rs["metadata"].get("generation", 1),
    }


def _condition(
    old: list[dict[str, Any]], type_: str, ok: bool, reason: str, message: str
) -> dict[str, Any]:
    status = "True" if ok else "False"
    stamp = now()
    condition = {
        "type": type_,
        "status": status,
        "lastUpdateTime": stamp,
        "lastTransitionTime": stamp,
        "reason": reason,
        "message": message,
    }
    for previous in old:
        if previous.get("type") != type_:
            continue
        if previous.get("status") == status:
            condition["lastTransitionTime"] = previous.get("lastTransitionTime", stamp)
            if (previous.get("reason"), previous.get("message")) == (reason, message):
                condition["lastUpdateTime"] = previous.get("lastUpdateTime", stamp)
    return condition


def deployment_status(
    deployment: dict[str, Any],
    new: dict[str, Any] | None,
    replica_sets: list[dict[str, Any]],
    created: bool = False,
) -> dict[str, Any]:
    """The Deployment's status from its ReplicaSets (``new`` the one of its template)."""
    want = replicas_of(deployment)
    _, unavailable = surge_and_unavailable(deployment)
    replicas = sum(status_count(rs, "replicas") for rs in replica_sets)
    available = sum(status_count(rs, "availableReplicas") for rs in replica_sets)
    updated = status_count(new, "replicas") if new else 0
    new_name = new["metadata"]["name"] if new else ""
    old = (deployment.get("status") or {}).get("conditions") or []
    enough = available >= want - unavailable
    available_condition = _condition(
        old,
        "Available",
        enough,
        "MinimumReplicasAvailable" if enough else "MinimumReplicasUnavailable",
        "Deployment has minimum availability."
        if enough
        else "Deployment does not have minimum availability.",
    )
    if updated == want and replicas == want and available == want and new is not None:
        progress = (
            "NewReplicaSetAvailable",
            f'ReplicaSet "{new_name}" has successfully progressed.',
        )
    elif created:
        progress = ("NewReplicaSetCreated", f'Created new replica set "{new_name}"')
    else:
        progress = ("ReplicaSetUpdated", f'ReplicaSet "{new_name}" is progressing.')
    total = sum(replicas_of(rs) for rs in replica_sets)
    return {
        "observedGeneration": deployment["metadata"].get("generation", 1),
        "replicas": replicas,
        "updatedReplicas": updated,
        "readyReplicas": sum(status_count(rs, "readyReplicas") for rs in replica_sets),
        "availableReplicas": available,
        "unavailableReplicas": max(total - available, 0),
        "conditions": [available_condition, _condition(old, "Progressing", True, *progress)],
    }
