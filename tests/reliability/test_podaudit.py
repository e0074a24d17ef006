"""The podsecurity scenario's pure audit: sources by label, and every problem counted."""

from __future__ import annotations

from typing import Any

from reliability.podaudit import MODEL_SERVER, NOTEBOOK, OTHER, VALIDATION, PodAudit, problems

SAFE = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}


def pod(uid: str, labels: dict[str, str], sc: dict[str, Any] | None = None, **spec: Any) -> dict:
    container = {"name": "c", "image": "x", "securityContext": SAFE if sc is None else sc}
    return {
        "metadata": {"name": f"p-{uid}", "uid": uid, "labels": labels},
        "spec": {"automountServiceAccountToken": False, "containers": [container], **spec},
    }


def test_each_source_is_told_by_its_labels_and_counted_once() -> None:
    audit = PodAudit()
    audit.observe("ADDED", pod("1", {"component": "singleuser-server"}))
    audit.observe("MODIFIED", pod("1", {"component": "singleuser-server"}))
    audit.observe("ADDED", pod("2", {"app.kubernetes.io/component": "image-validation"}))
    audit.observe("ADDED", pod("3", {"app": "demo-ovms", "release": "demo"}))
    audit.observe("ADDED", pod("4", {}))
    assert dict(audit.seen) == {NOTEBOOK: 1, VALIDATION: 1, MODEL_SERVER: 1, OTHER: 1}
    assert all(audit.violations(s) == 0 for s in (NOTEBOOK, VALIDATION, MODEL_SERVER, OTHER))


def test_a_pod_without_security_context_token_or_with_a_fixed_uid_is_counted() -> None:
    bare = pod("5", {"component": "singleuser-server"}, sc={})
    del bare["spec"]["automountServiceAccountToken"]
    texts = problems(bare)
    assert len(texts) == 5 and texts[-1] == "automountServiceAccountToken is not false"
    assert texts[0].startswith("restricted: allowPrivilegeEscalation != false")
    fixed = pod("6", {}, sc={**SAFE, "runAsUser": 1000})
    assert problems(fixed) == [
        "restricted-v2: spec.containers[0].securityContext.runAsUser: Invalid value: 1000: "
        "must be in the ranges: [1000650000, 1000659999]"
    ]
    audit = PodAudit()
    audit.observe("ADDED", bare)
    assert audit.violations(NOTEBOOK) == 5 and audit.found[NOTEBOOK][0].startswith("p-5: ")
