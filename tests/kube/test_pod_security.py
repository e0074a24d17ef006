"""Notebook pods pass the restricted Pod Security Standard and OpenShift's restricted-v2 SCC:
the manifest OVKubeSpawner makes (pure: no cluster is contacted), and a real spawn in a
simulated namespace that enforces ``restricted``, where a violating pod is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jupyterhub_ov_sim import podsecurity, scc
from jupyterhub_ov_sim.kubeconfig import write_kubeconfig
from kubernetes_asyncio.client import ApiException

from .conftest import KubeSetup, kube_hub
from .podmanifest import pod_manifests
from .test_kube_hub import pod_of

OPENSHIFT_NS = {"metadata": {"annotations": {scc.UID_RANGE: "1000650000/10000"}}}
ENFORCE = {"pod-security.kubernetes.io/enforce": "restricted"}


@pytest.fixture(scope="module")
def pods(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The pods OVKubeSpawner would create for alice: by default, with a uid and fsGroup of
    the admin's, and privileged (one subprocess for all)."""
    kubeconfig = write_kubeconfig(tmp_path_factory.mktemp("kc") / "config", "http://127.0.0.1:9")
    return pod_manifests(kubeconfig, {}, {"uid": 1000, "fs_gid": 100}, {"privileged": True})


def test_the_notebook_pod_is_restricted_and_takes_its_uid_from_openshift(pods: list) -> None:
    pod = pods[0]
    assert podsecurity.check_pod(pod) == []
    assert scc.restricted_v2(pod, OPENSHIFT_NS) == []
    spec = pod["spec"]
    assert spec["automountServiceAccountToken"] is False
    assert spec["securityContext"] == {
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert spec["containers"][0]["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
    }


def test_an_admins_uid_and_overrides_still_apply(pods: list) -> None:
    _, fixed, loose = pods
    # plain Kubernetes: a uid of one's own; the pod stays restricted
    assert podsecurity.check_pod(fixed) == []
    assert fixed["spec"]["containers"][0]["securityContext"]["runAsUser"] == 1000
    # ...which restricted-v2 would refuse: the reason OpenShift's default sets none
    assert len(scc.restricted_v2(fixed, OPENSHIFT_NS)) == 2
    assert [v.check for v in podsecurity.check_pod(loose)] == ["privileged"]


@pytest.mark.e2e
async def test_a_notebook_spawns_where_restricted_is_enforced(tmp_path: Path) -> None:
    async with kube_hub(tmp_path) as kube:
        await label_enforcing(kube)
        await kube.run(kube.hub.start_server, "alice")
        pod = await pod_of(kube, "alice")
        assert pod["status"]["phase"] == "Running"
        assert podsecurity.check_pod(pod) == []
        bare = {"metadata": {"name": "bare"}, "spec": {"containers": [{"name": "c", "image": "x"}]}}
        with pytest.raises(ApiException) as refused:
            await kube.core.create_namespaced_pod("default", bare)
        assert refused.value.status == 403
        message = json.loads(refused.value.body)["message"]
        assert message.startswith(
            'pods "bare" is forbidden: violates PodSecurity "restricted:latest"'
        )


async def label_enforcing(kube: KubeSetup) -> None:
    await kube.core.patch_namespace("default", {"metadata": {"labels": ENFORCE}})
