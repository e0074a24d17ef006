"""Kubernetes protobuf bodies: the wire decoder, the schema from the upstream .proto files,
and what the API server does with such bodies (kubectl itself: test_kubectl.py)."""

from __future__ import annotations

import base64
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jupyterhub_ov_sim import protobuf, protoschema
from jupyterhub_ov_sim.protobuf import ProtobufError, UnsupportedKind, decode_object

from .helpers import RawHTTP

PB = protobuf.MEDIA_TYPE


# -- a minimal encoder, to write the bodies kubectl would -----------------------------------


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative numbers as their 64-bit two's complement
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def number(field: int, value: int) -> bytes:
    return varint(field << 3) + varint(value)


def chunk(field: int, data: bytes | str) -> bytes:
    raw = data.encode() if isinstance(data, str) else data
    return varint(field << 3 | 2) + varint(len(raw)) + raw


def entry(field: int, key: str, value: bytes | str) -> bytes:
    return chunk(field, chunk(1, key) + chunk(2, value))


def framed(api_version: str, kind: str, raw: bytes, *extra: bytes) -> bytes:
    type_meta = chunk(1, api_version) + chunk(2, kind)
    return protobuf.MAGIC + chunk(1, type_meta) + chunk(2, raw) + b"".join(extra)


def meta(name: str, *more: bytes) -> bytes:
    # what Go writes: every plain field, empty or not
    empties = b"".join(chunk(n, "") for n in (2, 3, 4, 5, 6)) + number(7, 0) + chunk(8, b"")
    return chunk(1, chunk(1, name) + empties + b"".join(more))


# -- decoding ----------------------------------------------------------------------------


def test_a_configmap_with_maps_bytes_and_go_s_empty_fields() -> None:
    raw = (
        meta("c", entry(11, "app", "hub"))
        + entry(2, "a", "b")
        + entry(2, "empty", "")
        + entry(3, "bin", b"\x00\xff")
    )
    assert decode_object(framed("v1", "ConfigMap", raw)) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "labels": {"app": "hub"}},
        "data": {"a": "b", "empty": ""},
        "binaryData": {"bin": base64.b64encode(b"\x00\xff").decode()},
    }


def test_well_known_types_become_their_json_forms() -> None:
    created = chunk(8, number(1, 1_700_000_000) + number(2, 5))  # Time: seconds, nanos
    negative = number(10, -1)  # deletionGracePeriodSeconds, a 10-byte varint
    int_port = number(1, 0) + number(2, 8080)
    named_port = number(1, 1) + chunk(3, "https")
    ports = chunk(1, chunk(1, "a") + number(3, 80) + chunk(4, int_port)) + chunk(
        1, chunk(1, "b") + number(3, 443) + chunk(4, named_port)
    )
    service = framed("v1", "Service", meta("s", created, negative) + chunk(2, ports))
    decoded = decode_object(service)
    assert decoded["metadata"] == {
        "name": "s",
        "creationTimestamp": "2023-11-14T22:13:20Z",
        "deletionGracePeriodSeconds": -1,
    }
    assert decoded["spec"]["ports"] == [
        {"name": "a", "port": 80, "targetPort": 8080},
        {"name": "b", "port": 443, "targetPort": "https"},
    ]
    limits = entry(1, "memory", chunk(1, "1Gi"))  # ResourceRequirements.limits: Quantity
    container = chunk(1, "c") + chunk(8, limits)
    pod = decode_object(framed("v1", "Pod", meta("p") + chunk(2, chunk(2, container))))
    assert pod["spec"]["containers"] == [{"name": "c", "resources": {"limits": {"memory": "1Gi"}}}]


