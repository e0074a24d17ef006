"""Pure: what the status of every reconciled cluster resource shares: Kubernetes-style
conditions that keep their ``lastTransitionTime`` while their status stays the same, and the
merge patch of the status subresource that writes only what changed (so an unchanged
resource is never written again)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

#: a condition as a reconciler wants it: type, whether it holds, reason, message
Wanted = tuple[str, bool, str, str]


def timestamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def condition(kind: str, ok: bool, reason: str, message: str, at: datetime) -> dict[str, str]:
    """A Kubernetes-style status condition."""
    return {
        "type": kind,
        "status": "True" if ok else "False",
        "reason": reason,
        "message": message,
        "lastTransitionTime": timestamp(at),
    }


def conditions(
    wanted: Iterable[Wanted], previous: Mapping[str, Any] | None, at: datetime
) -> list[dict[str, str]]:
    """The ``wanted`` conditions, each keeping the ``lastTransitionTime`` it has in the
    ``previous`` status while its status stays the same."""
    before = {
        c.get("type"): c for c in (previous or {}).get("conditions") or () if isinstance(c, Mapping)
    }
    made = []
    for kind, ok, reason, message in wanted:
        new = condition(kind, ok, reason, message, at)
        old = before.get(kind) or {}
        if old.get("status") == new["status"] and old.get("lastTransitionTime"):
            new["lastTransitionTime"] = old["lastTransitionTime"]
        made.append(new)
    return made


def status_patch(
    current: Mapping[str, Any] | None, desired: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The JSON merge patch of the status subresource from ``current`` to ``desired`` (keys
    that changed, and None for keys to drop); None when there is nothing to write."""
    current = current or {}
    change = {key: value for key, value in desired.items() if current.get(key) != value}
    change.update({key: None for key in current if key not in desired})
    return {"status": change} if change else None
