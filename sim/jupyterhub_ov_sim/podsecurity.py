"""The Pod Security Standards (``baseline`` and ``restricted``, latest version) as pure checks,
with the reasons and details the real PodSecurity admission plugin writes.

Transcribed from the reference implementation (k8s.io/pod-security-admission, policy/check_*.go):
the same checks in the same order (baseline checks by id, then restricted ones, a restricted
check replacing the baseline one it tightens), the same wording, so a refusal reads as the
real API server's ``pods "x" is forbidden: violates PodSecurity "restricted:latest": ...``.
The baseline checks live in `pssbaseline`; OpenShift's restricted-v2 SCC in `scc`.
No I/O: the admission (`admission`) and the reliability scenario call these.
Part of the cluster simulator, a test double of Kubernetes (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .pssbaseline import (
    Check,
    Pod,
    Result,
    app_armor_profile,
    capabilities_baseline,
    containers_of,
    context_of,
    host_namespaces,
    host_path_volumes,
    host_ports,
    host_probes_and_lifecycle,
    in_user_namespace,
    join_quote,
    named,
    on_windows,
    plural,
    privileged,
    proc_mount,
    proc_mount_baseline,
    se_linux_options,
    seccomp_baseline,
    seccomp_check,
    setter_names,
    sysctls,
    windows_host_process,
)

LABEL_PREFIX = "pod-security.kubernetes.io/"
LEVELS = ("privileged", "baseline", "restricted")


@dataclass(frozen=True)
class Violation:
    """One failed check: ``reason (detail)`` in the API server's message."""

    check: str
    reason: str
    detail: str

    def __str__(self) -> str:
        return f"{self.reason} ({self.detail})" if self.detail else self.reason


# -- restricted -------------------------------------------------------------------------------


def allow_privilege_escalation(meta: Mapping[str, Any], spec: Pod) -> Result:
    if on_windows(spec):
        return None
    bad = [
        c["name"]
        for c in containers_of(spec)
        if context_of(c).get("allowPrivilegeEscalation") is not False
    ]
    if not bad:
        return None
    detail = f"{named(bad)} must set securityContext.allowPrivilegeEscalation=false"
    return "allowPrivilegeEscalation != false", detail


def capabilities_restricted(meta: Mapping[str, Any], spec: Pod) -> Result:
    if on_windows(spec):
        return None
    no_drop, adding, caps = [], [], set()
    for c in containers_of(spec):
        capabilities = context_of(c).get("capabilities")
        if capabilities is None or "ALL" not in (capabilities.get("drop") or ()):
            no_drop.append(c["name"])
        added = set((capabilities or {}).get("add") or ()) - {"NET_BIND_SERVICE"}
        if added:
            adding.append(c["name"])
            caps |= added
    details = []
    if no_drop:
        details.append(f'{named(no_drop)} must set securityContext.capabilities.drop=["ALL"]')
    if adding:
        details.append(
            f"{named(adding)} must not include {join_quote(sorted(caps))} in "
            "securityContext.capabilities.add"
        )
    return ("unrestricted capabilities", "; ".join(details)) if details else None


ALLOWED_VOLUMES = (
    "configMap csi downwardAPI emptyDir ephemeral image persistentVolumeClaim projected secret"
).split()
KNOWN_VOLUMES = (
    "hostPath gcePersistentDisk awsElasticBlockStore gitRepo nfs iscsi glusterfs rbd flexVolume "
    "cinder cephfs flocker fc azureFile vsphereVolume quobyte azureDisk photonPersistentDisk "
    "portworxVolume scaleIO storageos"
).split()


