"""What OpenShift's ``restricted-v2`` SecurityContextConstraints refuse beyond the
``restricted`` Pod Security Standard (pure, no I/O).

restricted-v2 assigns a pod's uid and fsGroup from the namespace's range (the annotations
``openshift.io/sa.scc.uid-range`` and ``openshift.io/sa.scc.supplemental-groups``,
``<first>/<count>``) and refuses a pod that asks for one outside it; it defaults what it can
(drop ALL, RuntimeDefault seccomp, no privilege escalation) and refuses what it cannot:
privileged containers, host namespaces and ports, volume types other than its list, added
capabilities other than NET_BIND_SERVICE. The simulator checks and refuses; it does not
assign (its kubelet ignores uids). The field paths and wording follow the real refusal:
``unable to validate against any security context constraint: [provider "restricted-v2": ...]``.
Part of the cluster simulator, a test double of Kubernetes (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

UID_RANGE = "openshift.io/sa.scc.uid-range"
GROUP_RANGE = "openshift.io/sa.scc.supplemental-groups"
VOLUMES = frozenset(
    "configMap csi downwardAPI emptyDir ephemeral persistentVolumeClaim projected secret".split()
)


def parse_range(value: str) -> tuple[int, int]:
    """``"1000650000/10000"`` → (first, last) inclusive; also ``first-last``."""
    text = value.split(",")[0].strip()
    if "/" in text:
        first, count = (int(part) for part in text.split("/", 1))
        return first, first + count - 1
    first, last = (int(part) for part in text.split("-", 1))
    return first, last


def _containers(spec: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for i, c in enumerate(spec.get(key) or ()):
            yield f"spec.{key}[{i}]", c


def _uid_errors(spec: Mapping[str, Any], uids: tuple[int, int]) -> list[str]:
    ranges = f"must be in the ranges: [{uids[0]}, {uids[1]}]"
    found = []
    pod_uid = (spec.get("securityContext") or {}).get("runAsUser")
    if pod_uid is not None and not uids[0] <= pod_uid <= uids[1]:
        found.append(f"spec.securityContext.runAsUser: Invalid value: {pod_uid}: {ranges}")
    for path, c in _containers(spec):
        uid = (c.get("securityContext") or {}).get("runAsUser")
        if uid is not None and not uids[0] <= uid <= uids[1]:
            found.append(f"{path}.securityContext.runAsUser: Invalid value: {uid}: {ranges}")
    return found


def _container_errors(spec: Mapping[str, Any]) -> list[str]:
    found = []
    for path, c in _containers(spec):
        sc = c.get("securityContext") or {}
        if sc.get("privileged"):
            found.append(
                f"{path}.securityContext.privileged: Invalid value: true: "
                "Privileged containers are not allowed"
            )
        for cap in (sc.get("capabilities") or {}).get("add") or ():
            if cap != "NET_BIND_SERVICE":
                found.append(
                    f"{path}.securityContext.capabilities.add: Invalid value: "
                    f'"{cap}": capability may not be added'
                )
        if sc.get("allowPrivilegeEscalation") is True:
            found.append(
                f"{path}.securityContext.allowPrivilegeEscalation: Invalid value: "
                "true: Allowing privilege escalation for containers is not allowed"
            )
        for j, port in enumerate(c.get("ports") or ()):
            if port.get("hostPort"):
                found.append(
                    f"{path}.ports[{j}].hostPort: Invalid value: {port['hostPort']}: "
                    "Host ports are not allowed to be used"
                )
    return found


def restricted_v2(pod: Mapping[str, Any], namespace: Mapping[str, Any]) -> list[str]:
    """The field errors restricted-v2 gives ``pod`` in ``namespace`` (a Namespace object;
    without its uid-range annotation no uid can be checked)."""
    spec = pod.get("spec") or {}
    annotations = (namespace.get("metadata") or {}).get("annotations") or {}
    found = []
    if UID_RANGE in annotations:
        found += _uid_errors(spec, parse_range(annotations[UID_RANGE]))
    groups = annotations.get(GROUP_RANGE) or annotations.get(UID_RANGE)
    fs_group = (spec.get("securityContext") or {}).get("fsGroup")
    if groups and fs_group is not None:
        first, last = parse_range(groups)
        if not first <= fs_group <= last:
            found.append(
                f"spec.securityContext.fsGroup: Invalid value: []int64{{{fs_group}}}: "
                f"{fs_group} is not an allowed group"
            )
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(key):
            found.append(
                f"spec.{key}: Invalid value: true: Host {key[4:]} is not allowed to be used"
            )
    for i, volume in enumerate(spec.get("volumes") or ()):
        kinds = [k for k in volume if k != "name" and volume[k] is not None]
        if kinds and kinds[0] not in VOLUMES:
            found.append(
                f'spec.volumes[{i}]: Invalid value: "{kinds[0]}": '
                f"{kinds[0]} volumes are not allowed to be used"
            )
    return found + _container_errors(spec)


def describe(errors: list[str]) -> str:
    """The refusal's message after ``pods "x" is forbidden: ``."""
    return (
        "unable to validate against any security context constraint: "
        f'[provider "restricted-v2": {", ".join(errors)}]'
    )
