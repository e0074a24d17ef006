"""Object metadata rules: names, generated names, server-managed fields, generation.

Part of the cluster simulator, a test double of Kubernetes (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import base64
import copy
import random
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from . import errors, imagestreams
from .kinds import ResourceKind

SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# Kinds whose names must be DNS labels (63 characters, no dots) rather than subdomains.
LABEL_NAMED_KINDS = frozenset({"Namespace", "Service"})
# The alphabet and length Kubernetes uses for generateName suffixes.
SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
SUFFIX_LENGTH = 5
# Fields only the server sets; client writes to them are ignored.
SERVER_MANAGED = (
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
)


def now() -> str:
    """An RFC 3339 timestamp with seconds precision, as Kubernetes serialises metav1.Time."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def generate_name(prefix: str, rng: random.Random) -> str:
    return prefix + "".join(rng.choice(SUFFIX_ALPHABET) for _ in range(SUFFIX_LENGTH))


def validate_name(kind: ResourceKind, name: str) -> None:
    """Raise 422 Invalid for names the real server would refuse."""
    if not name:
        raise errors.invalid(
            kind, "", [errors.required("metadata.name", "name or generateName is required")]
        )
    if kind.kind in LABEL_NAMED_KINDS:
        ok, limit, why = LABEL_RE.match(name), 63, errors.DNS1123_LABEL_MSG
    else:
        ok, limit, why = SUBDOMAIN_RE.match(name), 253, errors.DNS1123_SUBDOMAIN_MSG
    if len(name) > limit:
        why = f"must be no more than {limit} characters"
        ok = None
    if not ok:
        raise errors.invalid(kind, name, [errors.invalid_value("metadata.name", name, why)])


POD_DEFAULTS = {
    "restartPolicy": "Always",
    "terminationGracePeriodSeconds": 30,
    "dnsPolicy": "ClusterFirst",
    "schedulerName": "default-scheduler",
}


def normalise(kind: ResourceKind, obj: dict[str, Any]) -> None:
    """What the real server's defaulting does on every write, for the kinds where it matters.

    Secrets: ``stringData`` is folded into base64 ``data`` and never stored; type defaults to
    Opaque.
    """
    if kind.kind == "Secret" and not kind.group:
        data = obj.get("data") or {}
        for key, value in (obj.pop("stringData", None) or {}).items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        if data:
            obj["data"] = data
        obj.setdefault("type", "Opaque")


def apply_create_defaults(kind: ResourceKind, obj: dict[str, Any]) -> None:
    if kind.kind == "Pod" and not kind.group:
        spec = obj.setdefault("spec", {})
        for field, value in POD_DEFAULTS.items():
            spec.setdefault(field, value)


def content(obj: dict[str, Any]) -> dict[str, Any]:
    """Everything that counts for ``generation``: the object without metadata and status."""
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def same_object(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal apart from resourceVersion and managedFields (a no-op update)."""

    def strip(obj: dict[str, Any]) -> dict[str, Any]:
        copied = dict(obj)
        meta = dict(copied.get("metadata") or {})
        meta.pop("resourceVersion", None)
        meta.pop("managedFields", None)
        copied["metadata"] = meta
        return copied

    return strip(a) == strip(b)


def initialise(
    kind: ResourceKind, body: dict[str, Any], namespace: str, name: str
) -> dict[str, Any]:
    """A new object from a create body: identity, timestamps, generation, initial status."""
    obj = copy.deepcopy(body)
    obj["apiVersion"] = kind.api_version
    obj["kind"] = kind.kind
    meta = obj.setdefault("metadata", {})
    for field in SERVER_MANAGED:
        meta.pop(field, None)
    meta["name"] = name
    if kind.namespaced:
        meta["namespace"] = namespace
    else:
        meta.pop("namespace", None)
    meta["uid"] = str(uuid.uuid4())
    meta["creationTimestamp"] = now()
    meta["generation"] = 1
    normalise(kind, obj)
    apply_create_defaults(kind, obj)
    if imagestreams.is_image_stream(kind.kind, kind.group):
        imagestreams.ensure_spec_tag_generations(obj, None)
    if kind.status_subresource:
        obj.pop("status", None)
    if kind.initial_status is not None:
        # the server decides the initial status (a Build always starts New), whatever was sent
        obj["status"] = copy.deepcopy(kind.initial_status)
    return obj


def merge_for_update(
    kind: ResourceKind, old: dict[str, Any], new: dict[str, Any], subresource: str | None
) -> dict[str, Any]:
    """What an update stores: status-only for ``/status``, everything but status otherwise."""
    if subresource == "status":
        result = copy.deepcopy(old)
        if "status" in new:
            result["status"] = copy.deepcopy(new["status"])
        else:
            result.pop("status", None)
        return result
    result = copy.deepcopy(new)
    result["apiVersion"] = kind.api_version
    result["kind"] = kind.kind
    if kind.status_subresource:
        if "status" in old:
            result["status"] = copy.deepcopy(old["status"])
        else:
            result.pop("status", None)
    normalise(kind, result)
    meta = result.setdefault("metadata", {})
    old_meta = old["metadata"]
    for field in (*SERVER_MANAGED, "name", "namespace"):
        if field in old_meta:
            meta[field] = old_meta[field]
        else:
            meta.pop(field, None)
    stream = imagestreams.is_image_stream(kind.kind, kind.group)
    if stream:
        imagestreams.restore_spec_tag_generations(result, old)
    if content(result) != content(old):
        meta["generation"] = int(old_meta.get("generation", 1)) + 1
    if stream:
        imagestreams.ensure_spec_tag_generations(result, old)
    return result


def owner_uids(obj: dict[str, Any]) -> list[str]:
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    return [ref["uid"] for ref in refs if isinstance(ref, dict) and "uid" in ref]
