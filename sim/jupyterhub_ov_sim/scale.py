"""The ``scale`` subresource of Deployments and ReplicaSets (an ``autoscaling/v1`` Scale),
and of custom resources whose CRD declares one (`CUSTOM_PATHS`: the OpenVINO operator's
ModelServer, ``.spec.deployment_parameters.replicas``, ``.status.replicas``,
``.status.labelSelector``).

GET answers the Scale of the object; PUT and PATCH (what ``kubectl scale`` sends) change
the object's replicas (``spec.replicas``, or the CRD's path) through it, with the Scale's
resourceVersion, if given, checked against the object's. Part of the cluster simulator, a
test double of Kubernetes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import errors
from .kinds import ResourceKind
from .patches import apply_patch
from .store import ObjectStore


@dataclass(frozen=True)
class ScalePaths:
    """A CRD's scale subresource: where the wanted and current replicas and the selector are."""

    spec_replicas: tuple[str, ...]
    status_replicas: tuple[str, ...]
    label_selector: tuple[str, ...]


CUSTOM_PATHS = {
    ("ModelServer", "intel.com"): ScalePaths(
        ("spec", "deployment_parameters", "replicas"),
        ("status", "replicas"),
        ("status", "labelSelector"),
    )
}


def _at(obj: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        obj = obj.get(key) if isinstance(obj, dict) else None  # type: ignore[assignment]
    return obj


def selector_string(selector: dict[str, Any] | None) -> str:
    """A label selector as the text form a Scale's ``status.selector`` carries."""
    selector = selector or {}
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key"), expression.get("operator")
        values = ",".join(expression.get("values") or [])
        parts.append(
            {"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})"}.get(
                operator, key if operator == "Exists" else f"!{key}"
            )
        )
    return ",".join(parts)


def to_scale(obj: dict[str, Any], paths: ScalePaths | None = None) -> dict[str, Any]:
    md = obj["metadata"]
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    if paths is not None:
        wanted = _at(obj, paths.spec_replicas)
        spec = {"replicas": 1 if wanted is None else wanted}
        status = {"replicas": _at(obj, paths.status_replicas) or 0}
        selector = str(_at(obj, paths.label_selector) or "")
    else:
        selector = selector_string(spec.get("selector"))
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            key: md[key]
            for key in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if key in md
        },
        "spec": {"replicas": int(spec.get("replicas", 1))},
        "status": {
            "replicas": int(status.get("replicas", 0)),
            "selector": selector,
        },
    }


def read(store: ObjectStore, kind: ResourceKind, namespace: str, name: str) -> dict[str, Any]:
    return to_scale(store.get(kind, namespace, name), CUSTOM_PATHS.get((kind.kind, kind.group)))


def update(
    store: ObjectStore,
    kind: ResourceKind,
    namespace: str,
    name: str,
    body: dict[str, Any],
    *,
    dry_run: bool = False,
) -> dict[str, Any]:
    replicas = (body.get("spec") or {}).get("replicas", 0)
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
        cause = errors.invalid_value(
            "spec.replicas", replicas, "must be greater than or equal to 0"
        )
        raise errors.invalid(kind, name, [cause])
    obj = store.get(kind, namespace, name)
    wanted = (body.get("metadata") or {}).get("resourceVersion")
    if wanted and str(wanted) != obj["metadata"]["resourceVersion"]:
        raise errors.conflict(kind, name, errors.STALE)
    paths = CUSTOM_PATHS.get((kind.kind, kind.group))
    target = obj
    for key in (paths.spec_replicas if paths else ("spec", "replicas"))[:-1]:
        target = target.setdefault(key, {})
    target[(paths.spec_replicas if paths else ("spec", "replicas"))[-1]] = replicas
    return to_scale(store.update(kind, namespace, name, obj, dry_run=dry_run), paths)


def patch(
    store: ObjectStore,
    kind: ResourceKind,
    namespace: str,
    name: str,
    body: Any,
    content_type: str,
    *,
    dry_run: bool = False,
) -> dict[str, Any]:
    patched = apply_patch(read(store, kind, namespace, name), body, content_type)
    if not isinstance(patched, dict):
        raise errors.bad_request("the patch turned the Scale into something else")
    return update(store, kind, namespace, name, patched, dry_run=dry_run)
