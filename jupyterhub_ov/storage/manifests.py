"""Pure: ObjectBucketClaim bodies and the notebook's S3 environment by reference.

The lib-bucket-provisioner contract (NooBaa, Rook): a bound claim has a ConfigMap and a
Secret of its own name in its namespace, with ``BUCKET_HOST``, ``BUCKET_NAME``,
``BUCKET_PORT``, ``BUCKET_REGION`` and ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``.
The notebook's variables point at those keys (``valueFrom``), so the hub never reads the
Secret and no pod spec carries a secret value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

OBC_GROUP = "objectbucket.io"
OBC_VERSION = "v1alpha1"
OBC_PLURAL = "objectbucketclaims"
NOOBAA_STORAGE_CLASS = "openshift-storage.noobaa.io"
CONFIGMAP_KEYS = ("BUCKET_HOST", "BUCKET_NAME", "BUCKET_PORT", "BUCKET_REGION")
SECRET_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


def bucket_claim(
    *,
    name: str,
    namespace: str,
    generate_bucket_name: str,
    storage_class: str = NOOBAA_STORAGE_CLASS,
    additional_config: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """An ObjectBucketClaim asking the provisioner for a bucket named ``<prefix>-<unique>``."""
    spec: dict[str, Any] = {
        "storageClassName": storage_class,
        "generateBucketName": generate_bucket_name,
    }
    if additional_config:
        spec["additionalConfig"] = {str(k): str(v) for k, v in additional_config.items()}
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        metadata["labels"] = dict(labels)
    if annotations:
        metadata["annotations"] = dict(annotations)
    return {
        "apiVersion": f"{OBC_GROUP}/{OBC_VERSION}",
        "kind": "ObjectBucketClaim",
        "metadata": metadata,
        "spec": spec,
    }


def claim_phase(claim: Mapping[str, Any]) -> str:
    return str((claim.get("status") or {}).get("phase") or "Pending")


def key_ref(kind: str, name: str, key: str) -> dict[str, Any]:
    """An EnvVar's ``valueFrom``: ``kind`` (configMapKeyRef, secretKeyRef) ``name``'s ``key``."""
    return {"valueFrom": {kind: {"name": name, "key": key}}}


def bucket_environment(
    claim: str,
    *,
    endpoint_url: str = "",
    scheme: str = "http",
    granted: Sequence[Mapping[str, str]] | None = None,
) -> dict[str, Any]:
    """KubeSpawner ``environment`` entries (dicts become EnvVars with ``valueFrom``).

    ``S3_ENDPOINT_URL`` is the configured external endpoint, or — resolved by the kubelet,
    not the hub — ``<scheme>://$(BUCKET_HOST):$(BUCKET_PORT)`` from the claim's ConfigMap.
    ``JUPYTERHUB_OV_BUCKETS`` lists every bucket the user may use (own first) as JSON; the
    own bucket's name is ``$(BUCKET_NAME)``, expanded by the kubelet as well. ODH's S3
    connection keys repeat them: ``AWS_S3_ENDPOINT`` (the endpoint), ``AWS_S3_BUCKET``
    (``$(BUCKET_NAME)``) and ``AWS_DEFAULT_REGION`` (``$(BUCKET_REGION)``).
    """
    env: dict[str, Any] = {key: key_ref("configMapKeyRef", claim, key) for key in CONFIGMAP_KEYS}
    env.update({key: key_ref("secretKeyRef", claim, key) for key in SECRET_KEYS})
    endpoint = endpoint_url or f"{scheme}://$(BUCKET_HOST):$(BUCKET_PORT)"
    env["S3_ENDPOINT_URL"] = endpoint
    env["AWS_DEFAULT_REGION"] = "$(BUCKET_REGION)"
    env["AWS_S3_ENDPOINT"] = endpoint
    env["AWS_S3_BUCKET"] = "$(BUCKET_NAME)"
    visible = [{"name": "$(BUCKET_NAME)", "endpoint": endpoint, "own": True}]
    visible += [
        {"name": str(g["name"]), "endpoint": str(g.get("endpoint") or endpoint), "own": False}
        for g in granted or []
    ]
    env["JUPYTERHUB_OV_BUCKETS"] = json.dumps(visible)
    return env
