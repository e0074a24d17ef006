"""Readiness probes of the simulated kubelet: a TCP connect to the pod's port.

Part of the cluster simulator, a test double of Kubernetes (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import asyncio
from typing import Any


def probe_port(container: dict[str, Any]) -> int | None:
    """The port a tcpSocket or httpGet readiness probe checks (named ports resolved)."""
    probe = container.get("readinessProbe") or {}
    action = probe.get("tcpSocket") or probe.get("httpGet")
    if not action:
        return None
    port = action.get("port")
    for declared in container.get("ports") or []:
        if declared.get("name") == port:
            port = declared.get("containerPort")
    return int(port) if port is not None else None


async def accepts(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 1)
    except (TimeoutError, OSError):
        return False
    writer.close()
    await writer.wait_closed()
    return True
