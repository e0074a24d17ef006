"""JSON merge patch (RFC 7386), JSON patch (RFC 6902) and the strategic-merge subset clients send.

Strategic merge patch here knows merge keys by field name (``containers`` by ``name``,
``volumeMounts`` by ``mountPath``, ...) rather than from OpenAPI schemas, and honours the
``$patch: delete|replace`` and ``$deleteFromPrimitiveList/<field>`` directives.
Part of the cluster simulator, a test double of Kubernetes (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import copy
from typing import Any

from .errors import ApiError, bad_request

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"

MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "ownerReferences": "uid",
    "conditions": "type",
    "hostAliases": "ip",
    "secrets": "name",
    "readinessGates": "conditionType",
    "topologySpreadConstraints": "topologyKey",
}
# Lists of scalars with patchStrategy "merge": patching adds to them instead of replacing.
PRIMITIVE_MERGE_LISTS = frozenset({"finalizers"})


def _unprocessable(message: str) -> ApiError:
    return ApiError(422, "Invalid", message, {})


def merge_patch(original: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, ``null`` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(original) if isinstance(original, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise _unprocessable(f"invalid JSON pointer: {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _index(container: list[Any], token: str, *, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return len(container)
    if not token.isdigit():
        raise _unprocessable(f"invalid array index: {token!r}")
    index = int(token)
    if index > len(container) or (index == len(container) and not allow_end):
        raise _unprocessable(f"array index out of bounds: {index}")
    return index


def _parent(doc: Any, tokens: list[str], path: str) -> Any:
    current = doc
    for token in tokens[:-1]:
        if isinstance(current, dict) and token in current:
            current = current[token]
        elif isinstance(current, list):
            current = current[_index(current, token, allow_end=False)]
        else:
            raise _unprocessable(f"doc is missing path: {path}")
    return current


def _get(doc: Any, path: str) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return doc
    parent = _parent(doc, tokens, path)
    last = tokens[-1]
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last, allow_end=False)]
    raise _unprocessable(f"doc is missing path: {path}")


def _add(doc: Any, path: str, value: Any) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return value
    parent = _parent(doc, tokens, path)
    if isinstance(parent, dict):
        parent[tokens[-1]] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, tokens[-1], allow_end=True), value)
    else:
        raise _unprocessable(f"doc is missing path: {path}")
    return doc


def _remove(doc: Any, path: str) -> tuple[Any, Any]:
    tokens = _pointer(path)
    if not tokens:
        raise _unprocessable("cannot remove the whole document")
    parent = _parent(doc, tokens, path)
    if isinstance(parent, dict) and tokens[-1] in parent:
        return doc, parent.pop(tokens[-1])
    if isinstance(parent, list):
        return doc, parent.pop(_index(parent, tokens[-1], allow_end=False))
    raise _unprocessable(f"Unable to remove nonexistent key: {tokens[-1]}: missing value")


def _apply_op(doc: Any, op: dict[str, Any]) -> Any:
    kind, path = op.get("op"), op.get("path")
    if not isinstance(path, str):
        raise bad_request(f"JSON patch operation is missing a path: {op}")
    if kind == "add":
        return _add(doc, path, copy.deepcopy(op.get("value")))
    if kind == "remove":
        return _remove(doc, path)[0]
    if kind == "replace":
        _get(doc, path)
        doc, _ = _remove(doc, path) if _pointer(path) else (doc, None)
        return _add(doc, path, copy.deepcopy(op.get("value")))
    if kind in ("move", "copy"):
        source = op.get("from")
        if not isinstance(source, str):
            raise bad_request(f"JSON patch {kind} is missing from: {op}")
        value = copy.deepcopy(_get(doc, source))
        if kind == "move":
            doc, _ = _remove(doc, source)
        return _add(doc, path, value)
    if kind == "test":
        if _get(doc, path) != op.get("value"):
            raise _unprocessable(f"testing value {path} failed: test failed")
        return doc
    raise bad_request(f"Unexpected kind: {kind}")


def json_patch(original: Any, operations: Any) -> Any:
    """RFC 6902, applied atomically to a copy."""
    if not isinstance(operations, list):
        raise bad_request(
            "json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp"
        )
    doc = copy.deepcopy(original)
    for op in operations:
        if not isinstance(op, dict):
            raise bad_request(f"invalid JSON patch operation: {op!r}")
        doc = _apply_op(doc, op)
    return doc


def _merge_key(field: str, element: dict[str, Any]) -> str | None:
    if field == "ports":
        return "containerPort" if "containerPort" in element else "port"
    return MERGE_KEYS.get(field)


def _merge_list(field: str, original: Any, patch: list[Any]) -> list[Any]:
    base = copy.deepcopy(original) if isinstance(original, list) else []
    if field in PRIMITIVE_MERGE_LISTS:
        return base + [item for item in patch if item not in base]
    if any(isinstance(item, dict) and item.get("$patch") == "replace" for item in patch):
        return [copy.deepcopy(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
    dict_items = [item for item in patch if isinstance(item, dict)]
    key = _merge_key(field, dict_items[0]) if dict_items else None
    if key is None or len(dict_items) != len(patch):
        return copy.deepcopy(patch)
    for item in patch:
        index = next(
            (
                i
                for i, old in enumerate(base)
                if isinstance(old, dict) and old.get(key) == item.get(key)
            ),
            None,
        )
        if item.get("$patch") == "delete":
            if index is not None:
                base.pop(index)
        elif index is None:
            base.append(strategic_merge_patch({}, item))
        else:
            base[index] = strategic_merge_patch(base[index], item)
    return base


def strategic_merge_patch(original: Any, patch: Any) -> Any:
    """Merge like ``merge_patch`` but merge known lists by key and honour ``$patch`` directives."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if not k.startswith("$")}
    result = copy.deepcopy(original) if isinstance(original, dict) else {}
    deletions: dict[str, Any] = {}
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            deletions[key.split("/", 1)[1]] = value
        elif key.startswith("$"):
            continue  # $patch, $retainKeys and $setElementOrder/... change nothing we store
        elif value is None or (isinstance(value, dict) and value.get("$patch") == "delete"):
            result.pop(key, None)
        elif isinstance(value, list):
            result[key] = _merge_list(key, result.get(key), value)
        else:
            result[key] = strategic_merge_patch(result.get(key), value)
    for field, removed in deletions.items():
        if isinstance(result.get(field), list):
            result[field] = [item for item in result[field] if item not in removed]
    return result


def apply_patch(original: dict[str, Any], body: Any, content_type: str) -> Any:
    """Apply a PATCH body of the given media type (parameters after ``;`` are ignored)."""
    media = content_type.split(";")[0].strip().lower()
    if media == JSON_PATCH:
        return json_patch(original, body)
    if not isinstance(body, dict):
        raise bad_request(
            "json: cannot unmarshal array into Go value of type map[string]interface {}"
        )
    if media == MERGE_PATCH:
        return merge_patch(original, body)
    if media == STRATEGIC_MERGE_PATCH:
        return strategic_merge_patch(original, body)
    raise ApiError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format - accepted media types include: "
        f"{JSON_PATCH}, {MERGE_PATCH}, {STRATEGIC_MERGE_PATCH}",
    )
