"""Pod and node status documents the simulated kubelet reports (pure builders).

Part of the cluster simulator, a test double of Kubernetes (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

from typing import Any

from .meta import now

HOST_IP = "127.0.0.1"


def _conditions(**states: bool | tuple[bool, str]) -> list[dict[str, Any]]:
    stamp = now()
    result = []
    for kind, state in states.items():
        ok, reason = state if isinstance(state, tuple) else (state, "")
        condition: dict[str, Any] = {
            "type": kind,
            "status": "True" if ok else "False",
            "lastProbeTime": None,
            "lastTransitionTime": stamp,
        }
        if reason:
            condition["reason"] = reason
        result.append(condition)
    return result


def _container(
    container: dict[str, Any], state: dict[str, Any], ready: bool, pid: int | None
) -> dict[str, Any]:
    status: dict[str, Any] = {
        "name": container["name"],
        "image": container.get("image", ""),
        "imageID": f"sim://{container.get('image', '')}",
        "ready": ready,
        "started": "running" in state,
        "restartCount": 0,
        "state": state,
        "lastState": {},
    }
    if pid is not None:
        status["containerID"] = f"sim://{pid}"
    return status


def node_status(node_name: str) -> dict[str, Any]:
    return {
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "KubeletReady",
                "message": "kubelet is posting ready status",
                "lastHeartbeatTime": now(),
                "lastTransitionTime": now(),
            }
        ],
        "addresses": [
            {"type": "InternalIP", "address": HOST_IP},
            {"type": "Hostname", "address": node_name},
        ],
        "nodeInfo": {
            "kubeletVersion": "v1.31.0-sim",
            "operatingSystem": "linux",
            "architecture": "amd64",
        },
    }


def unschedulable(message: str) -> dict[str, Any]:
    conditions = _conditions(PodScheduled=(False, "Unschedulable"))
    conditions[0]["message"] = message
    return {"phase": "Pending", "conditions": conditions}


def scheduled() -> dict[str, Any]:
    return {"phase": "Pending", "conditions": _conditions(PodScheduled=True)}


def waiting(container: dict[str, Any], reason: str, message: str) -> dict[str, Any]:
    state = {"waiting": {"reason": reason, "message": message}}
    return {
        "phase": "Pending",
        "conditions": _conditions(
            PodScheduled=True,
            Initialized=True,
            ContainersReady=(False, "ContainersNotReady"),
            Ready=(False, "ContainersNotReady"),
        ),
        "containerStatuses": [_container(container, state, False, None)],
    }


def _addresses(ip: str) -> dict[str, Any]:
    return {"podIP": ip, "podIPs": [{"ip": ip}], "hostIP": HOST_IP, "hostIPs": [{"ip": HOST_IP}]}


def running(
    container: dict[str, Any], ip: str, pid: int, started: str, ready: bool = True
) -> dict[str, Any]:
    state = {"running": {"startedAt": started}}
    readiness: bool | tuple[bool, str] = True if ready else (False, "ContainersNotReady")
    return {
        "phase": "Running",
        **_addresses(ip),
        "startTime": started,
        "conditions": _conditions(
            PodScheduled=True, Initialized=True, ContainersReady=readiness, Ready=readiness
        ),
        "containerStatuses": [_container(container, state, ready, pid)],
    }


def exit_code(returncode: int) -> int:
    """Processes killed by signal N report -N; containers report 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


def terminated(
    container: dict[str, Any], ip: str, pid: int, returncode: int, started: str
) -> dict[str, Any]:
    code = exit_code(returncode)
    state = {
        "terminated": {
            "exitCode": code,
            "reason": "Completed" if code == 0 else "Error",
            "startedAt": started,
            "finishedAt": now(),
            "containerID": f"sim://{pid}",
        }
    }
    reason = "PodCompleted" if code == 0 else "PodFailed"
    return {
        "phase": "Succeeded" if code == 0 else "Failed",
        **_addresses(ip),
        "conditions": _conditions(
            PodScheduled=True,
            Initialized=True,
            ContainersReady=(False, reason),
            Ready=(False, reason),
        ),
        "containerStatuses": [_container(container, state, False, pid)],
    }


def start_failed(container: dict[str, Any], message: str, started: str) -> dict[str, Any]:
    state = {
        "terminated": {
            "exitCode": 128,
            "reason": "StartError",
            "message": message,
            "startedAt": started,
            "finishedAt": now(),
        }
    }
    return {
        "phase": "Failed",
        "conditions": _conditions(
            PodScheduled=True,
            Initialized=True,
            ContainersReady=(False, "PodFailed"),
            Ready=(False, "PodFailed"),
        ),
        "containerStatuses": [_container(container, state, False, None)],
    }
