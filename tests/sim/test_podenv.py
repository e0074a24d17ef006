"""Container environment, command line and path translation, resolved like a kubelet."""

from __future__ import annotations

import base64

import pytest
from jupyterhub_ov_sim.ippool import IPPool
from jupyterhub_ov_sim.podenv import (
    PodConfigError,
    command_line,
    container_env,
    expand,
    field_ref,
    translate,
)

POD = {
    "metadata": {
        "name": "jupyter-ann",
        "namespace": "team",
        "uid": "u-1",
        "labels": {"hub.jupyter.org/username": "ann"},
        "annotations": {"note": "x"},
    },
    "spec": {"nodeName": "sim-node", "serviceAccountName": "default"},
    "status": {"podIP": "127.0.0.7", "hostIP": "127.0.0.1"},
}
OBJECTS = {
    ("Secret", "team", "bucket"): {
        "data": {"AWS_SECRET_ACCESS_KEY": base64.b64encode(b"s3cr3t").decode()}
    },
    ("ConfigMap", "team", "bucket"): {"data": {"BUCKET_NAME": "ann-data", "BUCKET_PORT": "443"}},
}


def lookup(kind: str, namespace: str, name: str) -> dict | None:
    return OBJECTS.get((kind, namespace, name))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("$(A)/x", "1/x"),
        ("$(A)$(B)", "12"),
        ("$(MISSING)", "$(MISSING)"),
        ("$$(A)", "$(A)"),
        ("$A", "$A"),
        ("plain", "plain"),
    ],
)
def test_expand(value: str, expected: str) -> None:
    assert expand(value, {"A": "1", "B": "2"}) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("metadata.name", "jupyter-ann"),
        ("metadata.namespace", "team"),
        ("metadata.uid", "u-1"),
        ("metadata.labels['hub.jupyter.org/username']", "ann"),
        ("metadata.annotations['note']", "x"),
        ("metadata.labels['absent']", ""),
        ("spec.nodeName", "sim-node"),
        ("spec.serviceAccountName", "default"),
        ("status.podIP", "127.0.0.7"),
        ("status.hostIP", "127.0.0.1"),
    ],
)
def test_field_ref(path: str, expected: str) -> None:
    assert field_ref(POD, path) == expected


def test_unsupported_field_ref() -> None:
    with pytest.raises(PodConfigError):
        field_ref(POD, "spec.containers")


def test_container_env_resolves_every_source() -> None:
    container = {
        "envFrom": [{"configMapRef": {"name": "bucket"}, "prefix": "CM_"}],
        "env": [
            {"name": "USER_DIR", "value": "/home/$(NB_USER)"},  # NB_USER not defined yet
            {"name": "NB_USER", "value": "jovyan"},
            {"name": "HOME", "value": "/home/$(NB_USER)"},
            {
                "name": "AWS_SECRET_ACCESS_KEY",
                "valueFrom": {"secretKeyRef": {"name": "bucket", "key": "AWS_SECRET_ACCESS_KEY"}},
            },
            {
                "name": "BUCKET",
                "valueFrom": {"configMapKeyRef": {"name": "bucket", "key": "BUCKET_NAME"}},
            },
            {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {
                "name": "OPTIONAL",
                "valueFrom": {"secretKeyRef": {"name": "nope", "key": "k", "optional": True}},
            },
            {"name": "CM_BUCKET_PORT", "value": "8443"},
        ],
    }
    assert container_env(POD, container, lookup) == {
        "CM_BUCKET_NAME": "ann-data",
        "CM_BUCKET_PORT": "8443",
        "USER_DIR": "/home/$(NB_USER)",
        "NB_USER": "jovyan",
        "HOME": "/home/jovyan",
        "AWS_SECRET_ACCESS_KEY": "s3cr3t",
        "BUCKET": "ann-data",
        "POD_IP": "127.0.0.7",
    }


@pytest.mark.parametrize(
    ("var", "message"),
    [
        ({"secretKeyRef": {"name": "nope", "key": "k"}}, 'secret "nope" not found'),
        ({"configMapKeyRef": {"name": "nope", "key": "k"}}, 'configmap "nope" not found'),
        (
            {"secretKeyRef": {"name": "bucket", "key": "k"}},
            "couldn't find key k in Secret team/bucket",
        ),
        (
            {"configMapKeyRef": {"name": "bucket", "key": "k"}},
            "couldn't find key k in ConfigMap team/bucket",
        ),
    ],
)
def test_missing_references_use_the_kubelet_messages(var: dict, message: str) -> None:
    container = {"env": [{"name": "X", "valueFrom": var}]}
    with pytest.raises(PodConfigError) as caught:
        container_env(POD, container, lookup)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("container", "expected"),
    [
        (
            {"command": ["jupyterhub-singleuser"], "args": ["--port=$(PORT)"]},
            ["jupyterhub-singleuser", "--port=8888"],
        ),
        ({"args": ["jupyterhub-singleuser"], "image": "plain"}, ["jupyterhub-singleuser"]),
        ({"args": ["start.sh"], "image": "jupyter/base"}, ["tini", "-g", "--", "start.sh"]),
    ],
)
def test_command_line(container: dict, expected: list[str]) -> None:
    entrypoints = {"jupyter/base": ["tini", "-g", "--"]}
    assert command_line(container, {"PORT": "8888"}, entrypoints) == expected


def test_command_line_needs_a_command() -> None:
    with pytest.raises(PodConfigError):
        command_line({"name": "c", "image": "unknown"}, {}, {})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/home/jovyan", "/srv/pvc-1"),
        ("--notebook-dir=/home/jovyan/work", "--notebook-dir=/srv/pvc-1/work"),
        ("/home/jovyanx", "/local-home/jovyanx"),  # under the /home mount
        ("/homes", "/homes"),
        ("/data/x:/home/jovyan", "/tmp/data/x:/srv/pvc-1"),
        ("http://0.0.0.0:8888/user/ann/", "http://127.0.0.9:8888/user/ann/"),
        ("/srv", "/srv"),
    ],
)
def test_translate(value: str, expected: str) -> None:
    mounts = {"/home/jovyan/": "/srv/pvc-1", "/data": "/tmp/data", "/home": "/local-home"}
    assert translate(value, mounts, "127.0.0.9") == expected


def test_ip_pool_skips_used_and_odd_addresses() -> None:
    pool = IPPool("127.0.0.253")
    assert [pool.allocate() for _ in range(3)] == ["127.0.0.253", "127.0.0.254", "127.0.1.1"]
    pool.release("127.0.0.254")
    assert "127.0.0.254" not in pool.in_use
    assert pool.allocate() == "127.0.1.2"  # no quick reuse


def test_pools_start_apart() -> None:
    starts = {IPPool().allocate() for _ in range(20)}
    assert len(starts) > 1 and all(a.startswith("127.") and a.endswith(".2") for a in starts)
