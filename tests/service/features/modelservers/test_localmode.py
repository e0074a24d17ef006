"""Pure: local mode's command line (the container's, ports and volumes mapped), its rules,
and the view helpers both backends share."""

from __future__ import annotations

import pytest

from jupyterhub_ov.service.features.modelservers import localmode, manifests
from jupyterhub_ov.service.features.modelservers.model import parse_model_server
from jupyterhub_ov.service.features.modelservers.view import (
    ModelReadiness,
    State,
    condition,
    models_from_status,
    scaled_spec,
    state_of,
    unavailable_models,
)

PREFIX = "jupyter-bucket"


def problems(spec: dict, *, s3: bool = True, volumes: str = "/vol") -> list[str]:
    parsed = parse_model_server("demo", spec)
    return localmode.problems(parsed, spec, claim_prefix=PREFIX, s3_enabled=s3, volumes_dir=volumes)


def test_the_command_line_is_the_containers_with_loopback_ports() -> None:
    raw = {
        "model_name": "m",
        "model_path": "s3://jupyter-alice/models/m",
        "bucket_claim": f"{PREFIX}-alice",
    }
    spec = parse_model_server("demo", raw)
    container = manifests.server_args(spec)
    local = localmode.command_line(spec, rest_port=40001, grpc_port=40002)
    assert container[-4:] == ["--port", "8080", "--rest_port", "8081"]
    assert local == [
        *container[:-4],
        "--port",
        "40002",
        "--rest_port",
        "40001",
        "--rest_bind_address",
        "127.0.0.1",
        "--grpc_bind_address",
        "127.0.0.1",
    ]


def test_volume_paths_map_onto_the_volumes_directory() -> None:
    claim = {"model_path": "/models/resnet", "models_volume_claim": "models-pvc"}
    args = localmode.command_line(
        parse_model_server("demo", claim), rest_port=1, grpc_port=2, volumes_dir="/srv/vol/"
    )
    assert args[args.index("--model_path") + 1] == "/srv/vol/claims/models-pvc/resnet"
    config = {"config_configmap_name": "cfg"}
    args = localmode.command_line(
        parse_model_server("demo", config), rest_port=1, grpc_port=2, volumes_dir="/srv/vol"
    )
    assert args[args.index("--config_path") + 1] == "/srv/vol/configmaps/cfg/config.json"


def test_flags_without_values_stay() -> None:
    spec = parse_model_server(
        "demo",
        {
            "models_settings": {"model_path": "/models/m"},
            "models_repository": {"models_volume_claim": "pvc"},
            "monitoring": {"metrics_enable": True},
        },
    )
    args = localmode.command_line(spec, rest_port=1, grpc_port=2, volumes_dir="/v")
    assert "--metrics_enable" in args and args[args.index("--metrics_enable") + 1].startswith("--")


def test_a_good_local_spec_has_no_problems() -> None:
    raw = {"model_path": "s3://jupyter-alice/models/m", "bucket_claim": f"{PREFIX}-alice"}
    assert problems(raw) == []


@pytest.mark.parametrize(
    "raw, wanted",
    [
        (
            {"model_path": "s3://b/m", "aws_secret_name": "creds"},
            [
                "spec.aws_secret_name: local mode has no Kubernetes Secrets",
                "name the owner's bucket claim in spec.bucket_claim",
            ],
        ),
        (
            {"model_path": "s3://b/m"},
            ["is read with its owner's rights: name the owner's bucket claim in spec.bucket_claim"],
        ),
        (
            {"model_path": "s3://b/m", "bucket_claim": "jupyter-bucket-alice---3bc51062"},
            ["names no user's bucket in local mode"],
        ),
        (
            {"model_path": "gs://b/m", "gcp_creds_secret_name": "g"},
            ["spec.gcp_creds_secret_name: local mode", "local mode reads s3://"],
        ),
    ],
)
def test_local_rules_name_every_problem(raw: dict, wanted: list[str]) -> None:
    found = problems(raw)
    assert len(found) == len(wanted), found
    for problem, text in zip(found, wanted, strict=True):
        assert text in problem


def test_any_number_of_replicas_share_one_key() -> None:
    raw = {
        "models_settings": {"model_path": "s3://b/m"},
        "deployment_parameters": {"replicas": 5},
        "models_repository": {"bucket_claim": f"{PREFIX}-alice"},
    }
    assert problems(raw) == []


def test_no_storage_no_volumes() -> None:
    raw = {"model_path": "s3://b/m", "bucket_claim": f"{PREFIX}-alice"}
    assert problems(raw, s3=False) == [
        "spec.bucket_claim: this service has no S3 storage configured"
    ]
    claim = {"model_path": "/models/m", "models_volume_claim": "pvc"}
    assert problems(claim, volumes="") == [
        "a volume claim or config map needs ModelServers.local_volumes_dir in local mode"
    ]


def test_s3_environment_prefers_the_specs_endpoint_and_region() -> None:
    spec = parse_model_server(
        "demo", {"model_path": "s3://b/m", "bucket_claim": "c", "aws_region": "eu-west-1"}
    )
    env = localmode.s3_environment(
        spec, endpoint="http://127.0.0.1:9000", region="us-east-1", key_id="K", secret="S"
    )
    assert env == {
        "S3_ENDPOINT": "http://127.0.0.1:9000",
        "AWS_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "K",
        "AWS_SECRET_ACCESS_KEY": "S",
    }


def test_scaling_keeps_the_specs_shape() -> None:
    flat = {"model_path": "s3://b/m", "replicas": 1}
    nested = {"models_settings": {"model_path": "s3://b/m"}}
    assert scaled_spec(flat, 2) == {"model_path": "s3://b/m", "replicas": 2}
    assert scaled_spec(nested, 0) == {**nested, "deployment_parameters": {"replicas": 0}}
    assert flat["replicas"] == 1 and "deployment_parameters" not in nested  # copies
    assert parse_model_server("x", scaled_spec(nested, 0)).deployment.replicas == 0


def test_the_state_from_conditions() -> None:
    def of(available: bool, progressing: bool, degraded: bool) -> tuple:
        return (
            condition("Available", available, "r"),
            condition("Progressing", progressing, "r"),
            condition("Degraded", degraded, "r"),
        )

    assert state_of(of(True, False, False), 1) is State.AVAILABLE
    assert state_of(of(True, True, False), 2) is State.PROGRESSING
    assert state_of(of(True, False, True), 1) is State.DEGRADED
    assert state_of(of(False, False, False), 0) is State.SCALED_TO_ZERO
    assert state_of((), 1) is State.PROGRESSING


def test_models_without_an_available_version() -> None:
    models = (
        ModelReadiness("a", True, ("1",), "version 2: LOADING"),
        ModelReadiness("b", False, (), "the model path: PATH_INVALID: s3://b/m"),
    )
    assert unavailable_models(models) == ["b"]


def test_models_from_the_reconcilers_status() -> None:
    raw = [
        {"name": "a", "ready": True, "versions": ["1", "2"]},
        {"name": "b", "ready": False, "versions": [], "message": "the model path: X"},
        "junk",
        {"ready": True},
    ]
    assert models_from_status(raw) == (
        ModelReadiness("a", True, ("1", "2")),
        ModelReadiness("b", False, (), "the model path: X"),
    )
    assert models_from_status(None) == ()
