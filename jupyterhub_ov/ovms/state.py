"""Pure: model version states as OVMS reports them, and its ``GET /v1/config`` document.

A version is ``LOADING`` (with an error status when it failed), ``AVAILABLE``, ``UNLOADING``
or ``END`` (unloaded: removed from the repository or no longer wanted by the policy). A model
whose path cannot be read (or holds no version the policy wants) shows an entry for version
``0`` — OVMS numbers versions from 1 — in state ``LOADING`` with the error code and a message
naming the path; its versions already loaded stay served.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

START, LOADING, AVAILABLE, UNLOADING, END = "START", "LOADING", "AVAILABLE", "UNLOADING", "END"
OK = "OK"


@dataclass(frozen=True)
class VersionStatus:
    """One version's state and status, as in ``model_version_status``."""

    version: int
    state: str
    error_code: str = OK
    error_message: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "version": str(self.version),
            "state": self.state,
            "status": {"error_code": self.error_code, "error_message": self.error_message},
        }


def plan(wanted: Iterable[int], loaded: Iterable[int]) -> tuple[list[int], list[int]]:
    """(versions to load, versions to unload), ascending, to go from ``loaded`` to ``wanted``."""
    want, have = set(wanted), set(loaded)
    return sorted(want - have), sorted(have - want)


def serving_version(statuses: Iterable[VersionStatus], requested: int | None = None) -> int | None:
    """The version a request is served by: ``requested`` if it is available, else (none
    requested) the highest available one; None when there is none."""
    available = [s.version for s in statuses if s.state == AVAILABLE and s.version > 0]
    if requested is not None:
        return requested if requested in available else None
    return max(available) if available else None


def model_ready(statuses: Iterable[VersionStatus]) -> bool:
    return serving_version(statuses) is not None


def config_document(models: Mapping[str, Sequence[VersionStatus]]) -> dict[str, Any]:
    """``{"<model>": {"model_version_status": [...]}}``, versions newest first (as OVMS
    lists them)."""
    return {
        name: {
            "model_version_status": [
                s.to_json() for s in sorted(statuses, key=lambda s: s.version, reverse=True)
            ]
        }
        for name, statuses in models.items()
    }


#: seconds before a failed version is tried again (doubled after each failure, capped)
RETRY_FIRST = 1.0
RETRY_MAX = 60.0


class Retries:
    """When failed versions may be tried again: after `RETRY_FIRST` seconds, twice as long
    after each further failure, at most `RETRY_MAX`; times are the caller's clock."""

    def __init__(self, first: float = RETRY_FIRST, most: float = RETRY_MAX) -> None:
        self.first, self.most = first, most
        #: version → (the time of its next try, the delay that led to it)
        self.pending: dict[int, tuple[float, float]] = {}

    def due(self, version: int, now: float) -> bool:
        return now >= self.pending.get(version, (now, 0.0))[0]

    def failed(self, version: int, now: float) -> float:
        """The delay before ``version`` is tried again, after it failed at ``now``."""
        delay = min(max(self.pending.get(version, (0.0, 0.0))[1] * 2, self.first), self.most)
        self.pending[version] = (now + delay, delay)
        return delay

    def forget(self, version: int) -> None:
        self.pending.pop(version, None)

    def clear(self) -> None:
        self.pending.clear()
