"""The simulator's Pod Security Standards checker (pure), table-driven: the reasons and
details the real admission plugin gives (cases of k8s.io/pod-security-admission's own
policy tests), and restricted-v2's uid range."""

from __future__ import annotations

from typing import Any

import pytest
from jupyterhub_ov_sim import podsecurity, scc

RESTRICTED_SC = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}


def pod(*containers: dict[str, Any], meta: dict[str, Any] | None = None, **spec: Any) -> dict:
    return {"metadata": meta or {"name": "p"}, "spec": {"containers": list(containers), **spec}}


def good(name: str = "a", **sc: Any) -> dict[str, Any]:
    return {"name": name, "image": "x", "securityContext": {**RESTRICTED_SC, **sc}}


def test_a_bare_pod_reads_as_the_real_api_servers_refusal() -> None:
    found = podsecurity.check_pod(pod({"name": "a", "image": "x"}))
    assert podsecurity.describe(found) == (
        'allowPrivilegeEscalation != false (container "a" must set securityContext.'
        'allowPrivilegeEscalation=false), unrestricted capabilities (container "a" must set '
        'securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container '
        '"a" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "a" '
        'must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")'
    )
    assert podsecurity.check_pod(pod({"name": "a", "image": "x"}), "baseline") == []


def test_restricted_settings_pass_at_pod_or_container_level() -> None:
    assert podsecurity.check_pod(pod(good())) == []
    pod_level = {"runAsNonRoot": True, "seccompProfile": {"type": "Localhost"}}
    container = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
    both = pod({"name": "a", "securityContext": container}, securityContext=pod_level)
    assert podsecurity.check_pod(both) == []
    assert (
        podsecurity.check_pod(
            pod(good(capabilities={"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}))
        )
        == []
    )


CASES = [
    # (spec changes, check id, detail)
    ({"hostNetwork": True, "hostPID": True}, "hostNamespaces", "hostNetwork=true, hostPID=true"),
    (
        {"volumes": [{"name": "h", "hostPath": {"path": "/"}}, {"name": "n", "nfs": {}}]},
        "restrictedVolumes",
        'volumes "h", "n" use restricted volume types "hostPath", "nfs"',
    ),
    (
        {"volumes": [{"name": "w", "weird": {}}]},
        "restrictedVolumes",
        'volume "w" uses restricted volume type "unknown"',
    ),
    (
        {"securityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "1"}]}},
        "sysctls",
        "kernel.msgmax",
    ),
    (
        {"securityContext": {"runAsUser": 0, "runAsNonRoot": True}},
        "runAsUser",
        "pod must not set runAsUser=0",
    ),
    (
        {"securityContext": {"seLinuxOptions": {"type": "spc_t", "user": "u"}}},
        "seLinuxOptions",
        'pod set forbidden securityContext.seLinuxOptions: type "spc_t"; user may not be set',
    ),
    (
        {"securityContext": {"windowsOptions": {"hostProcess": True}}},
        "windowsHostProcess",
        "pod must not set securityContext.windowsOptions.hostProcess=true",
    ),
]
CONTAINER_CASES = [
    (
        {"capabilities": {"drop": ["NET_RAW"]}},
        "capabilities_restricted",
        'container "a" must set securityContext.capabilities.drop=["ALL"]',
    ),
    (
        {"privileged": True},
        "privileged",
        'container "a" must not set securityContext.privileged=true',
    ),
    (
        {"capabilities": {"drop": ["ALL"], "add": ["SYS_ADMIN", "NET_RAW"]}},
        "capabilities_restricted",
        'container "a" must not include "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add',
    ),
    (
        {"allowPrivilegeEscalation": True},
        "allowPrivilegeEscalation",
        'container "a" must set securityContext.allowPrivilegeEscalation=false',
    ),
    (
        {"runAsNonRoot": False},
        "runAsNonRoot",
        'container "a" must not set securityContext.runAsNonRoot=false',
    ),
    (
        {"procMount": "Unmasked"},
        "procMount_restricted",
        'container "a" must not set securityContext.procMount to "Unmasked"',
    ),
    (
        {"seccompProfile": {"type": "Unconfined"}},
        "seccompProfile_restricted",
        'container "a" must not set securityContext.seccompProfile.type to "Unconfined"',
    ),
    (
        {"appArmorProfile": {"type": "Unconfined"}},
        "appArmorProfile",
        'container "a" must not set AppArmor profile type to "Unconfined"',
    ),
]


@pytest.mark.parametrize(("change", "check", "detail"), CASES)
def test_each_pod_level_control(change: dict[str, Any], check: str, detail: str) -> None:
    found = podsecurity.check_pod(pod(good(), **change))
    assert [(v.check, v.detail) for v in found] == [(check, detail)]


@pytest.mark.parametrize(("change", "check", "detail"), CONTAINER_CASES)
def test_each_container_control(change: dict[str, Any], check: str, detail: str) -> None:
    found = podsecurity.check_pod(pod(good(**change)))
    assert [(v.check, v.detail) for v in found] == [(check, detail)]


def test_init_containers_host_ports_and_probe_hosts_count() -> None:
    init = {**good("init"), "ports": [{"containerPort": 80, "hostPort": 8080}]}
    probed = {**good("b"), "livenessProbe": {"httpGet": {"host": "10.0.0.1", "port": 80}}}
    found = podsecurity.check_pod(pod(probed, initContainers=[init]))
    assert [str(v) for v in found] == [
        'hostPort (container "init" uses hostPort 8080)',
        'probe or lifecycle host (container "b" uses probe or lifecycle host "10.0.0.1")',
    ]


def test_user_namespaces_and_windows_relax_what_the_standard_relaxes() -> None:
    bare = {"name": "a", "securityContext": {"capabilities": {"drop": ["ALL"]}}}
    userns = podsecurity.check_pod(pod(bare, hostUsers=False))
    assert [v.check for v in userns] == ["allowPrivilegeEscalation", "seccompProfile_restricted"]
    assert (
        podsecurity.check_pod(
            pod({"name": "a"}, os={"name": "windows"}, securityContext={"runAsNonRoot": True})
        )
        == []
    )


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown Pod Security level"):
        podsecurity.check_pod(pod(good()), "strict")


NS = {"metadata": {"name": "n", "annotations": {scc.UID_RANGE: "1000650000/10000"}}}


def test_restricted_v2_refuses_a_fixed_uid_or_group_outside_the_range() -> None:
    assert scc.restricted_v2(pod(good()), NS) == []
    inside = pod(good(runAsUser=1000650001), securityContext={"fsGroup": 1000650000})
    assert scc.restricted_v2(inside, NS) == []
    outside = pod(good(runAsUser=1000), securityContext={"fsGroup": 100})
    assert scc.restricted_v2(outside, NS) == [
        "spec.containers[0].securityContext.runAsUser: Invalid value: 1000: must be in the "
        "ranges: [1000650000, 1000659999]",
        "spec.securityContext.fsGroup: Invalid value: []int64{100}: 100 is not an allowed group",
    ]
    assert scc.parse_range("10-20") == (10, 20)
