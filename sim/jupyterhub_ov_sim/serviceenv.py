"""The Service variables a kubelet gives each container (pure).

For every Service of the pod's namespace that exists when the pod starts and has a cluster
IP, a real kubelet sets ``<NAME>_SERVICE_HOST``, ``<NAME>_SERVICE_PORT`` (the first port),
``<NAME>_SERVICE_PORT_<PORTNAME>`` for named ports, and the docker-links style
``<NAME>_PORT``, ``<NAME>_PORT_<port>_<PROTO>`` (+ ``_PROTO``, ``_PORT``, ``_ADDR``) variables;
``<NAME>`` is the Service's name upper-cased with ``-`` as ``_``. ``enableServiceLinks:
false`` on the pod leaves them out. Part of the cluster simulator, a test double.
"""

from __future__ import annotations

from typing import Any


def env_name(name: str) -> str:
    return name.upper().replace("-", "_")


def _links(prefix: str, ip: str, port: dict[str, Any], first: bool) -> dict[str, str]:
    number = str(port.get("port"))
    proto = str(port.get("protocol") or "TCP")
    url = f"{proto.lower()}://{ip}:{number}"
    base = f"{prefix}_PORT_{number}_{proto.upper()}"
    env = {base: url, f"{base}_PROTO": proto.lower(), f"{base}_PORT": number, f"{base}_ADDR": ip}
    if first:
        env[f"{prefix}_PORT"] = url
    return env


def service_env(services: list[dict[str, Any]]) -> dict[str, str]:
    """The variables of these Services (those without a cluster IP give none)."""
    env: dict[str, str] = {}
    for service in services:
        spec = service.get("spec") or {}
        ip = spec.get("clusterIP")
        ports = spec.get("ports") or []
        if not ip or ip == "None" or not ports:
            continue
        prefix = env_name(service["metadata"]["name"])
        env[f"{prefix}_SERVICE_HOST"] = ip
        env[f"{prefix}_SERVICE_PORT"] = str(ports[0].get("port"))
        for index, port in enumerate(ports):
            if port.get("name"):
                env[f"{prefix}_SERVICE_PORT_{env_name(port['name'])}"] = str(port.get("port"))
            env.update(_links(prefix, ip, port, index == 0))
    return env
