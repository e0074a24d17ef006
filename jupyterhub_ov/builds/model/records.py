"""Pure: build records and events as the service hands them around and serializes them.

`BuildRecord` and `BuildEvent` are what the store returns and the API renders
(``to_json``); the helpers turn the pure modules' request and resolution into plain JSON and
back, for the store's columns.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from .phases import TERMINAL, Phase, Transition
from .spec import BuildRequest, ResolvedBuild, RuntimeEnvironment


@dataclass(frozen=True)
class BuildEvent:
    """One numbered entry of a build's story: a phase transition or a log line."""

    seq: int
    at: datetime
    kind: str
    text: str
    phase: Phase | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"seq": self.seq, "at": iso(self.at), "type": self.kind}
        if self.kind == "phase":
            body.update(phase=str(self.phase), message=self.text)
        else:
            body["line"] = self.text
        return body


@dataclass
class BuildRecord:
    id: str
    request: BuildRequest
    backend: str
    phase: Phase
    message: str
    created: datetime
    updated: datetime
    resolved: ResolvedBuild | None = None
    image: str = ""
    reference: str = ""
    python_version: str = ""
    packages: list[dict[str, str]] = field(default_factory=list)
    backend_ref: str = ""
    retry_of: str = ""
    #: filled by `BuildStore.get` (not by listings)
    transitions: list[Transition] | None = None

    @property
    def terminal(self) -> bool:
        return self.phase in TERMINAL

    def to_json(self) -> dict[str, Any]:
        request = self.request
        body: dict[str, Any] = {
            "id": self.id,
            "name": request.name,
            "buildType": request.build_type,
            "displayName": request.display_name,
            "description": request.description,
            "creator": request.creator,
            "backend": self.backend,
            "phase": str(self.phase),
            "message": self.message,
            "created": iso(self.created),
            "updated": iso(self.updated),
            "request": request.to_json(),
            "image": self.image or None,
            "reference": self.reference or None,
            "pythonVersion": self.python_version or None,
            "packages": self.packages,
            "resolved": resolved_to_json(self.resolved),
            "retryOf": self.retry_of or None,
            "resource": request.resource or None,
        }
        if self.transitions is not None:
            body["transitions"] = [
                {"phase": str(t.phase), "at": iso(t.at), "message": t.message}
                for t in self.transitions
            ]
        return body


def iso(at: datetime) -> str:
    if at.tzinfo is None:  # SQLite hands back naive datetimes: they were stored as UTC
        at = at.replace(tzinfo=UTC)
    return at.isoformat().replace("+00:00", "Z")


def aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


# -- (de)serializing what the pure modules define --------------------------------------------


def request_to_dict(request: BuildRequest) -> dict[str, Any]:
    return asdict(request)


def request_from_dict(data: dict[str, Any]) -> BuildRequest:
    data = dict(data)
    runtime = data.pop("runtime_environment", None)
    data["package_versions"] = tuple(data.get("package_versions") or ())
    return BuildRequest(
        runtime_environment=RuntimeEnvironment(**runtime) if runtime else None, **data
    )


def resolved_to_json(resolved: ResolvedBuild | None) -> dict[str, Any] | None:
    if resolved is None:
        return None
    return {
        "tag": resolved.tag,
        "lock": list(resolved.lock),
        "commit": resolved.commit or None,
        "source": resolved.source or None,
        "base": resolved.base or None,
        "pythonVersion": resolved.python_version or None,
        "details": dict(resolved.details),
    }


def resolved_from_json(request: BuildRequest, data: dict[str, Any] | None) -> ResolvedBuild | None:
    if not data:
        return None
    return ResolvedBuild(
        request=request,
        lock=tuple(data.get("lock") or ()),
        commit=data.get("commit") or "",
        source=data.get("source") or "",
        base=data.get("base") or "",
        python_version=data.get("pythonVersion") or "",
        details=data.get("details") or {},
    )
