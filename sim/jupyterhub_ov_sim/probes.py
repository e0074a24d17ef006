"""Readiness probes of the simulated kubelet: ``httpGet`` and ``tcpSocket``, as a kubelet runs them.

A probe waits ``initialDelaySeconds``, then checks every ``periodSeconds``: an ``httpGet``
passes on a status from 200 to 399, a ``tcpSocket`` when the port accepts a connection.
``successThreshold`` passes in a row make the container ready, ``failureThreshold`` failures
in a row unready again. Every time is multiplied by the kubelet's ``time_scale`` (tests use
a small one, so a period of 1 s passes in 0.1 s). ``exec`` and ``grpc`` probes are not run:
a container with one is ready once started. Liveness and startup probes are not run either
(no restarts). Part of the cluster simulator, a test double of Kubernetes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Probe:
    """One readinessProbe, its port resolved to a number."""

    port: int
    path: str | None = None  # set for httpGet; None for tcpSocket
    initial_delay: float = 0.0
    period: float = 10.0
    timeout: float = 1.0
    success_threshold: int = 1
    failure_threshold: int = 3


def container_port(container: dict[str, Any], port: Any) -> int | None:
    """A port by number or by the name of one of the container's ``ports``."""
    if isinstance(port, str) and not port.isdigit():
        for declared in container.get("ports") or []:
            if declared.get("name") == port:
                return int(declared["containerPort"])
        return None
    return int(port) if port is not None else None


def readiness_probe(container: dict[str, Any]) -> Probe | None:
    """The container's httpGet/tcpSocket readiness probe; None when it has none we run."""
    spec = container.get("readinessProbe") or {}
    action = spec.get("httpGet") or spec.get("tcpSocket")
    if not action:
        return None
    port = container_port(container, action.get("port"))
    if port is None:
        return None
    return Probe(
        port=port,
        path=(action.get("path") or "/") if "httpGet" in spec else None,
        initial_delay=float(spec.get("initialDelaySeconds", 0)),
        period=float(spec.get("periodSeconds", 10)),
        timeout=float(spec.get("timeoutSeconds", 1)),
        success_threshold=int(spec.get("successThreshold", 1)),
        failure_threshold=int(spec.get("failureThreshold", 3)),
    )


async def accepts(host: str, port: int, timeout: float = 1) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (TimeoutError, OSError):
        return False
    writer.close()
    await writer.wait_closed()
    return True


async def http_ok(host: str, port: int, path: str, timeout: float = 1) -> bool:
    """An HTTP/1.1 GET answered with 2xx or 3xx, as the kubelet's httpGet probe wants."""
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
            try:
                request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                request += "User-Agent: kube-probe/1.31\r\nConnection: close\r\n\r\n"
                writer.write(request.encode())
                await writer.drain()
                status_line = await reader.readline()
            finally:
                writer.close()
    except (TimeoutError, OSError):
        return False
    parts = status_line.split()
    return len(parts) >= 2 and parts[1].isdigit() and 200 <= int(parts[1]) < 400


async def check(probe: Probe, host: str, time_scale: float = 1.0) -> bool:
    timeout = max(probe.timeout * time_scale, 0.5)
    if probe.path is None:
        return await accepts(host, probe.port, timeout)
    return await http_ok(host, probe.port, probe.path, timeout)


async def follow_readiness(
    probe: Probe,
    host: str,
    *,
    alive: Callable[[], bool],
    report: Callable[[bool], None],
    time_scale: float = 1.0,
) -> None:
    """Probe while ``alive()``; call ``report(ready)`` each time readiness changes."""
    await asyncio.sleep(probe.initial_delay * time_scale)  # initialDelaySeconds
    ready, passes, failures = False, 0, 0
    while alive():
        if await check(probe, host, time_scale):
            passes, failures = passes + 1, 0
        else:
            passes, failures = 0, failures + 1
        if not ready and passes >= probe.success_threshold:
            ready = True
            report(True)
        elif ready and failures >= probe.failure_threshold:
            ready = False
            report(False)
        await asyncio.sleep(probe.period * time_scale)  # periodSeconds