def test_packed_and_unpacked_repeated_numbers_and_unknown_fields() -> None:
    groups = varint(5) + varint(7)
    packed = chunk(14, chunk(4, groups))  # PodSpec.securityContext.supplementalGroups
    unpacked = chunk(14, number(4, 5) + number(4, 7))
    for context in (packed, unpacked):
        unknown = chunk(999, "from a newer server") + number(998, 1)
        pod = decode_object(framed("v1", "Pod", meta("p") + chunk(2, context + unknown)))
        assert pod["spec"] == {"securityContext": {"supplementalGroups": [5, 7]}}


def test_explicit_zeros_survive_only_where_they_mean_something() -> None:
    spec = chunk(2, number(1, 0))  # DeploymentSpec.replicas = 0 (a pointer: explicit)
    status = chunk(3, number(2, 0))  # DeploymentStatus.replicas = 0 (always written)
    decoded = decode_object(framed("apps/v1", "Deployment", meta("d") + spec + status))
    assert decoded["spec"] == {"replicas": 0}
    assert "status" not in decoded
    secret = decode_object(framed("v1", "Secret", meta("s") + number(5, 0) + chunk(3, "Opaque")))
    assert (secret["immutable"], secret["type"]) == (False, "Opaque")


@pytest.mark.parametrize(
    ("body", "error", "message"),
    [
        (b'{"kind": "ConfigMap"}', ProtobufError, "prefix"),
        (framed("v1", "ConfigMap", meta("c"))[:-3], ProtobufError, "past the end"),
        (protobuf.MAGIC + b"\x0a\x80", ProtobufError, "truncated varint"),
        (protobuf.MAGIC + b"\x0b", ProtobufError, "wire type 3"),
        (framed("v1", "ConfigMap", meta("c"), chunk(3, "gzip")), ProtobufError, "encoding"),
        (framed("v1", "ConfigMap", meta("c") + entry(2, "k", b"\xff")), ProtobufError, "UTF-8"),
        (framed("image.openshift.io/v1", "ImageStream", meta("i")), UnsupportedKind, "not decoded"),
    ],
    ids=["json", "cut short", "truncated varint", "group", "encoded", "not utf-8", "custom kind"],
)
def test_bodies_it_refuses(body: bytes, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        decode_object(body)


def test_floats_and_doubles() -> None:
    assert protobuf._scalar("double", 1, struct.pack("<d", 1.5)) == 1.5
    assert protobuf._scalar("float", 5, struct.pack("<f", 0.25)) == 0.25


# -- the schema ------------------------------------------------------------------------------

PROTO = """
syntax = "proto2";
package k8s.io.api.example.v1;
import "k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto";
// Widget is a thing.
message Widget {
  // Standard object's metadata.
  optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  repeated Part parts = 2;
  map<string, string> notes = 3;
  optional int64 size = 4;
}
message Part {
  optional string name = 1;
}
"""


def test_the_proto_subset_it_reads() -> None:
    messages = protoschema.parse(PROTO)
    assert messages == {
        "k8s.io.api.example.v1.Widget": {
            "1": ["metadata", "optional", "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"],
            "2": ["parts", "repeated", "k8s.io.api.example.v1.Part"],
            "3": ["notes", "map", "string"],
            "4": ["size", "optional", "int64"],
        },
        "k8s.io.api.example.v1.Part": {"1": ["name", "optional", "string"]},
    }
    assert list(protoschema.reachable(messages, ["k8s.io.api.example.v1.Part"])) == [
        "k8s.io.api.example.v1.Part"
    ]
    with pytest.raises(ValueError, match="ObjectMeta is not in the given files"):
        protoschema.reachable(messages, ["k8s.io.api.example.v1.Widget"])


def test_the_shipped_schema_has_the_upstream_field_numbers() -> None:
    schema: dict[str, Any] = protobuf.schema()
    assert set(schema["roots"]) >= {
        f"v1/{kind}" for kind in ("Namespace", "ConfigMap", "Secret", "ServiceAccount", "Service")
    } | {"apps/v1/Deployment"}
    object_meta = schema["messages"]["k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"]
    assert object_meta["1"][0] == "name" and object_meta["11"] == ["labels", "map", "string"]
    assert schema["messages"]["k8s.io.api.core.v1.Secret"]["2"] == ["data", "map", "bytes"]
    for fields in schema["messages"].values():  # everything a root reaches is there
        for _, _, type_ in fields.values():
            assert type_ in protoschema.SCALARS or type_ in schema["messages"]


# -- the API server --------------------------------------------------------------------------


async def post(raw: RawHTTP, path: str, body: bytes, accept: str) -> tuple[int, Any]:
    headers = {"Content-Type": PB, "Accept": accept}
    async with raw.session.post(raw.base + path, data=body, headers=headers) as response:
        return response.status, await response.json()


async def test_the_server_creates_from_protobuf_and_answers_json(raw: RawHTTP) -> None:
    body = framed("v1", "ConfigMap", meta("from-pb") + entry(2, "k", "v"))
    status, created = await post(raw, "/api/v1/namespaces/default/configmaps", body, f"{PB},*/*")
    assert status == 201
    assert (created["metadata"]["name"], created["data"]) == ("from-pb", {"k": "v"})
    assert created["metadata"]["uid"] and created["metadata"]["namespace"] == "default"


async def test_what_the_server_refuses(raw: RawHTTP) -> None:
    configmaps = "/api/v1/namespaces/default/configmaps"
    body = framed("v1", "ConfigMap", meta("c"))
    status, error = await post(raw, configmaps, body, PB)  # protobuf answers only
    assert (status, error["reason"]) == (406, "NotAcceptable")
    status, error = await post(raw, "/api/v1/namespaces/default/secrets", body, "application/json")
    assert (status, error["reason"]) == (400, "BadRequest")
    assert "v1 ConfigMap, not a v1 Secret" in error["message"]
    status, error = await post(raw, configmaps, body[:-3], "application/json")
    assert (status, error["reason"]) == (400, "BadRequest")
    assert error["message"].startswith("invalid protobuf in request body")
    streams = "/apis/image.openshift.io/v1/namespaces/default/imagestreams"
    stream = framed("image.openshift.io/v1", "ImageStream", meta("i"))
    status, error = await post(raw, streams, stream, "application/json")
    assert (status, error["reason"]) == (415, "UnsupportedMediaType")  # as for any custom kind


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(["ConfigMap", "Service", "Pod"]))
def test_any_bytes_decode_or_fail_as_bad_protobuf(raw: bytes, kind: str) -> None:
    """Whatever a client sends, the answer is an object or a 400, never a server error."""
    for body in (protobuf.MAGIC + raw, framed("v1", kind, raw)):
        try:
            decoded = decode_object(body)
        except ProtobufError:
            continue
        assert isinstance(decoded, dict)


def encode(parts: list[tuple[int, int, Any]]) -> bytes:
    out = b""
    for field, wire, value in parts:
        if wire == 0:
            out += number(field, value)
        elif wire == 2:
            out += chunk(field, value if isinstance(value, bytes) else encode(value))
        else:
            out += varint(field << 3 | wire) + (b"\x00" * (8 if wire == 1 else 4))
    return out


well_formed = st.recursive(
    st.lists(
        st.tuples(
            st.integers(1, 30),
            st.sampled_from([0, 1, 5]),
            st.integers(0, (1 << 64) - 1),
        )
        | st.tuples(st.integers(1, 30), st.just(2), st.binary(max_size=12)),
        max_size=6,
    ),
    lambda inner: st.lists(st.tuples(st.integers(1, 30), st.just(2), inner), max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(well_formed, st.sampled_from(["ConfigMap", "Service", "Pod", "Secret"]))
def test_well_formed_messages_of_any_shape_decode_or_fail_as_bad_protobuf(
    parts: list[tuple[int, int, Any]], kind: str
) -> None:
    try:
        decoded = decode_object(framed("v1", kind, encode(parts)))
    except ProtobufError:
        return
    assert decoded["kind"] == kind
