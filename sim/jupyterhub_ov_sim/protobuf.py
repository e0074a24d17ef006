"""Kubernetes protobuf request bodies (what ``kubectl create <kind>`` sends) as JSON objects.

A body is ``k8s\\x00`` and a ``runtime.Unknown`` message: the object's ``apiVersion``/``kind``
and its bytes, a k8s.io/api message. The messages' field numbers come from the upstream
``generated.proto`` files (see `protoschema`, which wrote ``k8s-protobuf-schema.json``);
the wire format is decoded here. The result is what the same object's JSON would be: the
well-known types become their JSON forms (Time -> RFC 3339, Quantity and IntOrString ->
string or number, bytes -> base64), and the empty values Go's encoder always writes are
dropped as JSON's ``omitempty`` would (an explicit zero survives only for the pointer fields
in `KEPT_ZEROS`). Only decoding: the server answers JSON, which kubectl also accepts.
Part of the cluster simulator, a test double of Kubernetes.
"""

from __future__ import annotations

import base64
import functools
import json
import struct
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import resources
from typing import Any

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"
META = "k8s.io.apimachinery.pkg.apis.meta.v1."
CORE = "k8s.io.api.core.v1."
#: (message, field): pointer fields whose explicit zero or false means something (the
#: wire format cannot tell them from Go's always-written zeros of plain fields)
KEPT_ZEROS = frozenset(
    {
        ("k8s.io.api.apps.v1.DeploymentSpec", "replicas"),
        (CORE + "ConfigMap", "immutable"),
        (CORE + "Secret", "immutable"),
        (CORE + "ServiceAccount", "automountServiceAccountToken"),
        (CORE + "PodSpec", "automountServiceAccountToken"),
        (CORE + "ConfigMapKeySelector", "optional"),
        (CORE + "SecretKeySelector", "optional"),
        (CORE + "ConfigMapEnvSource", "optional"),
        (CORE + "SecretEnvSource", "optional"),
    }
)
_SCALARS = frozenset({"string", "bytes", "bool", "int32", "int64", "double", "float"})


class ProtobufError(ValueError):
    """A body that is not a well-formed Kubernetes protobuf message."""


class UnsupportedKind(ProtobufError):
    """A protobuf body of a kind this decoder has no schema for."""


