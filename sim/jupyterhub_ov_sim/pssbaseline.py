"""The baseline Pod Security Standard's checks, and the helpers the restricted ones share
(pure): each check takes a pod's metadata and spec and returns ``(reason, detail)`` when the
pod breaks it, worded as k8s.io/pod-security-admission's policy/check_*.go. `podsecurity`
puts them in the admission plugin's order.
Part of the cluster simulator, a test double of Kubernetes (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

Pod = Mapping[str, Any]

# -- helpers (policy/helpers.go, visitor.go) --------------------------------------------------


def join_quote(items: list[str]) -> str:
    return '"' + '", "'.join(items) + '"' if items else ""


def plural(singular: str, plural: str, count: int) -> str:
    return singular if count == 1 else plural


def containers_of(spec: Pod) -> Iterator[Mapping[str, Any]]:
    for key in ("initContainers", "containers", "ephemeralContainers"):
        yield from spec.get(key) or ()


def context_of(obj: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return (obj or {}).get("securityContext") or {}


def named(what: list[str]) -> str:
    return f"{plural('container', 'containers', len(what))} {join_quote(what)}"


def setter_names(pod_bad: bool, containers: list[str]) -> list[str]:
    return (["pod"] if pod_bad else []) + ([named(containers)] if containers else [])


def on_windows(spec: Pod) -> bool:
    return ((spec.get("os") or {}).get("name")) == "windows"


def in_user_namespace(spec: Pod) -> bool:
    return spec.get("hostUsers") is False


Result = tuple[str, str] | None  # (reason, detail) when forbidden
Check = Callable[[Mapping[str, Any], Pod], Result]


# -- baseline ---------------------------------------------------------------------------------


def app_armor_profile(meta: Mapping[str, Any], spec: Pod) -> Result:
    allowed = ("RuntimeDefault", "Localhost")
    bad_values: set[str] = set()
    pod_profile = context_of(spec).get("appArmorProfile")
    pod_bad = pod_profile is not None and pod_profile.get("type") not in allowed
    if pod_profile is not None and pod_bad:
        bad_values.add(str(pod_profile.get("type", "")))
    bad = []
    for c in containers_of(spec):
        profile = context_of(c).get("appArmorProfile")
        if profile is not None and profile.get("type") not in allowed:
            bad.append(c["name"])
            bad_values.add(str(profile.get("type", "")))
    setters, values = setter_names(pod_bad, bad), sorted(bad_values)
    prefix = "container.apparmor.security.beta.kubernetes.io/"
    annotations = sorted(
        f'{k}="{v}"'
        for k, v in (meta.get("annotations") or {}).items()
        if k.startswith(prefix) and v and v != "runtime/default" and not v.startswith("localhost/")
    )
    if annotations:
        values += annotations
        setters.append(plural("annotation", "annotations", len(annotations)))
    if not setters:
        return None
    reason = plural("forbidden AppArmor profile", "forbidden AppArmor profiles", len(values))
    detail = f"{' and '.join(setters)} must not set AppArmor profile type to {join_quote(values)}"
    return reason, detail


BASELINE_CAPABILITIES = frozenset(
    "AUDIT_WRITE CHOWN DAC_OVERRIDE FOWNER FSETID KILL MKNOD NET_BIND_SERVICE SETFCAP SETGID "
    "SETPCAP SETUID SYS_CHROOT".split()
)


def capabilities_baseline(meta: Mapping[str, Any], spec: Pod) -> Result:
    bad, caps = [], set()
    for c in containers_of(spec):
        added = (
            set((context_of(c).get("capabilities") or {}).get("add") or ()) - BASELINE_CAPABILITIES
        )
        if added:
            bad.append(c["name"])
            caps |= added
    if not bad:
        return None
    detail = f"{named(bad)} must not include {join_quote(sorted(caps))} in "
    return "non-default capabilities", detail + "securityContext.capabilities.add"


def host_namespaces(meta: Mapping[str, Any], spec: Pod) -> Result:
    used = [f"{key}=true" for key in ("hostNetwork", "hostPID", "hostIPC") if spec.get(key)]
    return ("host namespaces", ", ".join(used)) if used else None


def host_path_volumes(meta: Mapping[str, Any], spec: Pod) -> Result:
    names = [v["name"] for v in spec.get("volumes") or () if v.get("hostPath") is not None]
    if not names:
        return None
    return "hostPath volumes", f"{plural('volume', 'volumes', len(names))} {join_quote(names)}"


def host_ports(meta: Mapping[str, Any], spec: Pod) -> Result:
    bad, ports = [], set()
    for c in containers_of(spec):
        used = {str(p["hostPort"]) for p in c.get("ports") or () if p.get("hostPort")}
        if used:
            bad.append(c["name"])
            ports |= used
    if not bad:
        return None
    uses = plural("uses", "use", len(bad))
    return "hostPort", (
        f"{named(bad)} {uses} {plural('hostPort', 'hostPorts', len(ports))} "
        + ", ".join(sorted(ports))
    )


def _hosts(handler: Mapping[str, Any] | None) -> list[str]:
    handler = handler or {}
    return [h for key in ("httpGet", "tcpSocket") if (h := (handler.get(key) or {}).get("host"))]


def host_probes_and_lifecycle(meta: Mapping[str, Any], spec: Pod) -> Result:
    bad, hosts = set(), set()
    for c in containers_of(spec):
        lifecycle = c.get("lifecycle") or {}
        handlers = [c.get(p) for p in ("livenessProbe", "readinessProbe", "startupProbe")]
        handlers += [lifecycle.get("postStart"), lifecycle.get("preStop")]
        found = [h for handler in handlers for h in _hosts(handler)]
        if found:
            bad.add(c["name"])
            hosts |= set(found)
    if not bad:
        return None
    what = plural("probe or lifecycle host", "probe or lifecycle hosts", len(hosts))
    uses = plural("uses", "use", len(bad))
    return "probe or lifecycle host", (
        f"{named(sorted(bad))} {uses} {what} {join_quote(sorted(hosts))}"
    )


def privileged(meta: Mapping[str, Any], spec: Pod) -> Result:
    bad = [c["name"] for c in containers_of(spec) if context_of(c).get("privileged") is True]
    if not bad:
        return None
    return "privileged", f"{named(bad)} must not set securityContext.privileged=true"


def proc_mount(meta: Mapping[str, Any], spec: Pod) -> Result:
    bad, kinds = [], set()
    for c in containers_of(spec):
        mount = context_of(c).get("procMount")
        if mount is not None and mount != "Default":
            bad.append(c["name"])
            kinds.add(str(mount))
    if not bad:
        return None
    detail = f"{named(bad)} must not set securityContext.procMount to {join_quote(sorted(kinds))}"
    return "procMount", detail


def proc_mount_baseline(meta: Mapping[str, Any], spec: Pod) -> Result:
    return None if in_user_namespace(spec) else proc_mount(meta, spec)


SELINUX_TYPES = frozenset(("", "container_t", "container_init_t", "container_kvm_t"))
SELINUX_TYPES |= {"container_engine_t"}


def se_linux_options(meta: Mapping[str, Any], spec: Pod) -> Result:
    types: set[str] = set()
    flags = {"user": False, "role": False}

    def valid(options: Mapping[str, Any] | None) -> bool:
        if options is None:
            return True
        ok = True
        if options.get("type", "") not in SELINUX_TYPES:
            ok = False
            types.add(str(options.get("type")))
        for key in flags:
            if options.get(key):
                ok, flags[key] = False, True
        return ok

    pod_bad = not valid(context_of(spec).get("seLinuxOptions"))
    bad = [c["name"] for c in containers_of(spec) if not valid(context_of(c).get("seLinuxOptions"))]
    setters = setter_names(pod_bad, bad)
    if not setters:
        return None
    data = [f"{plural('type', 'types', len(types))} {join_quote(sorted(types))}"] if types else []
    data += [f"{key} may not be set" for key, on in flags.items() if on]
    detail = f"{' and '.join(setters)} set forbidden securityContext.seLinuxOptions: "
    return "seLinuxOptions", detail + "; ".join(data)


SECCOMP_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod"
SECCOMP_CONTAINER_ANNOTATION = "container.seccomp.security.alpha.kubernetes.io/"
SECCOMP_TYPES = ("RuntimeDefault", "Localhost")


def seccomp_check(spec: Pod, *, required: bool) -> Result:
    bad_values: set[str] = set()
    pod_profile = context_of(spec).get("seccompProfile")
    pod_bad = pod_profile is not None and pod_profile.get("type") not in SECCOMP_TYPES
    if pod_profile is not None and pod_bad:
        bad_values.add(str(pod_profile.get("type")))
    pod_set = pod_profile is not None and not pod_bad
    bad, unset = [], []
    for c in containers_of(spec):
        profile = context_of(c).get("seccompProfile")
        if profile is None:
            if not pod_set:
                unset.append(c["name"])
        elif profile.get("type") not in SECCOMP_TYPES:
            bad.append(c["name"])
            bad_values.add(str(profile.get("type")))
    setters = setter_names(pod_bad, bad)
    if setters:
        values = join_quote(sorted(bad_values))
        detail = f"{' and '.join(setters)} must not set securityContext.seccompProfile.type to"
        return "seccompProfile", f"{detail} {values}"
    if required and unset:
        return "seccompProfile", (
            f"pod or {named(unset)} must set securityContext.seccompProfile.type to "
            '"RuntimeDefault" or "Localhost"'
        )
    return None


def seccomp_baseline(meta: Mapping[str, Any], spec: Pod) -> Result:
    return seccomp_check(spec, required=False)


SAFE_SYSCTLS = frozenset(
    "kernel.shm_rmid_forced net.ipv4.ip_local_port_range net.ipv4.tcp_syncookies "
    "net.ipv4.ping_group_range net.ipv4.ip_unprivileged_port_start "
    "net.ipv4.ip_local_reserved_ports net.ipv4.tcp_keepalive_time net.ipv4.tcp_fin_timeout "
    "net.ipv4.tcp_keepalive_intvl net.ipv4.tcp_keepalive_probes net.ipv4.tcp_rmem "
    "net.ipv4.tcp_wmem net.ipv4.tcp_slow_start_after_idle net.ipv4.tcp_notsent_lowat".split()
)


def sysctls(meta: Mapping[str, Any], spec: Pod) -> Result:
    names = [
        s["name"] for s in context_of(spec).get("sysctls") or () if s["name"] not in SAFE_SYSCTLS
    ]
    return ("forbidden sysctls", ", ".join(names)) if names else None


def windows_host_process(meta: Mapping[str, Any], spec: Pod) -> Result:
    def on(obj: Mapping[str, Any] | None) -> bool:
        return (context_of(obj).get("windowsOptions") or {}).get("hostProcess") is True

    setters = setter_names(on(spec), [c["name"] for c in containers_of(spec) if on(c)])
    if not setters:
        return None
    detail = f"{' and '.join(setters)} must not set securityContext.windowsOptions.hostProcess=true"
    return "hostProcess", detail
