"""The model servers' REST API, through a real hub from the shipped config and its proxy
(local backend: real ovms processes). Every JSON answer is validated against the service's
OpenAPI document (`Builder.api`).
"""

from __future__ import annotations

import time

import pytest
import requests

from tests.service.svc import PREFIX, Builder

from .cases import save_model

pytestmark = pytest.mark.e2e
SPEC = {"model_name": "affine", "model_path": "/models/affine", "models_volume_claim": "pvc"}


@pytest.fixture(scope="module")
def volumes(builder: Builder) -> None:
    """A model on the volume claim ``pvc`` of the shipped config's local_volumes_dir."""
    save_model(
        builder.hub.state / "model-volumes" / "claims" / "pvc" / "affine" / "1" / "model.xml"
    )


def until_state(builder: Builder, name: str, state: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        view = builder.api("GET", f"/api/modelservers/{name}").json()
        if view["state"] == state:
            return view
        assert time.monotonic() < deadline, view
        time.sleep(0.2)


def names(builder: Builder) -> list[str]:
    return [s["name"] for s in builder.api("GET", "/api/modelservers").json()["modelservers"]]


def test_create_read_scale_and_delete(builder: Builder, volumes: None) -> None:
    body = {
        "apiVersion": "intel.com/v1alpha1",
        "kind": "ModelServer",
        "metadata": {"name": "affine"},
        "spec": SPEC,
    }
    created = builder.api("POST", "/api/modelservers", json=body)
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == f"{PREFIX}api/modelservers/affine"
    view = created.json()
    assert view["creator"] == "admin" and view["mode"] == "local"
    assert view["spec"]["deployment"]["replicas"] == 1
    ready = until_state(builder, "affine", "Available")
    rest = ready["endpoints"]["rest"]
    assert rest.startswith("http://127.0.0.1:")
    assert requests.get(f"{rest}/v2/models/affine/ready", timeout=10).status_code == 200
    assert ready["models"] == [{"name": "affine", "ready": True, "versions": ["1"], "message": ""}]

    scaled = builder.api("PUT", "/api/modelservers/affine/scale", json={"replicas": 0})
    assert scaled.status_code == 200 and scaled.json()["replicas"]["desired"] == 0
    until_state(builder, "affine", "ScaledToZero")
    again = builder.api("POST", "/api/modelservers/affine/scale", json={"replicas": 1})
    assert again.status_code == 200
    until_state(builder, "affine", "Available")

    duplicate = builder.api("POST", "/api/modelservers", json=body)
    assert duplicate.status_code == 409 and "exists already" in duplicate.json()["message"]

    assert builder.api("DELETE", "/api/modelservers/affine").status_code == 204
    assert builder.api("GET", "/api/modelservers/affine").status_code == 404
    assert "affine" not in names(builder)


BAD_SPECS = [
    ({"metadata": {"name": "Bad Name"}, "spec": SPEC}, ["metadata.name 'Bad Name'"]),
    (
        {
            "metadata": {"name": "many"},
            "spec": {
                **SPEC,
                "log_level": "LOUD",
                "grpc_port": 0,
                "rest_port": "x",
                "plugin_config": "{not json",
                "model_version_policy": '{"newest": {}}',
            },
        },
        [
            "spec.log_level",
            "spec.grpc_port",
            "spec.rest_port",
            "spec.plugin_config",
            "spec.model_version_policy",
        ],
    ),
    (
        {"metadata": {"name": "mixed"}, "spec": {"model_path": "s3://b/m", "models_settings": {}}},
        ["spec.model_path is a key of the flat table beside the CRD's groups"],
    ),
    (
        {"metadata": {"name": "inline"}, "spec": {**SPEC, "aws_access_key_id": "AKIA"}},
        ["spec.aws_access_key_id"],
    ),
    (
        {
            "metadata": {"name": "nobody"},
            "spec": {"model_path": "s3://jupyter-x/m", "bucket_claim": "mine"},
        },
        ["spec.bucket_claim 'mine' names no user's bucket in local mode"],
    ),
    (
        {"metadata": {"name": "noclaim"}, "spec": {"model_path": "s3://jupyter-alice/m"}},
        ["name the owner's bucket claim in spec.bucket_claim"],
    ),
    ({"metadata": {"name": "list"}, "spec": [1]}, ["spec must be an object"]),
    ({"spec": SPEC}, ["metadata must be an object with the name"]),
    ({"metadata": {"name": "x"}, "spec": SPEC, "status": {}}, ["unknown keys ['status']"]),
    ([1, 2], ["the body must be a JSON object"]),
]


@pytest.mark.parametrize("body, fragments", BAD_SPECS)
def test_every_invalid_spec_lists_its_problems_and_creates_nothing(
    builder: Builder, body: object, fragments: list[str]
) -> None:
    before = names(builder)
    answer = builder.api("POST", "/api/modelservers", json=body)
    assert answer.status_code == 422, answer.text
    error = answer.json()
    assert error["message"] == "The ModelServer is invalid."
    for fragment in fragments:
        assert any(fragment in p for p in error["problems"]), (fragment, error["problems"])
    assert len(error["problems"]) >= len(fragments)
    assert names(builder) == before


def test_huge_nested_and_mistyped_bodies_are_refused(builder: Builder) -> None:
    before = names(builder)
    huge = builder.api(
        "POST",
        "/api/modelservers",
        data=b"{" + b" " * (70 * 1024) + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert huge.status_code == 413
    nested = builder.api(
        "POST",
        "/api/modelservers",
        data=b"[" * 200 + b"]" * 200,
        headers={"Content-Type": "application/json"},
    )
    assert nested.status_code == 400 and "nested" in nested.json()["message"]
    text = builder.api(
        "POST", "/api/modelservers", data=b"{}", headers={"Content-Type": "text/plain"}
    )
    assert text.status_code == 415
    bad_scale = builder.api("PUT", "/api/modelservers/nothing/scale", json={"replicas": "2"})
    assert bad_scale.status_code == 422
    assert names(builder) == before


def test_a_plain_user_reads_but_cannot_change_anything(builder: Builder, volumes: None) -> None:
    body = {"metadata": {"name": "guarded"}, "spec": SPEC}
    assert builder.api("POST", "/api/modelservers", json=body).status_code == 201
    try:
        listed = builder.api("GET", "/api/modelservers", user="mallory")
        assert listed.status_code == 200 and "guarded" in [
            s["name"] for s in listed.json()["modelservers"]
        ]
        view = builder.api("GET", "/api/modelservers/guarded", user="mallory").json()
        assert set(view["endpoints"]) <= {"rest", "grpc"}  # what a notebook calls
        mine = {
            "metadata": {"name": "mallorys"},
            "spec": {"model_path": "s3://jupyter-alice/m", "bucket_claim": "jupyter-bucket-alice"},
        }
        for method, path, json in (
            ("POST", "/api/modelservers", mine),
            ("DELETE", "/api/modelservers/guarded", None),
            ("PUT", "/api/modelservers/guarded/scale", {"replicas": 0}),
            ("POST", "/api/modelservers/guarded/scale", {"replicas": 0}),
        ):
            answer = builder.api(method, path, user="mallory", json=json)
            assert answer.status_code == 403, (method, path, answer.text)
            assert "custom:model-servers:write" in answer.json()["message"]
        assert "mallorys" not in names(builder)
        assert builder.api("GET", "/api/modelservers/guarded").json()["replicas"]["desired"] == 1
    finally:
        assert builder.api("DELETE", "/api/modelservers/guarded").status_code == 204
