"""What the resource handlers send: list bodies, watch event lines, the WatchList bookmark,
and a watch's deadline (pure).

Part of the cluster simulator, a test double of Kubernetes (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import json
from typing import Any

from . import errors, partialmeta
from .paths import Target
from .watchcache import WatchEvent

# Without timeoutSeconds the real server ends a watch after 30-60 minutes.
DEFAULT_WATCH_SECONDS = 1800.0


def event_line(event: WatchEvent, metadata_only: bool = False) -> str:
    obj = partialmeta.item(event.obj) if metadata_only else event.obj
    return json.dumps({"type": event.type, "object": obj}, separators=(",", ":")) + "\n"


def list_body(target: Target, items: list[dict[str, Any]], rv: int) -> dict[str, Any]:
    return {
        "kind": f"{target.kind.kind}List",
        "apiVersion": target.kind.api_version,
        "metadata": {"resourceVersion": str(rv)},
        "items": items,
    }


def initial_events_end(target: Target, rv: int) -> WatchEvent:
    """The BOOKMARK that ends the initial events of a WatchList request."""
    marker = {
        "kind": target.kind.kind,
        "apiVersion": target.kind.api_version,
        "metadata": {
            "resourceVersion": str(rv),
            "annotations": {"k8s.io/initial-events-end": "true"},
        },
    }
    return WatchEvent(rv, "BOOKMARK", marker)


def watch_seconds(raw: str | None) -> float:
    """A watch's ``timeoutSeconds``, or the default."""
    if not raw:
        return DEFAULT_WATCH_SECONDS
    try:
        return float(raw)
    except ValueError as exc:
        raise errors.bad_request(f"invalid timeoutSeconds: {raw}") from exc