@functools.cache
def schema() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("k8s-protobuf-schema.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7
        if shift > 63:
            raise ProtobufError("varint longer than 10 bytes")


def fields(data: bytes) -> Iterator[tuple[int, int, Any]]:
    """(field number, wire type, value) of a message: ints for varints, bytes otherwise."""
    data = _chunk(data)
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        value: Any
        if wire == 0:
            value, at = _varint(data, at)
        elif wire == 1:
            value, at = data[at : at + 8], at + 8
        elif wire == 2:
            size, at = _varint(data, at)
            value, at = data[at : at + size], at + size
        elif wire == 5:
            value, at = data[at : at + 4], at + 4
        else:
            raise ProtobufError(f"unsupported wire type {wire} (field {number})")
        if at > len(data):
            raise ProtobufError(f"field {number} runs past the end of its message")
        yield number, wire, value


def _chunk(value: Any) -> bytes:
    if not isinstance(value, bytes):
        raise ProtobufError("a length-delimited field arrived as a number")
    return value


def _text(value: Any) -> str:
    try:
        return _chunk(value).decode()
    except UnicodeDecodeError as problem:
        raise ProtobufError(f"a string field is not UTF-8: {problem}") from None


def _signed(value: Any) -> int:
    if not isinstance(value, int):
        raise ProtobufError("a number field arrived length-delimited or fixed-size")
    return value - (1 << 64) if value >= 1 << 63 else value


def _scalar(type_: str, wire: int, value: Any) -> Any:
    if type_ == "string":
        return _text(value)
    if type_ == "bytes":
        return base64.b64encode(_chunk(value)).decode()
    if type_ == "bool":
        return bool(_signed(value))
    if type_ in ("int32", "int64"):
        return _signed(value)
    if type_ in ("double", "float"):
        size, form = (8, "<d") if type_ == "double" else (4, "<f")
        if not isinstance(value, bytes) or len(value) != size:
            raise ProtobufError(f"a {type_} field is not {size} bytes")
        return struct.unpack(form, value)[0]
    raise ProtobufError(f"unknown scalar type {type_}")


def _values(type_: str, wire: int, value: Any, *, repeated: bool = False) -> list[Any]:
    """One field's values: several when a repeated number arrives packed."""
    if type_ not in _SCALARS:
        return [decode_message(type_, value)]
    if type_ not in ("string", "bytes") and wire == 2:
        if not repeated:
            raise ProtobufError(f"a single {type_} arrived length-delimited")
        packed, at, items = _chunk(value), 0, []
        while at < len(packed):
            if type_ in ("double", "float"):
                size = 8 if type_ == "double" else 4
                items.append(_scalar(type_, 1, packed[at : at + size]))
                at += size
            else:
                number, at = _varint(packed, at)
                items.append(_scalar(type_, 0, number))
        return items
    return [_scalar(type_, wire, value)]


def _kept(message: str, field: str, value: Any) -> bool:
    """Whether Go's JSON encoder would write this value (``omitempty``, see the module)."""
    if value is None or (isinstance(value, str | dict | list) and not value):
        return False
    if value is False or (isinstance(value, int | float) and value == 0):
        return (message, field) in KEPT_ZEROS
    return True


def _time(data: bytes, micro: bool) -> str | None:
    parts = {n: v for n, _, v in fields(data)}
    if not parts:
        return None
    moment = datetime.fromtimestamp(_signed(parts.get(1, 0)), UTC)
    if micro:
        moment = moment.replace(microsecond=_signed(parts.get(2, 0)) // 1000)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _well_known(name: str, data: bytes) -> tuple[bool, Any]:
    """(True, its JSON form) for the types whose JSON is no object of their fields."""
    if name == META + "Time":
        return True, _time(data, micro=False)
    if name == META + "MicroTime":
        return True, _time(data, micro=True)
    parts = {n: v for n, _, v in fields(data)}
    if name == "k8s.io.apimachinery.pkg.api.resource.Quantity":
        return True, _text(parts.get(1, b"")) or None
    if name == "k8s.io.apimachinery.pkg.util.intstr.IntOrString":
        if parts.get(1, 0) == 1:
            return True, _text(parts.get(3, b""))
        return True, _signed(parts.get(2, 0))
    if name in ("k8s.io.apimachinery.pkg.runtime.RawExtension", META + "FieldsV1"):
        raw = _chunk(parts.get(1, b""))
        try:
            return True, json.loads(raw) if raw else None
        except ValueError as problem:
            raise ProtobufError(f"{name} does not hold JSON: {problem}") from None
    if name == META + "Duration":
        return True, f"{_signed(parts.get(1, 0)) / 1e9:g}s"
    return False, None


def decode_message(name: str, data: bytes) -> Any:
    """A message of the schema as its JSON value (fields it does not know are skipped)."""
    special, value = _well_known(name, data)
    if special:
        return value
    try:
        known = schema()["messages"][name]
    except KeyError:
        raise ProtobufError(f"no schema for message {name}") from None
    out: dict[str, Any] = {}
    for number, wire, raw in fields(data):
        spec = known.get(str(number))
        if spec is None:
            continue
        field, label, type_ = spec
        if label == "map":
            entry = {n: (w, v) for n, w, v in fields(raw)}
            key = _text(entry.get(1, (2, b""))[1])
            wire_v, value_v = entry.get(2, (2, b""))
            out.setdefault(field, {})[key] = _values(type_, wire_v, value_v)[0]
        elif label == "repeated":
            out.setdefault(field, []).extend(_values(type_, wire, raw, repeated=True))
        else:
            out[field] = _values(type_, wire, raw)[-1]
    return {field: value for field, value in out.items() if _kept(name, field, value)}


def decode_object(body: bytes) -> dict[str, Any]:
    """The JSON object of a ``k8s\\x00``-framed body, or ProtobufError saying why not."""
    if not body.startswith(MAGIC):
        raise ProtobufError("the body does not start with the Kubernetes protobuf prefix k8s\\0")
    unknown = {n: v for n, _, v in fields(body[len(MAGIC) :])}
    type_meta = {n: _text(v) for n, _, v in fields(_chunk(unknown.get(1, b"")))}
    api_version, kind = type_meta.get(1, ""), type_meta.get(2, "")
    if unknown.get(3):
        raise ProtobufError(f"unsupported content encoding {_text(unknown[3])!r}")
    message = schema()["roots"].get(f"{api_version}/{kind}")
    if message is None:
        raise UnsupportedKind(f"protobuf bodies of {api_version} {kind} are not decoded here")
    decoded = decode_message(message, _chunk(unknown.get(2, b"")))
    return {"apiVersion": api_version, "kind": kind, **decoded}
