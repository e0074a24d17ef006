"""Pod admission of the simulator: PodSecurity by namespace labels, and OpenShift's
restricted-v2 SecurityContextConstraints where the namespace carries a uid range.

A namespace labelled ``pod-security.kubernetes.io/enforce: <level>`` refuses a pod that
breaks that Pod Security Standard (``podsecurity``) with 403 Forbidden and the real
plugin's message, ``pods "x" is forbidden: violates PodSecurity "restricted:latest": ...``;
``.../warn: <level>`` admits it with a ``Warning`` header ``would violate PodSecurity ...``
(``-version`` labels are echoed in the message; the latest rules are applied). A namespace
annotated ``openshift.io/sa.scc.uid-range`` also refuses what restricted-v2 would (``scc``).
Only pod creates are checked, wherever they come from (the REST API or a controller such as
the ReplicaSet controller, which records the refusal as a FailedCreate event); pod templates
of workloads are not warned about. Invalid level labels are taken as ``restricted``.
Part of the cluster simulator, a test double of Kubernetes (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import podsecurity, scc
from .errors import ApiError

PREFIX = podsecurity.LABEL_PREFIX


def _level(labels: Mapping[str, str], mode: str) -> str | None:
    """The level a namespace's ``mode`` label names, with its version: "restricted:latest"."""
    level = labels.get(PREFIX + mode)
    if level is None or level == "privileged":
        return None
    if level not in podsecurity.LEVELS:
        level = "restricted"
    return f"{level}:{labels.get(PREFIX + mode + '-version') or 'latest'}"


def _forbidden(name: str, message: str) -> ApiError:
    details = {"name": name, "kind": "pods"}
    return ApiError(403, "Forbidden", f'pods "{name}" is forbidden: {message}', details)


def _labels(namespace: Mapping[str, Any]) -> Mapping[str, str]:
    return (namespace.get("metadata") or {}).get("labels") or {}


def enforce(namespace: Mapping[str, Any], pod: Mapping[str, Any]) -> None:
    """Refuse ``pod`` (raise a 403 `ApiError`) if ``namespace`` enforces a level it breaks,
    or is an OpenShift namespace (a uid range) whose restricted-v2 it breaks."""
    name = str((pod.get("metadata") or {}).get("name") or "")
    level = _level(_labels(namespace), "enforce")
    if level is not None:
        violations = podsecurity.check_pod(pod, level.split(":")[0])
        if violations:
            described = podsecurity.describe(violations)
            raise _forbidden(name, f'violates PodSecurity "{level}": {described}')
    annotations = (namespace.get("metadata") or {}).get("annotations") or {}
    if scc.UID_RANGE in annotations:
        refused = scc.restricted_v2(pod, namespace)
        if refused:
            raise _forbidden(name, scc.describe(refused))


def warnings(namespace: Mapping[str, Any], pod: Mapping[str, Any]) -> list[str]:
    """The ``Warning`` texts for an admitted ``pod`` (the namespace's ``warn`` level)."""
    warn = _level(_labels(namespace), "warn")
    if warn is None:
        return []
    violations = podsecurity.check_pod(pod, warn.split(":")[0])
    if not violations:
        return []
    return [f'would violate PodSecurity "{warn}": {podsecurity.describe(violations)}']


def warning_header(warning: str) -> str:
    """A ``Warning`` header value as the API server sends it (RFC 7234 code 299)."""
    escaped = warning.replace("\\", "\\\\").replace('"', '\\"')
    return f'299 - "{escaped}"'
