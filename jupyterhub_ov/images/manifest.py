"""Pure: the manifest of a local Python environment, as an ImageStream-shaped dict.

A local environment is a directory holding a Python environment (``bin/python``) and a
``notebook-image.json`` manifest, written last (atomically) by whatever built it::

    {"name": "scipy-notebook", "display_name": "SciPy", "description": "...",
     "creator": "admin", "python_version": "3.11.7", "phase": "Succeeded",
     "packages": [{"name": "numpy", "version": "2.1.3"}],
     "tag": "latest", "order": 100, "url": "", "default": false, "recommended": false,
     "environment": "/abs/path", "notebooks": "notebooks"}

`manifest_to_stream` validates it and maps every field onto the Open Data Hub annotation of
the same meaning, so `images.model.parse_image_stream` reads local and cluster images alike.

Two optional keys are local only. ``environment``: the absolute path of the Python
environment to run, when it lives elsewhere (an imported environment: the catalog entry then
holds only this manifest). ``notebooks``: a directory inside the entry, relative, whose files
a user gets a copy of on their first start (the notebooks of a built git repository).
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Mapping
from typing import Any

from . import model

MANIFEST_FILE = "notebook-image.json"
REQUIRED = ("name", "display_name", "description", "creator", "python_version", "packages", "phase")
OPTIONAL = ("tag", "order", "url", "default", "recommended", "environment", "notebooks")
PHASES = ("Validating", "Succeeded", "Failed")
_NAME = re.compile(r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def _problems(manifest: Mapping[str, Any]) -> list[str]:
    problems = [f"missing {key!r}" for key in REQUIRED if key not in manifest]
    unknown = sorted(set(manifest) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        problems.append(f"unknown keys {unknown}")
    name = manifest.get("name")
    if "name" in manifest and not (
        isinstance(name, str) and _NAME.match(name) and name.endswith("-notebook")
    ):
        problems.append(f"name {name!r} must be a DNS label ending in '-notebook'")
    for key in ("display_name", "description", "creator", "python_version", "url"):
        if key in manifest and not isinstance(manifest[key], str):
            problems.append(f"{key!r} must be a string")
    if "phase" in manifest and manifest["phase"] not in PHASES:
        problems.append(f"phase {manifest['phase']!r} must be one of {', '.join(PHASES)}")
    tag = manifest.get("tag", "latest")
    if not (isinstance(tag, str) and _TAG.match(tag)):
        problems.append(f"tag {tag!r} is not a valid image tag")
    if "order" in manifest and type(manifest["order"]) is not int:
        problems.append("'order' must be an integer")
    for key in ("default", "recommended"):
        if key in manifest and not isinstance(manifest[key], bool):
            problems.append(f"{key!r} must be true or false")
    problems.extend(_path_problems(manifest))
    packages = manifest.get("packages", [])
    if not isinstance(packages, list) or not all(
        isinstance(p, Mapping)
        and isinstance(p.get("name"), str)
        and isinstance(p.get("version", ""), str)
        for p in packages
    ):
        problems.append('\'packages\' must be a list of {"name": str, "version": str}')
    return problems


def _path_problems(manifest: Mapping[str, Any]) -> list[str]:
    problems = []
    if "environment" in manifest:
        env = manifest["environment"]
        if not (
            isinstance(env, str)
            and posixpath.isabs(env)
            and ".." not in env.split("/")
            and "\x00" not in env
        ):
            problems.append(f"environment {env!r} must be an absolute path without '..'")
    if "notebooks" in manifest:
        nb = manifest["notebooks"]
        if not (
            isinstance(nb, str)
            and nb
            and not posixpath.isabs(nb)
            and not {"..", "."} & set(nb.split("/"))
            and "\x00" not in nb
        ):
            problems.append(f"notebooks {nb!r} must be a relative path inside the entry")
    return problems


def environment_of(manifest: Mapping[str, Any], directory: str) -> str:
    """The environment a (valid) manifest in ``directory`` offers: its own or a referenced one."""
    return str(manifest.get("environment") or directory)


def manifest_to_stream(manifest: Any, directory: str) -> dict[str, Any]:
    """Validate a manifest and return the equivalent ImageStream dict; InvalidImage if bad.

    ``directory`` is the catalog entry holding the manifest. The environment it names (the
    ``environment`` key, else the entry itself) plays the part of the pullable image.
    """
    if not isinstance(manifest, Mapping):
        raise model.InvalidImage("the manifest must be a JSON object")
    problems = _problems(manifest)
    if problems:
        raise model.InvalidImage("; ".join(problems))
    tag = manifest.get("tag", "latest")
    software = [{"name": "Python", "version": manifest["python_version"]}]
    tag_annotations = {
        model.ANN_SOFTWARE: json.dumps(software),
        model.ANN_DEPENDENCIES: json.dumps(list(manifest["packages"])),
        model.ANN_RECOMMENDED: str(manifest.get("recommended", False)).lower(),
        model.ANN_DEFAULT: str(manifest.get("default", False)).lower(),
    }
    annotations = {
        model.ANN_NAME: manifest["display_name"],
        model.ANN_DESC: manifest["description"],
        model.ANN_CREATOR: manifest["creator"],
        model.ANN_PHASE: manifest["phase"],
        model.ANN_ORDER: str(manifest.get("order", model.DEFAULT_ORDER)),
    }
    if manifest.get("url"):
        annotations[model.ANN_URL] = manifest["url"]
    if manifest.get("notebooks"):
        tag_annotations[model.ANN_NOTEBOOKS] = posixpath.join(directory, manifest["notebooks"])
    reference = environment_of(manifest, directory)
    return {
        "kind": "ImageStream",
        "metadata": {
            "name": manifest["name"],
            "labels": {model.NOTEBOOK_IMAGE_LABEL: "true"},
            "annotations": annotations,
        },
        "spec": {"tags": [{"name": tag, "annotations": tag_annotations}]},
        "status": {"tags": [{"tag": tag, "items": [{"dockerImageReference": reference}]}]},
    }
