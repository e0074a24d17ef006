"""KubeSpawner whose pods pass the restricted Pod Security Standard and OpenShift's
restricted-v2 SCC by default: non-root, RuntimeDefault seccomp, every capability dropped, no
privilege escalation (KubeSpawner's own default), no service account token, and no fixed uid
or fsGroup (the SCC assigns them from the namespace's range). The podsecurity scenario of the
reliability campaign checks every pod the platform makes against both.
"""

from __future__ import annotations

import copy
from typing import Any

from traitlets import default

from .resuming import ResumingKubeSpawner

#: what the restricted Pod Security Standard asks of a pod, and what OpenShift's restricted-v2
#: SCC admits: no uid or fsGroup (the SCC assigns them from the namespace's range)
POD_SECURITY = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
CONTAINER_SECURITY = {"capabilities": {"drop": ["ALL"]}}


class RestrictedKubeSpawner(ResumingKubeSpawner):
    """Restricted-compatible pod and container security contexts by default."""

    @default("pod_security_context")
    def _default_pod_security_context(self) -> dict[str, Any]:
        """runAsNonRoot: true and seccompProfile RuntimeDefault (the restricted Pod Security
        Standard's pod part); no runAsUser or fsGroup: OpenShift's restricted-v2 SCC assigns
        them from the namespace's range (set `uid`/`fs_gid` on plain Kubernetes if wanted)."""
        return copy.deepcopy(POD_SECURITY)

    @default("container_security_context")
    def _default_container_security_context(self) -> dict[str, Any]:
        """capabilities: drop ALL (the restricted standard's container part KubeSpawner has
        no trait for; allowPrivilegeEscalation is KubeSpawner's own trait, False)."""
        return copy.deepcopy(CONTAINER_SECURITY)

    @default("automount_service_account_token")
    def _default_automount(self) -> bool:
        """False: a notebook needs no Kubernetes API token; True (with `service_account`)
        only for notebooks that must call the API."""
        return False
