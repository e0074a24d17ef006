"""Pure checkers of the spawn scenarios (faultstorm, hubcrash): object census and error texts.

`Census` follows the simulator's store events for a user's claims, PVCs and pods and keeps,
per user and kind, how many existed at once at most (a duplicate is a second object of a kind
while the first still exists) and how many exist now (what is left is a leak or kept data).
`clear_failure` tells a spawn failure a user can act on from a raw API error or traceback.
No I/O: the scenarios feed it events.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

USER_LABEL = "hub.jupyter.org/username"
#: the kinds a spawn makes for a user, as the census names them
CLAIMS, PVCS, PODS = "claims", "pvcs", "pods"
KINDS = (CLAIMS, PVCS, PODS)

#: what a raw exception looks like in a failure message (kubernetes_asyncio's ApiException
#: text, a Python traceback, a bare HTTP status): not something a user can act on
_RAW = re.compile(
    r"Traceback \(most recent call last\)|HTTP response headers|HTTP response body|"
    r"ApiException|^\(\d{3}\)|Reason: (Internal Server Error|Too Many Requests|"
    r"Service Unavailable)|ClientConnectorError|ServerDisconnectedError",
    re.MULTILINE,
)


def clear_failure(message: str) -> bool:
    """A spawn's failure message says something a person can act on: not empty, not a
    raw API error or traceback."""
    text = message.removeprefix("Spawn failed:").strip()
    return bool(text) and not _RAW.search(text)


def owner(obj: Mapping[str, Any]) -> str:
    """The user an object belongs to, from KubeSpawner's username label ("" if none)."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return str(labels.get(USER_LABEL, ""))


@dataclass
class Census:
    """Objects per user and kind, now and at most at once, from ADDED/MODIFIED/DELETED."""

    live: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    peak: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))

    def observe(self, kind: str, event_type: str, obj: Mapping[str, Any]) -> None:
        user = owner(obj)
        if not user:
            return
        name = str(obj["metadata"]["name"])
        names = self.live[(user, kind)]
        if event_type == "DELETED":
            names.discard(name)
            return
        names.add(name)
        self.peak[(user, kind)] = max(self.peak[(user, kind)], len(names))

    def duplicates(self, kind: str) -> int:
        """Users that had more than one object of ``kind`` at the same time."""
        return sum(1 for (_, k), n in self.peak.items() if k == kind and n > 1)

    def left(self, kind: str, users: Iterable[str] | None = None) -> int:
        """Objects of ``kind`` that exist now (of ``users``, or of anyone)."""
        wanted = None if users is None else set(users)
        return sum(
            len(names)
            for (user, k), names in self.live.items()
            if k == kind and (wanted is None or user in wanted)
        )

    def of(self, user: str) -> dict[str, int]:
        """What ``user`` has now, per kind."""
        return {kind: len(self.live.get((user, kind), ())) for kind in KINDS}


@dataclass(frozen=True)
class KillStep:
    """A step of a spawn to SIGKILL the hub at (hubcrash): the store event of ``kind`` that
    begins it (``event`` type, and for MODIFIED the pod/claim ``phase`` it then has), how
    long after that event to kill, so the hub is well inside the step (waiting), and whether
    the image pull lasts until the new hub has looked at the pod (``pull_held``)."""

    name: str
    kind: str
    event: str
    phase: str = ""
    after: float = 0.0
    pull_held: bool = False

    def matches(self, user: str, event_type: str, obj: Mapping[str, Any]) -> bool:
        if owner(obj) != user or event_type != self.event:
            return False
        if not self.phase:
            return True
        status = obj.get("status") or {}
        if self.kind == PODS:  # scheduled and not yet started: PodScheduled, no containers
            scheduled = any(
                c.get("type") == "PodScheduled" and c.get("status") == "True"
                for c in status.get("conditions") or []
            )
            return scheduled and status.get("phase") == self.phase
        return status.get("phase") == self.phase


#: the hubcrash scenario's steps, in a spawn's order (the simulator makes provisioning last,
#: and holds the image pull, so "waiting for Bound" and "during progress" are windows)
KILL_STEPS = (
    KillStep("after the claim create", CLAIMS, "ADDED"),
    KillStep("while waiting for Bound", CLAIMS, "MODIFIED", phase="Pending", after=0.5),
    KillStep("after the pod create", PODS, "ADDED"),
    KillStep("during progress", PODS, "MODIFIED", phase="Pending", after=0.5, pull_held=True),
)
