"""Extract the ImageStream and BuildConfig schemas from openshift/api's published OpenAPI.

Usage: ``python scripts/vendor_openshift_schemas.py OPENAPI_JSON COMMIT > OUT``, where
OPENAPI_JSON is ``openapi/openapi.json`` of https://github.com/openshift/api at COMMIT. Keeps
the two kinds' definitions and every definition they reference, unchanged (Apache-2.0, see
the source); tests/images validate the manifests in images/openshift against the result.
"""

from __future__ import annotations

import json
import sys
from typing import Any

ROOTS = (
    "com.github.openshift.api.image.v1.ImageStream",
    "com.github.openshift.api.build.v1.BuildConfig",
)
PREFIX = "#/definitions/"


def references(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"][len(PREFIX) :]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= references(value)
        return found
    if isinstance(node, list):
        return set().union(*(references(v) for v in node)) if node else set()
    return set()


def closure(definitions: dict[str, Any]) -> dict[str, Any]:
    keep: dict[str, Any] = {}
    todo = list(ROOTS)
    while todo:
        name = todo.pop()
        if name not in keep:
            keep[name] = definitions[name]
            todo.extend(references(definitions[name]) - keep.keys())
    return dict(sorted(keep.items()))


def main(path: str, commit: str) -> None:
    with open(path) as file:
        document = json.load(file)
    out = {
        "x-source": f"https://github.com/openshift/api/blob/{commit}/openapi/openapi.json",
        "x-license": "Apache-2.0 (openshift/api)",
        "x-roots": list(ROOTS),
        "definitions": closure(document["definitions"]),
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])
