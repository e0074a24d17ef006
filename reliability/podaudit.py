"""Pure checker of the podsecurity scenario: every pod the simulator stored, by source, and
what each breaks of the restricted Pod Security Standard, of OpenShift's restricted-v2 SCC
(in a namespace with a uid range) and of "no service account token where none is needed".

The sources are told by the labels the product sets: KubeSpawner's ``component`` for
notebooks, the build backends' ``app.kubernetes.io/component`` for validation pods, the
ModelServer's ``release`` for model servers; anything else is "other". No I/O: the scenario
feeds it the store's events.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jupyterhub_ov_sim.podsecurity as podsecurity
import jupyterhub_ov_sim.scc as scc

NOTEBOOK, VALIDATION, MODEL_SERVER, OTHER = "notebook", "validation", "model server", "other"
SOURCES = (NOTEBOOK, VALIDATION, MODEL_SERVER)
#: the namespace every pod is judged in: OpenShift's, with a uid range of its own
OPENSHIFT_NAMESPACE = {"metadata": {"annotations": {scc.UID_RANGE: "1000650000/10000"}}}


def source(pod: Mapping[str, Any]) -> str:
    labels = (pod.get("metadata") or {}).get("labels") or {}
    if labels.get("component") == "singleuser-server":
        return NOTEBOOK
    if labels.get("app.kubernetes.io/component") == "image-validation":
        return VALIDATION
    if labels.get("release") and str(labels.get("app", "")).endswith("-ovms"):
        return MODEL_SERVER
    return OTHER


def problems(pod: Mapping[str, Any]) -> list[str]:
    """Everything ``pod`` breaks, one text each (empty: it passes)."""
    found = [f"restricted: {v}" for v in podsecurity.check_pod(pod)]
    found += [f"restricted-v2: {e}" for e in scc.restricted_v2(pod, OPENSHIFT_NAMESPACE)]
    if (pod.get("spec") or {}).get("automountServiceAccountToken") is not False:
        found.append("automountServiceAccountToken is not false")
    return found


@dataclass
class PodAudit:
    """The pods seen (by uid, once each, as first stored) and their problems, per source."""

    seen: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    found: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    _uids: set[str] = field(default_factory=set)

    def observe(self, event_type: str, pod: Mapping[str, Any]) -> None:
        uid = str((pod.get("metadata") or {}).get("uid", ""))
        if event_type != "ADDED" or uid in self._uids:
            return
        self._uids.add(uid)
        where = source(pod)
        self.seen[where] += 1
        name = (pod.get("metadata") or {}).get("name", "")
        self.found[where] += [f"{name}: {text}" for text in problems(pod)]

    def violations(self, where: str) -> int:
        return len(self.found.get(where, ()))
