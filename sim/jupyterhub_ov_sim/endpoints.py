"""A Service's endpoints from its pods (pure): the Endpoints and EndpointSlice documents.

The pods are those of the Service's namespace whose labels match its ``selector``, that
have an IP and are not being deleted nor finished. Ready pods are ``addresses`` (slices:
``conditions.ready``), the others ``notReadyAddresses``. Each Service port's ``targetPort``
is resolved per pod, by number or by the name of a container port; pods that resolve the
ports alike share a subset (a slice). Part of the cluster simulator, a test double.
"""

from __future__ import annotations

from typing import Any

from .rollout import pod_active, pod_ready

SERVICE_NAME = "kubernetes.io/service-name"
MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
SLICE_CONTROLLER = "endpointslice-controller.k8s.io"

Ports = tuple[tuple[str, int, str], ...]  # (port name, resolved number, protocol)


def selects(service: dict[str, Any], pod: dict[str, Any]) -> bool:
    selector = (service.get("spec") or {}).get("selector") or {}
    labels = pod["metadata"].get("labels") or {}
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def target_port(pod: dict[str, Any], port: dict[str, Any]) -> int | None:
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int) or (isinstance(target, str) and target.isdigit()):
        return int(target)
    for container in (pod.get("spec") or {}).get("containers") or []:
        for declared in container.get("ports") or []:
            if declared.get("name") == target:
                return int(declared["containerPort"])
    return None


def resolved_ports(service: dict[str, Any], pod: dict[str, Any]) -> Ports:
    ports = []
    for port in (service.get("spec") or {}).get("ports") or []:
        number = target_port(pod, port)
        if number is not None:
            ports.append((port.get("name") or "", number, port.get("protocol") or "TCP"))
    return tuple(ports)


def grouped(
    service: dict[str, Any], pods: list[dict[str, Any]]
) -> dict[Ports, list[dict[str, Any]]]:
    """The selected pods with an IP, by their resolved ports (sorted by IP)."""
    groups: dict[Ports, list[dict[str, Any]]] = {}
    chosen = [
        pod
        for pod in pods
        if selects(service, pod) and pod_active(pod) and (pod.get("status") or {}).get("podIP")
    ]
    for pod in sorted(chosen, key=lambda p: tuple(int(x) for x in p["status"]["podIP"].split("."))):
        ports = resolved_ports(service, pod)
        if ports:
            groups.setdefault(ports, []).append(pod)
    return groups


def _target(pod: dict[str, Any]) -> dict[str, Any]:
    md = pod["metadata"]
    return {"kind": "Pod", "namespace": md["namespace"], "name": md["name"], "uid": md["uid"]}


def _address(pod: dict[str, Any]) -> dict[str, Any]:
    address = {"ip": pod["status"]["podIP"], "targetRef": _target(pod)}
    if node := (pod.get("spec") or {}).get("nodeName"):
        address["nodeName"] = node
    return address


def _ports(ports: Ports) -> list[dict[str, Any]]:
    result = []
    for name, number, protocol in ports:
        entry: dict[str, Any] = {"port": number, "protocol": protocol}
        if name:
            entry["name"] = name
        result.append(entry)
    return result


def endpoints_subsets(groups: dict[Ports, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    subsets = []
    for ports, pods in groups.items():
        subset: dict[str, Any] = {"ports": _ports(ports)}
        ready = [_address(p) for p in pods if pod_ready(p)]
        waiting = [_address(p) for p in pods if not pod_ready(p)]
        if ready:
            subset["addresses"] = ready
        if waiting:
            subset["notReadyAddresses"] = waiting
        subsets.append(subset)
    return subsets


def slice_body(ports: Ports, pods: list[dict[str, Any]]) -> dict[str, Any]:
    """What an EndpointSlice of one group carries (metadata is the controller's)."""
    endpoints = []
    for pod in pods:
        ready = pod_ready(pod)
        endpoint: dict[str, Any] = {
            "addresses": [pod["status"]["podIP"]],
            "conditions": {"ready": ready, "serving": ready, "terminating": False},
            "targetRef": _target(pod),
        }
        if node := (pod.get("spec") or {}).get("nodeName"):
            endpoint["nodeName"] = node
        endpoints.append(endpoint)
    return {"addressType": "IPv4", "endpoints": endpoints, "ports": _ports(ports)}


def ready_targets(endpoints: dict[str, Any] | None, port_name: str) -> list[tuple[str, int]]:
    """(ip, port) of the ready addresses an Endpoints object lists for a Service port."""
    targets = []
    for subset in (endpoints or {}).get("subsets") or []:
        for port in subset.get("ports") or []:
            if (port.get("name") or "") == port_name:
                targets += [(a["ip"], int(port["port"])) for a in subset.get("addresses") or []]
    return targets
