"""Pure: a ``ModelServer``'s status, read from its Deployment, and whether the objects it owns
need an update.

The status (the CRD's status subresource; its scale subresource reads ``replicas`` and
``labelSelector``):

- ``replicas``: the Deployment's available replicas (0 without one);
- ``labelSelector``: ``release=<name>``, the label every pod of the server carries;
- ``conditions`` ``Available``, ``Progressing`` and ``Degraded``, their messages from the
  Deployment's status; a `Problem` (an invalid spec, a name taken by another's object) makes
  the server unavailable and degraded with the problem's reason and message;
- ``endpoints``: the Service's in-cluster REST and gRPC addresses (not for an invalid spec);
- ``models``: per model, whether it serves and its available versions (the server's
  ``/v1/config``, read by the reconciler, `readiness`); a model without an available
  version because of an error makes the server ``Degraded`` (``ModelUnavailable``, naming
  the model and the error — a path that cannot be read is named there) unless the
  Deployment is degraded already;
- ``observedGeneration``: the resource's generation this status is about.

A condition keeps its ``lastTransitionTime`` while its status stays the same.
`needs_update` compares only what we set: the API server's defaults and the fields it fills
(``clusterIP``, ``resourceVersion``, the pod template's defaults, ...) are no difference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .spec import ModelServerSpec

AVAILABLE, PROGRESSING, DEGRADED = "Available", "Progressing", "Degraded"
#: the reason of an invalid spec's conditions (nothing is created for it)
INVALID_SPEC = "InvalidSpec"
#: the reason when a Deployment or Service of the server's name belongs to someone else
NAME_TAKEN = "NameTaken"
#: the reason when a model of the server has no available version
MODEL_UNAVAILABLE = "ModelUnavailable"
#: a Service's fields the API server allocates, which a replace must carry over
SERVICE_ALLOCATED = ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy")


@dataclass(frozen=True)
class Problem:
    """Why the server is not (or not as specified) deployed."""

    reason: str
    message: str


def label_selector(name: str) -> str:
    """The selector of every pod of ModelServer ``name`` (its ``release`` label)."""
    return f"release={name}"


def endpoints(spec: ModelServerSpec, namespace: str) -> dict[str, str]:
    """The Service's in-cluster addresses: ``<svc>.<ns>.svc:<port>`` for REST and gRPC."""
    host = f"{spec.object_name}.{namespace}.svc"
    return {"rest": f"{host}:{spec.service.rest_port}", "grpc": f"{host}:{spec.service.grpc_port}"}


def _condition(kind: str, ok: bool, reason: str, message: str) -> dict[str, Any]:
    return {"type": kind, "status": "True" if ok else "False", "reason": reason, "message": message}


