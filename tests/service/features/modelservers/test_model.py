"""The ModelServer spec: both shapes of one server give one typed spec; every invalid spec gets
all its messages at once, each naming its field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jupyterhub_ov.errors import Invalid
from jupyterhub_ov.service.features.modelservers.model import (
    InvalidModelServer,
    parse_model_server,
)
from jupyterhub_ov.service.features.modelservers.spec import (
    DEFAULT_IMAGE,
    DeploymentParams,
    ModelServerSpec,
    ModelsRepository,
    ModelsSettings,
    Monitoring,
    Resources,
    ServerSettings,
    ServiceParams,
    VersionPolicy,
)

S3 = "s3://alice-bucket/models/demo"


def problems(name: str, spec: Any) -> list[str]:
    with pytest.raises(InvalidModelServer) as caught:
        parse_model_server(name, spec)
    return caught.value.problems


# (flat table, CRD groups) of the same server
SAME_SERVER = {
    "s3 in the owner's bucket": (
        {
            "image_name": "quay.io/org/ovms:2026.4.1",
            "replicas": 2,
            "resources": {"cpu": "2", "memory": "1Gi"},
            "model_name": "demo",
            "model_path": S3,
            "model_version_policy": '{"specific": {"versions": [1, 3]}}',
            "plugin_config": {"PERFORMANCE_HINT": "THROUGHPUT"},
            "batch_size": 4,
            "file_system_poll_wait_seconds": 5,
            "log_level": "DEBUG",
            "grpc_port": 9000,
            "rest_port": 9001,
            "bucket_claim": "alice-bucket",
            "aws_region": "us-east-1",
            "https_proxy": "http://proxy.corp:3128",
        },
        {
            "image_name": "quay.io/org/ovms:2026.4.1",
            "deployment_parameters": {
                "replicas": 2,
                "resources": {"limits": {"cpu": "2", "memory": "1Gi"}},
            },
            "service_parameters": {"grpc_port": 9000, "rest_port": 9001},
            "models_settings": {
                "single_model_mode": True,
                "model_name": "demo",
                "model_path": S3,
                "model_version_policy": {"specific": {"versions": [1, 3]}},
                "plugin_config": '{"PERFORMANCE_HINT": "THROUGHPUT"}',
                "batch_size": "4",
            },
            "server_settings": {"file_system_poll_wait_seconds": 5, "log_level": "DEBUG"},
            "models_repository": {
                "storage_type": "S3",
                "bucket_claim": "alice-bucket",
                "aws_region": "us-east-1",
                "https_proxy": "http://proxy.corp:3128",
            },
        },
    ),
    "a volume claim": (
        {"model_path": "/models/resnet", "models_volume_claim": "models-pvc", "replicas": 0},
        {
            "deployment_parameters": {"replicas": 0},
            "models_settings": {"model_path": "/models/resnet"},
            "models_repository": {"storage_type": "cluster", "models_volume_claim": "models-pvc"},
        },
    ),
    "limits and requests": (
        {
            "model_path": S3,
            "resources": {"limits": {"cpu": 1, "memory": "2Gi"}, "requests": {"cpu": 0.5}},
        },
        {
            "models_settings": {"model_path": S3},
            "deployment_parameters": {
                "resources": {"limits": {"cpu": "1", "memory": "2Gi"}, "requests": {"cpu": "0.5"}}
            },
        },
    ),
    "a config map": (
        {"config_configmap_name": "ovms-config", "log_level": "ERROR"},
        {
            "models_settings": {"single_model_mode": False, "config_configmap_name": "ovms-config"},
            "server_settings": {"log_level": "ERROR"},
        },
    ),
    "a config file on the claim": (
        {"config_path": "/models/config.json", "models_volume_claim": "models-pvc"},
        {
            "models_settings": {"single_model_mode": False, "config_path": "/models/config.json"},
            "models_repository": {"models_volume_claim": "models-pvc"},
        },
    ),
}


@pytest.mark.parametrize("case", SAME_SERVER)
def test_both_shapes_normalise_to_the_same_spec(case: str) -> None:
    flat, nested = SAME_SERVER[case]
    assert parse_model_server("demo", flat) == parse_model_server("demo", nested)


def test_the_s3_server_in_full() -> None:
    flat, _ = SAME_SERVER["s3 in the owner's bucket"]
    assert parse_model_server("demo", flat) == ModelServerSpec(
        name="demo",
        image_name="quay.io/org/ovms:2026.4.1",
        deployment=DeploymentParams(
            replicas=2, resources=Resources(limits=(("cpu", "2"), ("memory", "1Gi")))
        ),
        service=ServiceParams(grpc_port=9000, rest_port=9001),
        models=ModelsSettings(
            model_name="demo",
            model_path=S3,
            target_device="CPU",
            batch_size="4",
            plugin_config={"PERFORMANCE_HINT": "THROUGHPUT"},
            model_version_policy=VersionPolicy("specific", (1, 3)),
        ),
        server=ServerSettings(file_system_poll_wait_seconds=5, log_level="DEBUG"),
        repository=ModelsRepository(
            bucket_claim="alice-bucket",
            aws_region="us-east-1",
            https_proxy="http://proxy.corp:3128",
        ),
    )


def test_the_operators_defaults_fill_what_is_left_out() -> None:
    spec = parse_model_server("resnet-ovms", {"models_settings": {"model_path": "gs://b/m"}})
    assert spec.object_name == "resnet-ovms"
    assert spec == ModelServerSpec(
        name="resnet-ovms",
        image_name=DEFAULT_IMAGE,
        deployment=DeploymentParams(replicas=1, openshift_service_mesh=False),
        service=ServiceParams(grpc_port=8080, rest_port=8081, service_type="ClusterIP"),
        models=ModelsSettings(
            single_model_mode=True,
            model_name="resnet",
            model_path="gs://b/m",
            target_device="CPU",
            plugin_config={"PERFORMANCE_HINT": "LATENCY"},
            model_version_policy=VersionPolicy("latest", (1,)),
        ),
        server=ServerSettings(
            file_system_poll_wait_seconds=1, log_level="INFO", grpc_workers=1, rest_workers=0
        ),
        repository=ModelsRepository(),
        monitoring=Monitoring(metrics_enable=False, metrics_list=""),
    )
    assert not DEFAULT_IMAGE.endswith(":latest") and ":" in DEFAULT_IMAGE
    assert parse_model_server("demo", {"model_path": "gs://b/m"}).object_name == "demo-ovms"


# the operator's sample (config/samples/intel_v1alpha1_ovms.yaml), as the API server stores it
SAMPLE: dict[str, Any] = {
    "image_name": "openvino/model_server:latest",
    "deployment_parameters": {
        "replicas": 1,
        "openshift_service_mesh": False,
        "resources": {
            "limits": {"cpu": "1", "memory": "400Mi"},
            "requests": {"cpu": "1", "memory": "400Mi"},
        },
    },
    "models_settings": {
        "single_model_mode": True,
        "config_configmap_name": "",
        "config_path": "",
        "model_name": "resnet",
        "model_path": "gs://<bucket_name>/<model_dir>",
        "nireq": 0,
        "plugin_config": '{"PERFORMANCE_HINT":"LATENCY"}',
        "batch_size": "",
        "shape": "",
        "model_version_policy": '{"latest": {"num_versions":1 }}',
        "layout": "",
        "target_device": "CPU",
        "is_stateful": False,
        "idle_sequence_cleanup": False,
        "low_latency_transformation": True,
        "max_sequence_number": 0,
    },
    "server_settings": {
        "file_system_poll_wait_seconds": 0,
        "sequence_cleaner_poll_wait_minutes": 0,
        "log_level": "INFO",
    },
    "service_parameters": {"grpc_port": 8080, "rest_port": 8081, "service_type": "ClusterIP"},
    "models_repository": {"storage_type": "google"},
}


def test_the_operators_sample_needs_only_a_real_model_path() -> None:
    assert problems("ovms-sample", SAMPLE) == [
        "spec.models_settings.model_path 'gs://<bucket_name>/<model_dir>' is the CRD's"
        " placeholder: give the model's path (s3://, gs://, az:// or a path under /models)"
    ]
    real = {**SAMPLE, "models_settings": {**SAMPLE["models_settings"], "model_path": "gs://b/m"}}
    spec = parse_model_server("ovms-sample", real)
    assert spec.models.model_path == "gs://b/m" and spec.server.file_system_poll_wait_seconds == 0
    assert spec.deployment.resources == Resources(
        limits=(("cpu", "1"), ("memory", "400Mi")), requests=(("cpu", "1"), ("memory", "400Mi"))
    )


def test_config_mode_ignores_what_the_crd_fills_in() -> None:
    settings = {**SAMPLE["models_settings"], "single_model_mode": False}
    settings["config_configmap_name"] = "ovms-config"
    spec = parse_model_server("ovms-sample", {**SAMPLE, "models_settings": settings})
    assert spec.models == ModelsSettings(
        single_model_mode=False,
        config_configmap_name="ovms-config",
        config_path="/config/config.json",
    )


INVALID: dict[str, tuple[str, Any, list[str]]] = {
    "ports out of range, an unknown service type": (
        "demo",
        {
            "models_settings": {"model_path": S3},
            "service_parameters": {"grpc_port": 0, "rest_port": 70000, "service_type": "Ingress"},
        },
        [
            "spec.service_parameters.grpc_port must be an integer 1-65535, not 0",
            "spec.service_parameters.rest_port must be an integer 1-65535, not 70000",
            "spec.service_parameters.service_type 'Ingress' must be one of ClusterIP, NodePort,"
            " LoadBalancer",
        ],
    ),
    "one port for both": (
        "demo",
        {"model_path": S3, "grpc_port": 9000, "rest_port": 9000},
        ["spec.grpc_port and spec.rest_port are both 9000: the Service needs two different ports"],
    ),
    "ports of the wrong type": (
        "demo",
        {"model_path": S3, "rest_port": True, "grpc_port": "8080"},
        [
            "spec.grpc_port must be an integer 1-65535, not '8080'",
            "spec.rest_port must be an integer 1-65535, not True",
        ],
    ),
    "server settings": (
        "demo",
        {
            "models_settings": {"model_path": S3},
            "server_settings": {
                "log_level": "info",
                "file_system_poll_wait_seconds": -1,
                "grpc_workers": 0,
                "rest_workers": 1,
            },
        },
        [
            "spec.server_settings.rest_workers must be 2 or more (or 0: OVMS chooses), not 1",
            "spec.server_settings.file_system_poll_wait_seconds must be an integer 0 or more,"
            " not -1",
            "spec.server_settings.log_level 'info' must be one of TRACE, DEBUG, INFO, WARNING,"
            " ERROR",
            "spec.server_settings.grpc_workers must be an integer 1 or more, not 0",
        ],
    ),
    "broken JSON": (
        "demo",
        {"model_path": S3, "plugin_config": "{not json", "model_version_policy": '{"newest": {}}'},
        [
            'spec.model_version_policy must be one of {"all": {}}, {"specific": {"versions":'
            ' [1, 3]}} or {"latest": {"num_versions": 1}}',
            "spec.plugin_config is not valid JSON (Expecting property name enclosed in double"
            " quotes: line 1 column 2 (char 1))",
        ],
    ),
    "JSON of the wrong shape": (
        "demo",
        {
            "model_path": S3,
            "plugin_config": ["a"],
            "model_version_policy": {"specific": {"versions": []}},
        },
        [
            "spec.model_version_policy: specific.versions must be positive whole numbers"
            ' ({"all": {}}, {"specific": {"versions": [1, 3]}} or {"latest": {"num_versions":'
            " 1}})",
            "spec.plugin_config must be a JSON object",
        ],
    ),
    "JSON with wrong values": (
        "demo",
        {
            "model_path": S3,
            "plugin_config": {"A": {"b": 1}},
            "model_version_policy": {"latest": {"num_versions": 0}},
        },
        [
            "spec.model_version_policy: latest.num_versions must be a positive whole number"
            ' ({"all": {}}, {"specific": {"versions": [1, 3]}} or {"latest": {"num_versions":'
            " 1}})",
            "spec.plugin_config: the values of A must be strings or numbers",
        ],
    ),
    "a policy with keys it does not take": (
        "demo",
        {"model_path": S3, "model_version_policy": {"all": {"x": 1}}},
        [
            'spec.model_version_policy: \'all\' takes no keys ({"all": {}}, {"specific":'
            ' {"versions": [1, 3]}} or {"latest": {"num_versions": 1}})'
        ],
    ),
    "single-model settings in config mode": (
        "demo",
        {
            "models_settings": {
                "single_model_mode": False,
                "model_path": S3,
                "config_configmap_name": "cfg",
                "nireq": 4,
                "target_device": "GPU",
                "model_version_policy": '{"latest": {"num_versions": 2}}',
                "model_name": "resnet",
            }
        },
        [
            "spec.models_settings.model_path is a single-model setting, which OVMS refuses"
            " beside a config file (spec.models_settings.config_configmap_name): set it per"
            " model in the config file",
            "spec.models_settings.nireq is a single-model setting, which OVMS refuses beside a"
            " config file (spec.models_settings.config_configmap_name): set it per model in the"
            " config file",
        ]
        + [
            f"spec.models_settings.{key} is a single-model setting, which OVMS refuses beside a"
            " config file (spec.models_settings.config_configmap_name): set it per model in the"
            " config file"
            for key in ("target_device", "model_version_policy")
        ],
    ),
    "a config map in single-model mode": (
        "demo",
        {"models_settings": {"model_path": S3, "config_configmap_name": "cfg"}},
        [
            "spec.models_settings.config_configmap_name names a config file, which single-model"
            " mode does not read: set spec.models_settings.single_model_mode to false to serve"
            " the file's models"
        ],
    ),
    "config mode without a config file": (
        "demo",
        {"models_settings": {"single_model_mode": False}},
        [
            "a config file is needed without single-model mode: name a config map in"
            " spec.models_settings.config_configmap_name or give"
            " spec.models_settings.config_path on the volume claim"
        ],
    ),
    "no model (nested)": (
        "demo",
        {"models_settings": {}},
        [
            "spec.models_settings.model_path is required to serve one model (or give"
            " spec.models_settings.single_model_mode: false and a config map or config_path)"
        ],
    ),
    "no model (flat)": (
        "demo",
        {"log_level": "INFO"},
        [
            "spec.model_path is required to serve one model (or give spec.config_configmap_name"
            " or spec.config_path)"
        ],
    ),
    "a model and a config file (flat)": (
        "demo",
        {"model_path": S3, "config_configmap_name": "cfg"},
        [
            "spec.model_path is a single-model setting, which OVMS refuses beside a config file"
            " (spec.config_configmap_name): set it per model in the config file"
        ],
    ),
    "an unknown scheme": (
        "demo",
        {"model_path": "https://example.com/m"},
        [
            "spec.model_path 'https://example.com/m': unknown storage scheme 'https://' (use"
            " s3://, gs://, az://, azfs:// or a path under /models on"
            " spec.models_repository.models_volume_claim)"
        ],
    ),
    "no bucket": (
        "demo",
        {"model_path": "s3:///no-bucket"},
        ["spec.model_path 's3:///no-bucket' must name a bucket: s3://<bucket>/<path>"],
    ),
    "a relative path": (
        "demo",
        {"model_path": "models/demo", "models_volume_claim": "pvc"},
        ["spec.model_path 'models/demo' must be an absolute path under /models without '..'"],
    ),
    "a path leaving /models": (
        "demo",
        {"model_path": "/data/../models/x", "models_volume_claim": "pvc"},
        ["spec.model_path '/data/../models/x' must be an absolute path under /models without '..'"],
    ),
    "a local path without a claim": (
        "demo",
        {"model_path": "/models/demo"},
        [
            "spec.model_path '/models/demo' is a local path: name the PersistentVolumeClaim"
            " that holds it in spec.models_volume_claim"
        ],
    ),
    "a claim for a cloud path": (
        "demo",
        {"model_path": S3, "models_volume_claim": "pvc"},
        [
            "spec.models_volume_claim is mounted at /models for a local model path, but"
            f" spec.model_path is {S3!r}"
        ],
    ),
    "typos (flat)": (
        "demo",
        {"model_path": S3, "modle_name": "x", "deployment_parameters": {}},
        [
            "spec.model_path is a key of the flat table beside the CRD's groups: write it as"
            " spec.models_settings.model_path (or the whole spec flat)",
            "spec: unknown keys modle_name",
        ],
    ),
    "typos (nested)": (
        "demo",
        {
            "models_settings": {"model_path": S3, "modelname": "x"},
            "server_setings": {},
            "deployment_parameters": {
                "replica": 2,
                "resources": {"limits": {"cpus": "1"}, "request": {}},
            },
        },
        [
            "spec: unknown keys server_setings",
            "spec.deployment_parameters: unknown keys replica",
            "spec.models_settings: unknown keys modelname",
            "spec.deployment_parameters.resources: unknown keys request",
            "spec.deployment_parameters.resources.limits: unknown keys cpus",
        ],
    ),
    "wrong types": (
        "demo",
        {
            "models_settings": "x",
            "deployment_parameters": {
                "replicas": "2",
                "openshift_service_mesh": "yes",
                "node_affinity": [1],
            },
            "monitoring": {"metrics_enable": 1},
        },
        [
            "spec.models_settings must be an object",
            "spec.deployment_parameters.replicas must be an integer 0 or more, not '2'",
            "spec.deployment_parameters.openshift_service_mesh must be true or false, not 'yes'",
            "spec.deployment_parameters.node_affinity must be an object",
            "spec.models_settings.model_path is required to serve one model (or give"
            " spec.models_settings.single_model_mode: false and a config map or config_path)",
            "spec.monitoring.metrics_enable must be true or false, not 1",
        ],
    ),
    "negative numbers": (
        "demo",
        {
            "model_path": S3,
            "replicas": -1,
            "batch_size": -2,
            "nireq": -1,
            "file_system_poll_wait_seconds": -5,
        },
        [
            "spec.replicas must be an integer 0 or more, not -1",
            "spec.batch_size must be a positive whole number or 'auto', not -2",
            "spec.nireq must be an integer 0 or more, not -1",
            "spec.file_system_poll_wait_seconds must be an integer 0 or more, not -5",
        ],
    ),
    "a batch of zero": (
        "demo",
        {"model_path": S3, "batch_size": "0"},
        ["spec.batch_size must be a positive whole number or 'auto', not '0'"],
    ),
    # str.isdigit admits these: '²' made int() raise (a 500, found by reliability/fuzzing.py)
    # and '１' was read as 1 but passed on as written
    "digits that are not ASCII": (
        "demo",
        {
            "models_settings": {"model_path": S3, "batch_size": "²"},
            "models_repository": {"runAsUser": "１", "runAsGroup": "²"},
        },
        [
            "spec.models_settings.batch_size must be a positive whole number or 'auto', not '²'",
            "spec.models_repository.runAsUser must be an integer 1 or more, not '１'",
            "spec.models_repository.runAsGroup must be an integer 0 or more, not '²'",
        ],
    ),
    "quantities (flat)": (
        "demo",
        {"model_path": S3, "resources": {"cpu": "-1", "memory": "1.5GB"}},
        [
            "spec.resources.cpu '-1' is not a Kubernetes quantity (such as 500m, 2, 1.5Gi or"
            " 512Mi)",
            "spec.resources.memory '1.5GB' is not a Kubernetes quantity (such as 500m, 2, 1.5Gi"
            " or 512Mi)",
        ],
    ),
    "quantities (flat, as limits and requests)": (
        "demo",
        {"model_path": S3, "resources": {"limits": {"cpu": "x"}, "request": {}}},
        [
            "spec.resources: unknown keys request",
            "spec.resources.limits.cpu 'x' is not a Kubernetes quantity (such as 500m, 2, 1.5Gi"
            " or 512Mi)",
        ],
    ),
    "quantities and devices (nested)": (
        "demo",
        {
            "models_settings": {"model_path": S3},
            "deployment_parameters": {
                "resources": {
                    "limits": {
                        "cpu": True,
                        "memory": "12Gi",
                        "xpu_device": "not a name!",
                        "xpu_device_quantity": "0",
                    },
                    "requests": {"cpu": "0.5", "xpu_device": "gpu.intel.com/i915"},
                }
            },
        },
        [
            "spec.deployment_parameters.resources.limits.cpu True is not a Kubernetes quantity"
            " (such as 500m, 2, 1.5Gi or 512Mi)",
            "spec.deployment_parameters.resources.limits.xpu_device 'not a name!' must be a"
            " device plugin's resource name such as gpu.intel.com/i915",
        ],
    ),
    "inline S3 keys (flat)": (
        "demo",
        {
            "model_path": S3,
            "aws_access_key_id": "AKIAEXAMPLE",
            "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG",
            "aws_region": "us-east-1",
        },
        [
            f"spec.{key}: credentials are never written into a ModelServer: store"
            " AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in a Secret and name it in"
            " spec.aws_secret_name, or name the owner's ObjectBucketClaim in spec.bucket_claim"
            for key in ("aws_access_key_id", "aws_secret_access_key")
        ],
    ),
    "inline credentials and a host path (nested)": (
        "demo",
        {
            "models_settings": {"model_path": "az://c/m"},
            "models_repository": {
                "aws_secret_access_key": "s3cr3t",
                "azure_storage_connection_string": "AccountKey=s3cr3t",
                "models_host_path": "/mnt/models",
            },
        },
        [
            "spec.models_repository.aws_secret_access_key: credentials are never written into a"
            " ModelServer: store AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in a Secret and"
            " name it in spec.models_repository.aws_secret_name, or name the owner's"
            " ObjectBucketClaim in spec.models_repository.bucket_claim",
            "spec.models_repository.azure_storage_connection_string: credentials are never"
            " written into a ModelServer: store AZURE_STORAGE_CONNECTION_STRING in a Secret and"
            " name it in spec.deployment_parameters.extra_envs_secret",
            "spec.models_repository.models_host_path: host paths are not allowed (restricted-v2"
            " forbids hostPath volumes); put the models on a PersistentVolumeClaim and name it"
            " in spec.models_repository.models_volume_claim",
        ],
    ),
    "stateful settings OVMS removed": (
        "demo",
        {
            "models_settings": {"model_path": S3, "is_stateful": True, "max_sequence_number": -1},
            "server_settings": {"sequence_cleaner_poll_wait_minutes": "5"},
        },
        [
            "spec.models_settings.is_stateful: stateful models were removed from OpenVINO Model"
            " Server in 2026.3 (its --stateful options are gone); serve a stateless model",
            "spec.models_settings.max_sequence_number must be an integer 0 or more, not -1",
            "spec.server_settings.sequence_cleaner_poll_wait_minutes must be an integer 0 or"
            " more, not '5'",
        ],
    ),
    "the old chart's stateful switch": (
        "demo",
        {"model_path": S3, "stateful": "1"},
        [
            "spec.stateful: stateful models were removed from OpenVINO Model Server in 2026.3"
            " (its --stateful options are gone); serve a stateless model"
        ],
    ),
    "a name that is no DNS label": (
        "Demo_1",
        {"model_path": S3},
        [
            "metadata.name 'Demo_1' must be a DNS-1035 label of at most 58 characters (lowercase"
            " letters, digits and '-', starting with a letter and ending with a letter or"
            " digit): the Deployment and Service are named <name>-ovms"
        ],
    ),
    "a name without room for -ovms": (
        "a" * 59,
        {"model_path": S3},
        [
            f"metadata.name {'a' * 59!r} must be a DNS-1035 label of at most 58 characters"
            " (lowercase letters, digits and '-', starting with a letter and ending with a"
            " letter or digit): the Deployment and Service are named <name>-ovms"
        ],
    ),
    "no name": ("", {"model_path": S3}, ["metadata.name is required"]),
    "bad object names": (
        "demo",
        {"config_configmap_name": "Bad_Name", "models_volume_claim": "-pvc"},
        [
            "spec.config_configmap_name 'Bad_Name' must be a Kubernetes object name (lowercase"
            " letters, digits, '-' and '.', starting and ending with a letter or digit)",
            "spec.models_volume_claim '-pvc' must be a Kubernetes object name (lowercase"
            " letters, digits, '-' and '.', starting and ending with a letter or digit)",
        ],
    ),
    "credentials for another storage": (
        "demo",
        {
            "models_settings": {"model_path": "gs://b/m"},
            "models_repository": {
                "aws_secret_name": "s",
                "bucket_claim": "c",
                "gcp_creds_secret_name": "g2",
                "storage_type": "s3",
            },
        },
        [
            "spec.models_repository.storage_type 's3' must be one of S3, google, azure, cluster",
            "spec.models_repository.aws_secret_name and spec.models_repository.bucket_claim both"
            " give S3 credentials: name one",
            "spec.models_repository.aws_secret_name gives S3 credentials, but"
            " spec.models_settings.model_path 'gs://b/m' is not s3://",
            "spec.models_repository.bucket_claim gives S3 credentials, but"
            " spec.models_settings.model_path 'gs://b/m' is not s3://",
        ],
    ),
    "GCS credentials for S3": (
        "demo",
        {
            "models_settings": {"model_path": S3},
            "models_repository": {"gcp_creds_secret_name": "g"},
        },
        [
            "spec.models_repository.gcp_creds_secret_name gives Google Cloud Storage"
            f" credentials, but spec.models_settings.model_path {S3!r} is not gs://"
        ],
    ),
    "proxies, endpoint, region and ids": (
        "demo",
        {
            "models_settings": {"model_path": S3},
            "models_repository": {
                "https_proxy": "http://user:pw@proxy:3128",
                "http_proxy": "ftp://proxy",
                "s3_compat_api_endpoint": "minio:9000",
                "aws_region": "EU WEST",
                "runAsUser": 0,
                "runAsGroup": "-1",
            },
        },
        [
            "spec.models_repository.runAsUser must be an integer 1 or more, not 0",
            "spec.models_repository.runAsGroup must be an integer 0 or more, not '-1'",
            "spec.models_repository.aws_region 'EU WEST' must be a region name such as us-east-1",
            "spec.models_repository.s3_compat_api_endpoint 'minio:9000' must be an http:// or"
            " https:// URL",
            "spec.models_repository.http_proxy 'ftp://proxy' must be an http:// or https:// URL",
            "spec.models_repository.https_proxy must not carry credentials; put the variable in"
            " a Secret named by spec.deployment_parameters.extra_envs_secret",
        ],
    ),
    "metrics in config mode": (
        "demo",
        {
            "models_settings": {"single_model_mode": False, "config_configmap_name": "cfg"},
            "monitoring": {"metrics_enable": True, "metrics_list": "a;b"},
        },
        [
            "spec.monitoring.metrics_list 'a;b' must be a comma-separated list of metric names"
            " such as ovms_requests_success,ovms_infer_req",
            "spec.monitoring.metrics_enable works only in single-model mode; with a config file"
            ' enable metrics in its "monitoring" section',
        ],
    ),
    "metrics listed but not enabled": (
        "demo",
        {
            "models_settings": {"model_path": S3},
            "monitoring": {"metrics_list": "ovms_requests_success"},
        },
        ["spec.monitoring.metrics_list needs spec.monitoring.metrics_enable: true"],
    ),
    "a config map's file elsewhere": (
        "demo",
        {
            "models_settings": {
                "single_model_mode": False,
                "config_configmap_name": "cfg",
                "config_path": "/models/config.json",
            }
        },
        [
            "spec.models_settings.config_path '/models/config.json' must be an absolute path"
            " under /config without '..'"
        ],
    ),
    "a config file on no claim": (
        "demo",
        {"models_settings": {"single_model_mode": False, "config_path": "/models/config.json"}},
        [
            "spec.models_settings.config_path '/models/config.json' is on the volume claim: name"
            " the PersistentVolumeClaim in spec.models_repository.models_volume_claim"
        ],
    ),
    "no image reference": (
        "demo",
        {"image_name": "Not An Image", "model_path": S3},
        ["spec.image_name 'Not An Image' is not a container image reference"],
    ),
    "no object": ("demo", ["x"], ["spec must be an object"]),
    "model tuning": (
        "demo",
        {
            "models_settings": {
                "model_path": S3,
                "target_device": "cpu",
                "shape": "(1,3,224",
                "layout": "NHWC->NCHW",
                "model_name": "../etc",
            },
            "deployment_parameters": {
                "update_strategy": {"type": "BlueGreen"},
                "extra_envs_secret": "UPPER",
            },
        },
        [
            "spec.deployment_parameters.update_strategy.type 'BlueGreen' must be one of"
            " RollingUpdate, Recreate",
            "spec.deployment_parameters.extra_envs_secret 'UPPER' must be a Kubernetes object"
            " name (lowercase letters, digits, '-' and '.', starting and ending with a letter or"
            " digit)",
            "spec.models_settings.model_name '../etc' must be letters, digits, '_', '.' and '-'"
            " (up to 128, starting with a letter or digit)",
            "spec.models_settings.target_device 'cpu' must be an OpenVINO device such as CPU,"
            " GPU, NPU, AUTO or HETERO:GPU,CPU",
            "spec.models_settings.shape '(1,3,224' must be 'auto', a tuple such as (1,3,224,224)"
            ' or a JSON object of them per input such as {"input": "(1,3,224,224)"}',
            "spec.models_settings.layout 'NHWC->NCHW' must be a layout such as NHWC:NCHW or a"
            " JSON object of them",
        ],
    ),
}


@pytest.mark.parametrize("case", INVALID)
def test_every_invalid_spec_gets_all_its_messages_at_once(case: str) -> None:
    name, spec, expected = INVALID[case]
    assert problems(name, spec) == expected


def test_the_answer_is_the_services_invalid_with_a_summary() -> None:
    with pytest.raises(Invalid) as caught:
        parse_model_server("demo", {"grpc_port": 1, "rest_port": 1})
    assert isinstance(caught.value, InvalidModelServer)
    assert caught.value.summary == "The ModelServer is invalid."
    assert str(caught.value) == "; ".join(caught.value.problems)


@pytest.mark.parametrize(
    "spec",
    [
        {"model_path": S3, "aws_secret_access_key": "TOPSECRET-1"},
        {
            "models_settings": {"model_path": S3},
            "models_repository": {"aws_access_key_id": "TOPSECRET-1"},
        },
        {"model_path": "az://c/m", "azure_storage_connection_string": "AccountKey=TOPSECRET-1"},
        {
            "models_settings": {"model_path": S3},
            "models_repository": {"https_proxy": "http://u:TOPSECRET-1@p:1"},
        },
    ],
)
def test_a_refused_credential_is_not_repeated_in_the_answer(spec: dict[str, Any]) -> None:
    assert not any("TOPSECRET-1" in problem for problem in problems("demo", spec))


def test_a_name_with_ovms_is_used_as_it_is() -> None:
    name = "x" * 59 + "ovms"  # 63: no suffix needed, so it fits
    assert parse_model_server(name, {"model_path": S3}).object_name == name
    assert problems("x" * 60 + "ovms", {"model_path": S3})[0].startswith("metadata.name")


@pytest.mark.parametrize("name", ["jupyter-x", "jupyter-ovms", "jupyter", "jupyter-bob-ovms"])
def test_a_name_whose_pods_a_users_pod_could_be_named_as_is_refused(name: str) -> None:
    """A Deployment jupyter-*'s pods jupyter-*-<hash>-<hash> are pod names KubeSpawner gives
    users (and deletes when in the way): such names are refused (issue 17, names)."""
    assert "must not start with 'jupyter-'" in problems(name, {"model_path": S3})[0]


QUANTITY = st.builds(
    lambda n, frac, unit: f"{n}{frac}{unit}",
    st.integers(0, 10**6),
    st.sampled_from(["", ".5", ".25"]),
    st.sampled_from(["", "m", "k", "M", "G", "Ki", "Mi", "Gi", "Ti", "e3"]),
)


@given(cpu=QUANTITY, memory=QUANTITY)
def test_kubernetes_quantities_are_taken_as_written(cpu: str, memory: str) -> None:
    spec = parse_model_server(
        "demo", {"model_path": S3, "resources": {"cpu": cpu, "memory": memory}}
    )
    assert spec.deployment.resources.limits == (("cpu", cpu), ("memory", memory))


@given(grpc=st.integers(-10, 70000), rest=st.integers(-10, 70000))
def test_ports_in_range_and_distinct_are_the_only_ones_taken(grpc: int, rest: int) -> None:
    spec = {"model_path": S3, "grpc_port": grpc, "rest_port": rest}
    if 1 <= grpc <= 65535 and 1 <= rest <= 65535 and grpc != rest:
        assert parse_model_server("demo", spec).service == ServiceParams(grpc, rest)
    else:
        assert all("port" in problem for problem in problems("demo", spec))


@given(
    config=st.dictionaries(
        st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ_", min_size=1, max_size=20),
        st.one_of(st.text(max_size=20), st.integers(0, 1000), st.booleans()),
        max_size=4,
    ),
    policy=st.one_of(
        st.just({"all": {}}),
        st.lists(st.integers(1, 99), min_size=1, max_size=4).map(
            lambda v: {"specific": {"versions": v}}
        ),
        st.integers(1, 9).map(lambda n: {"latest": {"num_versions": n}}),
    ),
)
def test_json_settings_as_objects_or_their_text_are_one_spec(
    config: dict[str, Any], policy: dict[str, Any]
) -> None:
    as_objects = {"model_path": S3, "plugin_config": config, "model_version_policy": policy}
    as_text = {
        **as_objects,
        "plugin_config": json.dumps(config),
        "model_version_policy": json.dumps(policy),
    }
    spec = parse_model_server("demo", as_objects)
    assert spec == parse_model_server("demo", as_text)
    assert spec.models.model_version_policy is not None
    assert spec.models.model_version_policy.to_json() == policy
    assert spec.models.plugin_config == config


@given(name=st.text("abcdefghijklmnopqrstuvwxyz0123456789-_A.", min_size=1, max_size=70))
def test_a_name_is_taken_only_when_its_objects_can_be_named(name: str) -> None:
    try:
        spec = parse_model_server(name, {"model_path": S3})
    except InvalidModelServer as e:
        assert e.problems[0].startswith(f"metadata.name {name!r} must be a DNS-1035 label")
    else:
        made = spec.object_name
        assert len(made) <= 63 and made[0].isalpha() and made[-1].isalnum()
        assert set(made) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
