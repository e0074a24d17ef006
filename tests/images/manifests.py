"""Strict validation of the manifests in images/openshift, as an API server would check them.

ImageStream and BuildConfig: the definitions of openshift/api's published OpenAPI document,
vendored in ``schemas/`` (``x-source`` names the file and commit;
scripts/vendor_openshift_schemas.py extracts them), made strict as kubernetes-validate's
``strict`` mode makes its own: an unknown field anywhere is an error, so is a wrong
apiVersion/kind. Every other kind: kubernetes-validate, strict, for its latest Kubernetes.
"""

from __future__ import annotations

import copy
import io
import json
import re
import shlex
import subprocess
import tarfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import kubernetes_validate.utils
import yaml

REPO = Path(__file__).resolve().parents[2]
IMAGES = REPO / "images"
SCHEMAS = Path(__file__).with_name("schemas") / "openshift-imagestream-buildconfig.json"
OPENSHIFT_KINDS = {
    ("image.openshift.io/v1", "ImageStream"): "com.github.openshift.api.image.v1.ImageStream",
    ("build.openshift.io/v1", "BuildConfig"): "com.github.openshift.api.build.v1.BuildConfig",
}


class InvalidManifest(ValueError):
    """A manifest the schemas refuse; the message is the validator's."""


def _strict(node: Any) -> Any:
    """Every object schema with listed properties refuses the others."""
    if isinstance(node, dict):
        node = {key: _strict(value) for key, value in node.items()}
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        return node
    if isinstance(node, list):
        return [_strict(value) for value in node]
    return node


@cache
def _validator(definition: str, api_version: str, kind: str) -> jsonschema.Draft4Validator:
    document = json.loads(SCHEMAS.read_text())
    definitions = _strict(copy.deepcopy(document["definitions"]))
    root = copy.deepcopy(definitions[definition])
    root["properties"]["apiVersion"] = {"enum": [api_version]}
    root["properties"]["kind"] = {"enum": [kind]}
    root["required"] = sorted({*root.get("required", ()), "apiVersion", "kind", "metadata"})
    root["definitions"] = definitions
    return jsonschema.Draft4Validator(root)


def validate(manifest: Any) -> None:
    """Nothing for a valid manifest, else InvalidManifest with what the validator says."""
    if not isinstance(manifest, dict):
        raise InvalidManifest(f"a manifest must be a mapping, not {type(manifest).__name__}")
    key = (manifest.get("apiVersion"), manifest.get("kind"))
    definition = OPENSHIFT_KINDS.get(key)  # type: ignore[arg-type]
    try:
        if definition is not None:
            _validator(definition, *key).validate(manifest)
        else:
            kubernetes_validate.validate(
                manifest, kubernetes_validate.latest_version(), strict=True
            )
    except jsonschema.ValidationError as error:
        where = "/".join(str(part) for part in error.absolute_path) or "(root)"
        raise InvalidManifest(f"{key[1]} {where}: {error.message}") from error
    except kubernetes_validate.utils.SchemaNotFoundError as error:
        raise InvalidManifest(f"{key[1]}: {error}") from error


def documents(path: Path) -> Iterator[dict[str, Any]]:
    """The YAML documents of one manifest file."""
    with path.open() as file:
        yield from (doc for doc in yaml.safe_load_all(file) if doc is not None)


def openshift_files() -> list[Path]:
    return sorted((IMAGES / "openshift").glob("*.yaml"))


START_BUILD = "jupyterhub-ov/start-build"
#: hosts that never resolve (RFC 2606 / 6761): a git URL there is a placeholder
PLACEHOLDER_HOST = re.compile(r"(^|\.)(invalid|example|test|localhost|example\.(com|net|org))$")


def upload_root(config: dict[str, Any]) -> tuple[Path, str]:
    """Where the ``oc start-build`` of a Binary BuildConfig's annotation uploads from, and how:
    ``--from-dir`` (the directory as it is, less .git) or ``--from-repo`` (the committed tree)."""
    command = shlex.split(config["metadata"]["annotations"][START_BUILD])
    assert command[:3] == ["oc", "start-build", config["metadata"]["name"]], command
    flags = dict(arg.split("=", 1) for arg in command[3:] if "=" in arg)
    (flag, directory), *more = [(f, d) for f, d in flags.items() if f in FROM_FLAGS]
    assert not more, command
    return (REPO / directory).resolve(), flag


FROM_FLAGS = ("--from-dir", "--from-repo")


def git_hosts(path: Path) -> list[str]:
    """The host of every git URL a manifest file's BuildConfigs name."""
    return [
        urlsplit(doc["spec"]["source"]["git"]["uri"]).hostname or ""
        for doc in documents(path)
        if doc["kind"] == "BuildConfig" and "git" in doc["spec"]["source"]
    ]


def oc_upload(config: dict[str, Any]) -> bytes:
    """The tar.gz ``oc start-build`` sends for a Binary BuildConfig's annotation: the
    directory less .git (``--from-dir``), or the files git tracks (``--from-repo``, which
    sends a clone of HEAD; tracked files of the work tree here)."""
    root, flag = upload_root(config)
    if flag == "--from-repo":
        listed = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z"], capture_output=True, check=True
        )
        paths = [root / p for p in listed.stdout.decode().split("\0") if p]
    else:
        paths = [p for p in sorted(root.rglob("*")) if ".git" not in p.relative_to(root).parts]
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for path in paths:
            if path.is_file() and not path.is_symlink():
                tar.add(path, arcname=str(path.relative_to(root)), recursive=False)
    return out.getvalue()
