"""Pure: what a ModelServer backend answers about one server (`ServerView`), whichever the
backend (local processes or the cluster's resources), and the helpers both use to make one.

A view says: the name and mode, the spec as normalised (`spec_json`), the desired and ready
replicas, one state (`State`) with the conditions behind it, the REST and gRPC endpoints a
notebook calls, the per-model readiness, the last error, who created it and when. Raw specs
are scaled by `scaled_spec`, in whichever shape they were written.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from .spec import ModelServerSpec

#: the groups of the CRD's nested shape (a spec with any of them is nested)
NESTED_GROUPS = (
    "deployment_parameters",
    "service_parameters",
    "models_settings",
    "models_repository",
    "server_settings",
    "monitoring",
)


class State(StrEnum):
    """One word for the server: what the panel shows in its badge."""

    PROGRESSING = "Progressing"  # starting, loading models, rolling out
    AVAILABLE = "Available"  # every replica wanted is ready, every model has a version
    DEGRADED = "Degraded"  # a replica crashed, a model cannot be loaded, a name is taken
    SCALED_TO_ZERO = "ScaledToZero"


@dataclass(frozen=True)
class ModelReadiness:
    """One model as its server reports it (``/v1/config``, read by `readiness`): whether a
    version serves, the versions available, why the others do not."""

    name: str
    ready: bool
    versions: tuple[str, ...] = ()
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ready": self.ready,
            "versions": list(self.versions),
            "message": self.message,
        }


@dataclass(frozen=True)
class ServerView:
    name: str
    #: "local" (processes on this machine) or "openshift" (the cluster's resource)
    mode: str
    #: the spec as normalised (`spec_json`); {} when the stored spec is invalid
    spec: Mapping[str, Any]
    desired_replicas: int
    ready_replicas: int
    state: State
    #: ``Available``/``Progressing``/``Degraded`` as {type, status, reason, message}
    conditions: tuple[Mapping[str, str], ...]
    #: what a notebook calls: {"rest": "http://host:port", "grpc": "host:port"}
    endpoints: Mapping[str, str]
    models: tuple[ModelReadiness, ...] = ()
    last_error: str = ""
    creator: str = ""
    created: datetime | None = None
    updated: datetime | None = None
    #: local mode: restarts, last exit, last log lines (secrets removed)
    process: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "mode": self.mode,
            "spec": dict(self.spec),
            "replicas": {"desired": self.desired_replicas, "ready": self.ready_replicas},
            "state": self.state.value,
            "conditions": [dict(c) for c in self.conditions],
            "endpoints": dict(self.endpoints),
            "models": [m.to_json() for m in self.models],
            "last_error": self.last_error,
            "creator": self.creator,
            "created": _iso(self.created),
            "updated": _iso(self.updated),
            "process": dict(self.process),
        }


def _iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z") if at else None


def spec_json(spec: ModelServerSpec) -> dict[str, Any]:
    """The typed spec as JSON: its groups with every field, defaults included."""
    data = dataclasses.asdict(spec)
    resources = data["deployment"]["resources"]
    for section in ("limits", "requests"):
        resources[section] = {key: value for key, value in resources[section]}
    policy = spec.models.model_version_policy
    data["models"]["model_version_policy"] = policy.to_json() if policy else None
    data["object_name"] = spec.object_name
    return data


def is_nested(raw: Mapping[str, Any]) -> bool:
    return any(key in NESTED_GROUPS for key in raw)


def scaled_spec(raw: Mapping[str, Any] | None, replicas: int) -> dict[str, Any]:
    """``raw`` (either shape) with ``replicas`` set where that shape keeps it."""
    spec = copy.deepcopy(dict(raw or {}))
    if is_nested(spec):
        group = spec.get("deployment_parameters")
        group = dict(group) if isinstance(group, Mapping) else {}
        group["replicas"] = replicas
        spec["deployment_parameters"] = group
    else:
        spec["replicas"] = replicas
    return spec


def condition(kind: str, ok: bool, reason: str, message: str = "") -> dict[str, str]:
    return {"type": kind, "status": "True" if ok else "False", "reason": reason, "message": message}


def state_of(conditions: tuple[Mapping[str, str], ...], desired: int) -> State:
    """The state the conditions say: degraded first, then available, scaled or progressing."""
    found = {c.get("type"): c.get("status") for c in conditions}
    if found.get("Degraded") == "True":
        return State.DEGRADED
    if desired == 0:
        return State.SCALED_TO_ZERO
    if found.get("Available") == "True" and found.get("Progressing") != "True":
        return State.AVAILABLE
    return State.PROGRESSING


def unavailable_models(models: tuple[ModelReadiness, ...]) -> list[str]:
    """The names of the models none of whose versions is available."""
    return sorted(m.name for m in models if not m.ready)


def models_from_status(raw: Any) -> tuple[ModelReadiness, ...]:
    """A ModelServer status's ``models`` (the reconciler's `readiness.ModelState` JSON)."""
    found = []
    for m in raw if isinstance(raw, list) else ():
        if isinstance(m, Mapping) and isinstance(m.get("name"), str):
            raw_versions = m.get("versions")
            versions: list[Any] = raw_versions if isinstance(raw_versions, list) else []
            found.append(
                ModelReadiness(
                    m["name"],
                    m.get("ready") is True,
                    tuple(str(v) for v in versions),
                    str(m.get("message") or ""),
                )
            )
    return tuple(found)
