"""The local model server's command line and config file: every argument list our manifests
produce is accepted, what OVMS refuses is refused with a clear message."""

from __future__ import annotations

import json

import pytest

from jupyterhub_ov.ovms.config import (
    ConfigError,
    ModelConfig,
    ServerConfig,
    VersionPolicy,
    parse_args,
    parse_config_file,
    parse_policy,
)
from jupyterhub_ov.service.features.modelservers import manifests
from jupyterhub_ov.service.features.modelservers.model import parse_model_server
from tests.service.features.modelservers.test_manifests import ALL


def args_of(case: str) -> list[str]:
    deployment = manifests.deployment(ALL[case], namespace="ml")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    args: list[str] = container["args"]
    return args


@pytest.mark.parametrize("case", sorted(set(ALL) - {"gcs"}))
def test_every_command_line_of_the_manifests_is_accepted(case: str) -> None:
    config = parse_args(args_of(case))
    assert (config.port, config.rest_port) == (8080, 8081)
    assert (config.rest_bind_address, config.grpc_bind_address) == ("0.0.0.0", "0.0.0.0")
    if ALL[case].models.single_model_mode:
        (model,) = config.models
        assert (model.name, model.base_path) == (
            ALL[case].models.model_name,
            ALL[case].models.model_path,
        )
    else:
        assert (config.models, config.config_path) == ((), "/config/config.json")


def test_a_gcs_path_of_the_manifests_is_refused_as_unsupported() -> None:
    with pytest.raises(ConfigError, match="gs:// paths are not supported by this model server"):
        parse_args(args_of("gcs"))


def test_all_model_settings_of_a_spec_are_read() -> None:
    spec = parse_model_server(
        "demo",
        {
            "models_settings": {
                "model_path": "s3://bucket/models/tiny",
                "model_name": "tiny",
                "nireq": 2,
                "batch_size": "4",
                "layout": "NC",
                "shape": "(1,3)",
                "plugin_config": {"PERFORMANCE_HINT": "THROUGHPUT"},
                "model_version_policy": {"specific": {"versions": [3, 1]}},
            },
            "server_settings": {"file_system_poll_wait_seconds": 0, "log_level": "DEBUG"},
            "monitoring": {"metrics_enable": True, "metrics_list": "ovms_requests_success"},
        },
    )
    config = parse_args(manifests.server_args(spec))
    assert config == ServerConfig(
        models=(
            ModelConfig(
                name="tiny",
                base_path="s3://bucket/models/tiny",
                target_device="CPU",
                nireq=2,
                plugin_config={"PERFORMANCE_HINT": "THROUGHPUT"},
                batch_size="4",
                layout="NC",
                shape="(1,3)",
                policy=VersionPolicy("specific", versions=(1, 3)),
            ),
        ),
        log_level="DEBUG",
        file_system_poll_wait_seconds=0,
        port=8080,
        rest_port=8081,
        metrics_enable=True,
        metrics_list=("ovms_requests_success",),
    )


BASE = ["--model_path", "/models/m", "--model_name", "m"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [*BASE, "--sequence_cleaner_poll_wait_minutes", "0"],
            "error parsing options - unmatched arguments : --sequence_cleaner_poll_wait_minutes 0",
        ),
        ([*BASE, "extra"], "unmatched arguments : extra"),
        (["--config_path", "/c.json", "--nireq", "2"], r"--config_path excludes .*--nireq"),
        (["--model_path", "/models/m"], "--model_path and --model_name"),
        ([*BASE, "--port", "9000", "--rest_port", "9000"], "must differ"),
        ([*BASE, "--port", "x"], "--port must be an integer, not 'x'"),
        ([*BASE, "--port"], "option '--port' needs a value"),
        ([*BASE, "--log_level", "LOUD"], "--log_level must be one of"),
        ([*BASE, "--plugin_config", "{nope"], "--plugin_config is not valid JSON"),
        ([*BASE, "--plugin_config", "[1]"], "--plugin_config must be a JSON object"),
        ([*BASE, "--model_version_policy", '{"newest": {}}'], "not one OVMS knows"),
        ([*BASE, "--metrics_list", "a"], "--metrics_list needs --metrics_enable"),
        ([*BASE, "--rest_workers", "1"], "--rest_workers must be at least 2"),
        (["--model_path", "az://c/m", "--model_name", "m"], "az:// paths are not supported"),
        (["--model_path", "s3:///m", "--model_name", "m"], "names no bucket"),
        (["--model_path", "/m", "--model_name", "a/b"], "the model name 'a/b' is not valid"),
    ],
)
def test_what_ovms_refuses_is_refused(args: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_args(args)


def test_bind_addresses_and_inline_values() -> None:
    config = parse_args(
        [*BASE, "--rest_bind_address=127.0.0.5", "--grpc_bind_address", "127.0.0.6", "--port=1"]
    )
    assert (config.rest_bind_address, config.grpc_bind_address, config.port) == (
        "127.0.0.5",
        "127.0.0.6",
        1,
    )
    assert config.rest_port == 0  # OVMS's default: no REST


@pytest.mark.parametrize(
    ("policy", "available", "served"),
    [
        ({"latest": {"num_versions": 1}}, [1, 3, 2], [3]),
        ({"latest": {"num_versions": 2}}, [1, 3, 2], [2, 3]),
        ({"latest": {}}, [5], [5]),
        ({"all": {}}, [2, 1], [1, 2]),
        ({"specific": {"versions": [1, 4]}}, [1, 2, 3], [1]),
        ({"specific": {"versions": [4]}}, [1], []),
        ({"latest": {"num_versions": 1}}, [], []),
    ],
)
def test_version_policies_select(
    policy: dict[str, object], available: list[int], served: list[int]
) -> None:
    assert parse_policy(policy).select(available) == served


@pytest.mark.parametrize(
    "policy",
    [
        {"latest": {"num_versions": 0}},
        {"specific": {"versions": []}},
        {"specific": {"versions": ["1"]}},
        {"all": {"x": 1}},
        {"all": {}, "latest": {}},
        [],
    ],
)
def test_invalid_policies_are_refused(policy: object) -> None:
    with pytest.raises(ConfigError):
        parse_policy(policy)


def test_a_config_file_with_two_models() -> None:
    doc = {
        "model_config_list": [
            {"config": {"name": "a", "base_path": "/models/a"}},
            {
                "config": {
                    "name": "b",
                    "base_path": "s3://bucket/b",
                    "batch_size": 2,
                    "shape": "(2,3)",
                    "model_version_policy": {"all": {}},
                }
            },
        ]
    }
    assert parse_config_file(json.dumps(doc)) == (
        ModelConfig(name="a", base_path="/models/a"),
        ModelConfig(
            name="b",
            base_path="s3://bucket/b",
            batch_size="2",
            shape="(2,3)",
            policy=VersionPolicy("all"),
        ),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ("[]", "has no model_config_list"),
        ('{"model_config_list": [{"nope": {}}]}', r"model_config_list\[0\] has no config"),
        ('{"model_config_list": [{"config": {"name": "a"}}]}', "base_path must be a string"),
        (
            '{"model_config_list": [{"config": {"name": "a", "base_path": "/a"}},'
            ' {"config": {"name": "a", "base_path": "/b"}}]}',
            "the model names a are used twice",
        ),
        ("[" * 100000 + "]" * 100000, "not valid JSON"),
    ],
)
def test_a_bad_config_file_is_refused(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config_file(text, where="/config/config.json")
