"""What the API server does to a Service on write: defaults and its cluster IP.

As the real server's Service REST strategy: ``type`` defaults to ClusterIP, each port's
``protocol`` to TCP and ``targetPort`` to its ``port``; a Service without ``clusterIP`` gets
the next free one of the Service network (``ippool.SERVICE_NETWORK``, loopback addresses
connectable here), ``None`` makes it headless, an address of the network may be asked for;
an ExternalName Service gets none. The cluster IP cannot change and is freed on deletion.
Part of the cluster simulator, a test double of Kubernetes (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from . import errors
from .ippool import SERVICE_NETWORK, ServiceIPPool
from .kinds import ResourceKind


def is_service(kind: ResourceKind) -> bool:
    return kind.kind == "Service" and not kind.group


def _defaults(spec: dict[str, Any]) -> None:
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    for port in spec.get("ports") or []:
        port.setdefault("protocol", "TCP")
        port.setdefault("targetPort", port.get("port"))


def _invalid(kind: ResourceKind, obj: dict[str, Any], value: Any, why: str) -> errors.ApiError:
    cause = errors.invalid_value("spec.clusterIPs[0]", value, why)
    return errors.invalid(kind, obj["metadata"]["name"], [cause])


def on_create(kind: ResourceKind, obj: dict[str, Any], pool: ServiceIPPool) -> None:
    """Default the new Service and allocate its cluster IP (422 for one it cannot have)."""
    spec = obj.setdefault("spec", {})
    _defaults(spec)
    wanted = spec.get("clusterIP") or ""
    if spec["type"] == "ExternalName":
        return
    if wanted == "None":
        spec["clusterIPs"] = ["None"]
    elif wanted:
        try:
            inside = ipaddress.IPv4Address(wanted) in SERVICE_NETWORK
        except ValueError:
            raise _invalid(kind, obj, wanted, "must be a valid IP address") from None
        if not inside:
            why = "provided IP is not in the valid range. The range of valid IPs is "
            why += str(SERVICE_NETWORK)
            raise _invalid(kind, obj, wanted, why)
        if wanted in pool.in_use:
            raise _invalid(kind, obj, wanted, "provided IP is already allocated")
        pool.reserve(wanted)
    else:
        spec["clusterIP"] = pool.allocate()
    spec["clusterIPs"] = [spec["clusterIP"]]
    spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")


def on_update(kind: ResourceKind, new: dict[str, Any], old: dict[str, Any]) -> None:
    """Keep the cluster IP (an update that leaves it out keeps it; another one is refused)."""
    spec, old_spec = new.setdefault("spec", {}), old.get("spec") or {}
    _defaults(spec)
    old_ip = old_spec.get("clusterIP")
    if not old_ip:
        return
    wanted = spec.get("clusterIP")
    if wanted and wanted != old_ip:
        cause = errors.invalid_value("spec.clusterIPs[0]", wanted, "may not change once set")
        raise errors.invalid(kind, new["metadata"]["name"], [cause])
    spec["clusterIP"] = old_ip
    spec["clusterIPs"] = list(old_spec.get("clusterIPs") or [old_ip])
    for field in ("ipFamilies", "ipFamilyPolicy"):
        if field in old_spec:
            spec.setdefault(field, old_spec[field])


def on_remove(obj: dict[str, Any], pool: ServiceIPPool) -> None:
    ip = (obj.get("spec") or {}).get("clusterIP")
    if ip and ip != "None":
        pool.release(ip)