def _deployment_condition(deployment: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    for condition in (deployment.get("status") or {}).get("conditions") or ():
        if condition.get("type") == kind:
            found: Mapping[str, Any] = condition
            return found
    return {}


def _degraded(deployment: Mapping[str, Any]) -> dict[str, Any]:
    """Degraded when the Deployment's rollout passed its deadline or a replica failed."""
    stuck = _deployment_condition(deployment, "Progressing")
    if stuck.get("status") == "False":
        return _condition(DEGRADED, True, stuck.get("reason") or "", stuck.get("message") or "")
    failure = _deployment_condition(deployment, "ReplicaFailure")
    if failure.get("status") == "True":
        reason = failure.get("reason") or "ReplicaFailure"
        return _condition(DEGRADED, True, reason, failure.get("message") or "")
    return _condition(DEGRADED, False, "AsExpected", "")


def deployment_conditions(deployment: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """``Available``, ``Progressing`` and ``Degraded`` from the Deployment (None: not made
    yet). Without a timestamp: `status_for` adds them."""
    if deployment is None:
        return [
            _condition(AVAILABLE, False, "Creating", "The Deployment is being created"),
            _condition(PROGRESSING, True, "Creating", "The Deployment is being created"),
            _condition(DEGRADED, False, "AsExpected", ""),
        ]
    name = deployment["metadata"]["name"]
    wanted = (deployment.get("spec") or {}).get("replicas", 1)
    st = deployment.get("status") or {}
    available = st.get("availableReplicas") or 0
    updated = st.get("updatedReplicas") or 0
    observed = (st.get("observedGeneration") or 0) >= (
        deployment["metadata"].get("generation") or 0
    )
    counts = f"{available} of {wanted} replicas of Deployment {name} available"
    if wanted == 0:
        availability = _condition(AVAILABLE, False, "ScaledToZero", counts)
    elif available > 0:
        availability = _condition(AVAILABLE, True, "MinimumReplicasAvailable", counts)
    else:
        availability = _condition(AVAILABLE, False, "NoReplicasAvailable", counts)
    done = (
        observed and updated == wanted and available == wanted and st.get("replicas", 0) == wanted
    )
    rollout = f"{updated} of {wanted} replicas updated, {available} available"
    progress = (
        _condition(PROGRESSING, False, "RolloutComplete", rollout)
        if done
        else _condition(PROGRESSING, True, "RollingOut", rollout)
    )
    return [availability, progress, _degraded(deployment)]


def model_degraded(models: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """``Degraded`` naming each model (``models`` as in the status) that has no available
    version because of an error, and the error; None when none has (a model still loading
    has no error)."""
    failed = [m for m in models if not m.get("ready") and m.get("message")]
    if not failed:
        return None
    message = "; ".join(f"model {m.get('name')}: {m.get('message')}" for m in failed)
    return _condition(DEGRADED, True, MODEL_UNAVAILABLE, message)


def _with_models(
    conditions: list[dict[str, Any]], models: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    degraded = model_degraded(models)
    if degraded is None:
        return conditions
    return [degraded if c["type"] == DEGRADED and c["status"] == "False" else c for c in conditions]


def problem_conditions(problem: Problem) -> list[dict[str, Any]]:
    return [
        _condition(AVAILABLE, False, problem.reason, problem.message),
        _condition(PROGRESSING, False, problem.reason, problem.message),
        _condition(DEGRADED, True, problem.reason, problem.message),
    ]


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _timed(
    conditions: list[dict[str, Any]], previous: Mapping[str, Any], at: datetime
) -> list[dict[str, Any]]:
    now = _timestamp(at)
    before = {c.get("type"): c for c in previous.get("conditions") or ()}
    timed = []
    for condition in conditions:
        old = before.get(condition["type"]) or {}
        same = old.get("status") == condition["status"] and old.get("lastTransitionTime")
        timed.append(
            {**condition, "lastTransitionTime": old["lastTransitionTime"] if same else now}
        )
    return timed


def status_for(
    *,
    name: str,
    namespace: str,
    spec: ModelServerSpec | None,
    deployment: Mapping[str, Any] | None,
    problem: Problem | None = None,
    generation: int | None = None,
    previous: Mapping[str, Any] | None = None,
    models: Sequence[Mapping[str, Any]] | None = None,
    at: datetime,
) -> dict[str, Any]:
    """The whole status of ModelServer ``name``: ``spec`` None when it is invalid (then
    ``problem`` says why); ``deployment`` as read (None: there is none of ours);
    ``previous`` the status now, whose transition times stay; ``models`` the per-model
    readiness (`readiness.ModelState.to_json`; None: not known); ``at`` now."""
    previous = previous or {}
    if problem is not None:
        conditions = problem_conditions(problem)
    else:
        conditions = deployment_conditions(deployment)
        if models is not None:
            conditions = _with_models(conditions, models)
    available = ((deployment or {}).get("status") or {}).get("availableReplicas") or 0
    status: dict[str, Any] = {
        "replicas": available,
        "labelSelector": label_selector(name),
        "conditions": _timed(conditions, previous, at),
    }
    if spec is not None:
        status["endpoints"] = endpoints(spec, namespace)
    if models is not None and problem is None:
        status["models"] = [dict(m) for m in models]
    if generation is not None:
        status["observedGeneration"] = generation
    return status


def status_patch(current: Mapping[str, Any], desired: Mapping[str, Any]) -> dict[str, Any] | None:
    """The merge patch from ``current`` to ``desired`` (fields gone become null); None when
    they are the same."""
    if dict(current) == dict(desired):
        return None
    changes: dict[str, Any] = {key: None for key in current if key not in desired}
    changes.update({key: value for key, value in desired.items() if current.get(key) != value})
    return {"status": changes}


def covers(live: Any, desired: Any) -> bool:
    """Whether ``live`` has every field ``desired`` sets, with the same value (objects may
    have more fields; lists must match item by item)."""
    if isinstance(desired, Mapping):
        return isinstance(live, Mapping) and all(
            key in live and covers(live[key], value) for key, value in desired.items()
        )
    if isinstance(desired, list):
        return (
            isinstance(live, list)
            and len(live) == len(desired)
            and all(covers(a, b) for a, b in zip(live, desired, strict=True))
        )
    return bool(live == desired)


def needs_update(live: Mapping[str, Any], desired: Mapping[str, Any]) -> bool:
    """Whether the live object differs from the manifest in what the manifest sets: its
    labels, owner references and spec (server-filled metadata is ignored)."""
    wanted = desired.get("metadata") or {}
    have = live.get("metadata") or {}
    for key in ("labels", "annotations", "ownerReferences"):
        if key in wanted and not covers(have.get(key), wanted[key]):
            return True
    return not covers(live.get("spec"), desired.get("spec"))


def replacement(live: Mapping[str, Any], desired: Mapping[str, Any]) -> dict[str, Any]:
    """The body that replaces ``live`` with ``desired``: the read's resourceVersion (a
    concurrent change then conflicts), the live labels and annotations others added, and a
    Service's allocated addresses."""
    have = live.get("metadata") or {}
    metadata = {**desired["metadata"]}
    for key in ("labels", "annotations"):
        if have.get(key) or key in metadata:
            metadata[key] = {**(have.get(key) or {}), **(metadata.get(key) or {})}
    if have.get("resourceVersion"):
        metadata["resourceVersion"] = have["resourceVersion"]
    spec = {**desired.get("spec", {})}
    if desired.get("kind") == "Service":
        live_spec = live.get("spec") or {}
        spec.update({key: live_spec[key] for key in SERVICE_ALLOCATED if key in live_spec})
    return {**desired, "metadata": metadata, "spec": spec}


def owned_by(obj: Mapping[str, Any], uid: str) -> bool:
    """Whether ``obj`` names the resource of ``uid`` among its owners."""
    refs = (obj.get("metadata") or {}).get("ownerReferences") or ()
    return any(ref.get("uid") == uid for ref in refs)