def restricted_volumes(meta: Mapping[str, Any], spec: Pod) -> Result:
    bad, kinds = [], set()
    for volume in spec.get("volumes") or ():
        if any(volume.get(key) is not None for key in ALLOWED_VOLUMES):
            continue
        bad.append(volume["name"])
        kinds.add(next((k for k in KNOWN_VOLUMES if volume.get(k) is not None), "unknown"))
    if not bad:
        return None
    what = plural("restricted volume type", "restricted volume types", len(kinds))
    return "restricted volume types", (
        f"{plural('volume', 'volumes', len(bad))} {join_quote(bad)} "
        f"{plural('uses', 'use', len(bad))} {what} {join_quote(sorted(kinds))}"
    )


def run_as_non_root(meta: Mapping[str, Any], spec: Pod) -> Result:
    if in_user_namespace(spec):
        return None
    pod_value = context_of(spec).get("runAsNonRoot")
    explicit = [
        c["name"] for c in containers_of(spec) if context_of(c).get("runAsNonRoot") is False
    ]
    implicit = [
        c["name"]
        for c in containers_of(spec)
        if context_of(c).get("runAsNonRoot") is None and pod_value is not True
    ]
    setters = setter_names(pod_value is False, explicit)
    if setters:
        detail = f"{' and '.join(setters)} must not set securityContext.runAsNonRoot=false"
        return "runAsNonRoot != true", detail
    if implicit:
        detail = f"pod or {named(implicit)} must set securityContext.runAsNonRoot=true"
        return "runAsNonRoot != true", detail
    return None


def run_as_user(meta: Mapping[str, Any], spec: Pod) -> Result:
    if in_user_namespace(spec):
        return None
    bad = [c["name"] for c in containers_of(spec) if context_of(c).get("runAsUser") == 0]
    setters = setter_names(context_of(spec).get("runAsUser") == 0, bad)
    if not setters:
        return None
    return "runAsUser=0", f"{' and '.join(setters)} must not set runAsUser=0"


def seccomp_restricted(meta: Mapping[str, Any], spec: Pod) -> Result:
    return None if on_windows(spec) else seccomp_check(spec, required=True)


#: (id, check), in the order the admission plugin reports them
BASELINE: tuple[tuple[str, Check], ...] = (
    ("appArmorProfile", app_armor_profile),
    ("capabilities_baseline", capabilities_baseline),
    ("hostNamespaces", host_namespaces),
    ("hostPathVolumes", host_path_volumes),
    ("hostPorts", host_ports),
    ("hostProbesAndHostLifecycle", host_probes_and_lifecycle),
    ("privileged", privileged),
    ("procMount", proc_mount_baseline),
    ("seLinuxOptions", se_linux_options),
    ("seccompProfile_baseline", seccomp_baseline),
    ("sysctls", sysctls),
    ("windowsHostProcess", windows_host_process),
)
_REPLACED = {"capabilities_baseline", "hostPathVolumes", "procMount", "seccompProfile_baseline"}
RESTRICTED: tuple[tuple[str, Check], ...] = (
    *((i, c) for i, c in BASELINE if i not in _REPLACED),
    ("allowPrivilegeEscalation", allow_privilege_escalation),
    ("capabilities_restricted", capabilities_restricted),
    ("procMount_restricted", proc_mount),
    ("restrictedVolumes", restricted_volumes),
    ("runAsNonRoot", run_as_non_root),
    ("runAsUser", run_as_user),
    ("seccompProfile_restricted", seccomp_restricted),
)
CHECKS = {"privileged": (), "baseline": BASELINE, "restricted": RESTRICTED}


def check_pod(pod: Pod, level: str = "restricted") -> list[Violation]:
    """What ``pod`` (a Pod object: metadata and spec) breaks of the standard ``level``."""
    if level not in CHECKS:
        raise ValueError(f"unknown Pod Security level {level!r}: one of {', '.join(LEVELS)}")
    meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    found = []
    for check_id, check in CHECKS[level]:
        result = check(meta, spec)
        if result is not None:
            found.append(Violation(check_id, *result))
    return found


def describe(violations: list[Violation]) -> str:
    """``reason (detail), reason (detail)``: the aggregate the API server's message quotes."""
    return ", ".join(str(v) for v in violations)
