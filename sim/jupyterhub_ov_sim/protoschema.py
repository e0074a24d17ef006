"""The field numbers of Kubernetes' protobuf messages, read from k8s.io's ``generated.proto``.

``python -m jupyterhub_ov_sim.protoschema OUT.json [--source=WHERE] FILE.proto...`` parses the
upstream files
(k8s.io/api ``core/v1``, ``apps/v1``; k8s.io/apimachinery ``meta/v1``, ``intstr``,
``resource``, ``runtime``) and writes, for the built-in kinds in `ROOTS` and every message
they reach, each field's number, JSON name, label (optional, repeated, map) and type. The
simulator ships that file (``k8s-protobuf-schema.json``) and `protobuf` decodes with it.
Only the subset of the proto language those generated files use is understood: top-level
messages with ``optional``/``repeated``/``map<,>`` fields. Part of the cluster simulator.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

#: (apiVersion, kind) -> message: the built-in kinds whose protobuf bodies are accepted
ROOTS = {
    ("v1", "Namespace"): "k8s.io.api.core.v1.Namespace",
    ("v1", "ConfigMap"): "k8s.io.api.core.v1.ConfigMap",
    ("v1", "Secret"): "k8s.io.api.core.v1.Secret",
    ("v1", "ServiceAccount"): "k8s.io.api.core.v1.ServiceAccount",
    ("v1", "Service"): "k8s.io.api.core.v1.Service",
    ("v1", "Pod"): "k8s.io.api.core.v1.Pod",
    ("v1", "PersistentVolumeClaim"): "k8s.io.api.core.v1.PersistentVolumeClaim",
    ("apps/v1", "Deployment"): "k8s.io.api.apps.v1.Deployment",
}
SCALARS = {"string", "bytes", "bool", "int32", "int64", "double", "float"}

_COMMENT = re.compile(r"//[^\n]*")
_PACKAGE = re.compile(r"^\s*package\s+([\w.]+)\s*;", re.MULTILINE)
_MESSAGE = re.compile(r"^message\s+(\w+)\s*\{(.*?)^\}", re.MULTILINE | re.DOTALL)
_FIELD = re.compile(
    r"^\s*(?:(optional|repeated)\s+([\w.]+)|map<\s*(\w+)\s*,\s*([\w.]+)\s*>)"
    r"\s+(\w+)\s*=\s*(\d+)\s*;",
    re.MULTILINE,
)


def parse(text: str) -> dict[str, dict[str, list[Any]]]:
    """Fully qualified message name -> {field number: [name, label, type]}."""
    text = _COMMENT.sub("", text)
    found = _PACKAGE.search(text)
    if found is None:
        raise ValueError("no package statement")
    package = found.group(1)
    messages: dict[str, dict[str, list[Any]]] = {}
    for name, body in _MESSAGE.findall(text):
        fields: dict[str, list[Any]] = {}
        for label, type_, key, value, field, number in _FIELD.findall(body):
            if key:
                label, type_ = "map", _qualified(value, package)
            else:
                type_ = _qualified(type_, package)
            fields[number] = [field, label, type_]
        messages[f"{package}.{name}"] = fields
    return messages


def _qualified(type_: str, package: str) -> str:
    if type_ in SCALARS:
        return type_
    return type_.lstrip(".") if type_.startswith(".") else f"{package}.{type_}"


def reachable(messages: dict[str, dict[str, list[Any]]], roots: list[str]) -> dict[str, Any]:
    """The messages ``roots`` reach through their fields (an unknown type is an error)."""
    keep: dict[str, Any] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        if name not in messages:
            raise ValueError(f"message {name} is not in the given files")
        keep[name] = messages[name]
        todo += [t for _, _, t in messages[name].values() if t not in SCALARS]
    return dict(sorted(keep.items()))


def render(schema: dict[str, Any]) -> str:
    """JSON with one message per line: small, and a regenerated file diffs by message."""
    lines = [f'{{"source": {json.dumps(schema["source"])},']
    lines.append(f'"roots": {json.dumps(schema["roots"], sort_keys=True)},')
    lines.append('"messages": {')
    items = [
        f"{json.dumps(k)}: {json.dumps(v, sort_keys=True)}" for k, v in schema["messages"].items()
    ]
    lines.append(",\n".join(items))
    lines.append("}}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    out, *files = argv if argv is not None else sys.argv[1:]
    source = [f.split("=", 1)[1] for f in files if f.startswith("--source=")]
    files = [f for f in files if not f.startswith("--source=")]
    messages: dict[str, dict[str, list[Any]]] = {}
    for file in files:
        messages.update(parse(Path(file).read_text()))
    schema = {
        "source": source[0] if source else "",
        "roots": {f"{v}/{k}": m for (v, k), m in ROOTS.items()},
        "messages": reachable(messages, list(ROOTS.values())),
    }
    Path(out).write_text(render(schema))
    return 0


if __name__ == "__main__":
    sys.exit(main())
