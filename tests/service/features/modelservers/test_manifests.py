"""The ModelServer's Deployment and Service: whole dicts for each kind of model storage, no
secret value anywhere, arguments OVMS's own option rules accept, and the Kubernetes schema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import kubernetes_validate
import pytest

from jupyterhub_ov.service.features.modelservers import manifests
from jupyterhub_ov.service.features.modelservers.model import parse_model_server
from jupyterhub_ov.service.features.modelservers.spec import DEFAULT_IMAGE, ModelServerSpec

LABELS = {"app": "demo-ovms", "release": "demo"}
OWNER = {
    "apiVersion": "intel.com/v1alpha1",
    "kind": "ModelServer",
    "name": "demo",
    "uid": "uid-1",
    "controller": True,
    "blockOwnerDeletion": True,
}
PORTS = [
    {"containerPort": 8080, "name": "grpc", "protocol": "TCP"},
    {"containerPort": 8081, "name": "rest", "protocol": "TCP"},
]
PROBES = {
    "livenessProbe": {"httpGet": {"path": "/v2/health/live", "port": "rest"}},
    "readinessProbe": {
        "initialDelaySeconds": 5,
        "periodSeconds": 5,
        "httpGet": {"path": "/v2/health/ready", "port": "rest"},
    },
}
RESTRICTED = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}
#: the container's fixed parts: its name, ports and probes
OVMS = {"name": "ovms", "ports": PORTS, **PROBES}
#: a demo server's objects' metadata
METADATA = {"name": "demo-ovms", "namespace": "ml", "labels": LABELS, "ownerReferences": [OWNER]}
SERVER_ARGS = ["--port", "8080", "--rest_port", "8081"]


def ref(name: str, kind: str, source: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {kind: {"name": source, "key": name}}}


def demo(spec: dict[str, Any], name: str = "demo") -> ModelServerSpec:
    return parse_model_server(name, spec)


S3_IN_CLAIM = demo(
    {
        "model_name": "demo",
        "model_path": "s3://alice-bucket/models/demo",
        "bucket_claim": "alice-bucket",
        "file_system_poll_wait_seconds": 5,
        "resources": {"cpu": "2", "memory": "1Gi"},
    }
)


def test_a_model_in_the_owners_bucket() -> None:
    assert manifests.deployment(S3_IN_CLAIM, namespace="ml", owner_uid="uid-1") == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": METADATA,
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": LABELS},
            "template": {
                "metadata": {"labels": LABELS},
                "spec": {
                    "automountServiceAccountToken": False,
                    "containers": [
                        {
                            **OVMS,
                            "image": DEFAULT_IMAGE,
                            "args": [
                                "--model_path",
                                "s3://alice-bucket/models/demo",
                                "--model_name",
                                "demo",
                                "--target_device",
                                "CPU",
                                "--plugin_config",
                                '{"PERFORMANCE_HINT": "LATENCY"}',
                                "--model_version_policy",
                                '{"latest": {"num_versions": 1}}',
                                "--log_level",
                                "INFO",
                                "--file_system_poll_wait_seconds",
                                "5",
                                "--grpc_workers",
                                "1",
                                *SERVER_ARGS,
                            ],
                            "resources": {"limits": {"cpu": "2", "memory": "1Gi"}},
                            "securityContext": RESTRICTED,
                            # the claim's ConfigMap first: the kubelet expands $(BUCKET_*) below
                            "env": [
                                ref("BUCKET_HOST", "configMapKeyRef", "alice-bucket"),
                                ref("BUCKET_PORT", "configMapKeyRef", "alice-bucket"),
                                ref("BUCKET_REGION", "configMapKeyRef", "alice-bucket"),
                                ref("AWS_ACCESS_KEY_ID", "secretKeyRef", "alice-bucket"),
                                ref("AWS_SECRET_ACCESS_KEY", "secretKeyRef", "alice-bucket"),
                                {"name": "AWS_REGION", "value": "$(BUCKET_REGION)"},
                                {
                                    "name": "S3_ENDPOINT",
                                    "value": "http://$(BUCKET_HOST):$(BUCKET_PORT)",
                                },
                            ],
                        }
                    ],
                },
            },
        },
    }


def test_its_service() -> None:
    assert manifests.service(S3_IN_CLAIM, namespace="ml", owner_uid="uid-1") == {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": METADATA,
        "spec": {
            "type": "ClusterIP",
            "selector": {"app": "demo-ovms"},
            "ports": [
                {"name": "grpc", "port": 8080, "protocol": "TCP", "targetPort": 8080},
                {"name": "rest", "port": 8081, "protocol": "TCP", "targetPort": 8081},
            ],
        },
    }


def test_the_configured_endpoint_and_region_win_over_the_claims() -> None:
    spec = demo(
        {
            "model_path": "s3://alice-bucket/m",
            "bucket_claim": "alice-bucket",
            "aws_region": "eu-west-1",
        }
    )
    assert manifests.s3_environment(spec, s3_endpoint="http://s3.local:7480") == [
        ref("AWS_ACCESS_KEY_ID", "secretKeyRef", "alice-bucket"),
        ref("AWS_SECRET_ACCESS_KEY", "secretKeyRef", "alice-bucket"),
        {"name": "AWS_REGION", "value": "eu-west-1"},
        {"name": "S3_ENDPOINT", "value": "http://s3.local:7480"},
    ]
    own = demo(
        {
            "models_settings": {"model_path": "s3://b/m"},
            "models_repository": {
                "aws_secret_name": "s3-keys",
                "s3_compat_api_endpoint": "http://minio.ml:9000",
            },
        }
    )
    assert manifests.s3_environment(own, s3_endpoint="http://ignored:1") == [
        ref("AWS_ACCESS_KEY_ID", "secretKeyRef", "s3-keys"),
        ref("AWS_SECRET_ACCESS_KEY", "secretKeyRef", "s3-keys"),
        {"name": "S3_ENDPOINT", "value": "http://minio.ml:9000"},
    ]
    anonymous = demo({"model_path": "s3://public/m"})
    assert manifests.s3_environment(anonymous) == []


AFFINITY = {
    "requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [
            {
                "matchExpressions": [
                    {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}
                ]
            }
        ]
    }
}
CONFIG_MAP = demo(
    {
        "image_name": "openvino/model_server:2026.4.1-gpu",
        "deployment_parameters": {
            "openshift_service_mesh": True,
            "extra_envs_secret": "ovms-env",
            "extra_envs_configmap": "ovms-settings",
            "update_strategy": {"type": "Recreate"},
            "node_affinity": AFFINITY,
        },
        "models_settings": {"single_model_mode": False, "config_configmap_name": "ovms-config"},
        "server_settings": {"log_level": "ERROR", "grpc_workers": 2, "rest_workers": 4},
        "models_repository": {"https_proxy": "http://proxy:3128", "no_proxy": ".svc,.local"},
    },
    name="my-ovms",
)


def test_config_mode_from_a_config_map() -> None:
    labels = {"app": "my-ovms", "release": "my-ovms"}
    assert manifests.deployment(CONFIG_MAP, namespace="ml") == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "my-ovms", "namespace": "ml", "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "strategy": {"type": "Recreate"},
            "template": {
                "metadata": {"labels": labels, "annotations": {"sidecar.istio.io/inject": "true"}},
                "spec": {
                    "automountServiceAccountToken": False,
                    "affinity": {"nodeAffinity": AFFINITY},
                    "containers": [
                        {
                            **OVMS,
                            "image": "openvino/model_server:2026.4.1-gpu",
                            "args": [
                                "--config_path",
                                "/config/config.json",
                                "--log_level",
                                "ERROR",
                                "--file_system_poll_wait_seconds",
                                "1",
                                "--grpc_workers",
                                "2",
                                "--rest_workers",
                                "4",
                                *SERVER_ARGS,
                            ],
                            "resources": {},
                            "securityContext": RESTRICTED,
                            "env": [
                                {"name": "https_proxy", "value": "http://proxy:3128"},
                                {"name": "no_proxy", "value": ".svc,.local"},
                            ],
                            "envFrom": [
                                {"secretRef": {"name": "ovms-env"}},
                                {"configMapRef": {"name": "ovms-settings"}},
                            ],
                            "volumeMounts": [
                                {"name": "config", "mountPath": "/config", "readOnly": True}
                            ],
                        }
                    ],
                    "volumes": [{"name": "config", "configMap": {"name": "ovms-config"}}],
                },
            },
        },
    }


ON_A_CLAIM = demo(
    {
        "deployment_parameters": {
            "replicas": 3,
            "resources": {
                "limits": {
                    "cpu": "4",
                    "memory": "8Gi",
                    "xpu_device": "gpu.intel.com/i915",
                    "xpu_device_quantity": "2",
                },
                "requests": {"cpu": "500m", "memory": "2Gi"},
            },
        },
        "service_parameters": {"grpc_port": 9000, "rest_port": 9001, "service_type": "NodePort"},
        "models_settings": {
            "model_name": "resnet50",
            "model_path": "/models/resnet50",
            "nireq": 4,
            "batch_size": "auto",
            "shape": "(1,3,224,224)",
            "layout": "NHWC:NCHW",
            "plugin_config": {"PERFORMANCE_HINT": "THROUGHPUT", "NUM_STREAMS": 2},
            "model_version_policy": {"all": {}},
            "target_device": "AUTO",
        },
        "server_settings": {"file_system_poll_wait_seconds": 0, "log_level": "DEBUG"},
        "models_repository": {
            "models_volume_claim": "models-pvc",
            "runAsUser": "5000",
            "runAsGroup": 5000,
        },
        "monitoring": {"metrics_enable": True, "metrics_list": "ovms_requests_success"},
    }
)


def test_a_model_on_a_volume_claim() -> None:
    assert manifests.deployment(ON_A_CLAIM, namespace="ml", owner_uid="uid-1") == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": METADATA,
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": LABELS},
            "template": {
                "metadata": {"labels": LABELS},
                "spec": {
                    "automountServiceAccountToken": False,
                    "containers": [
                        {
                            **OVMS,
                            "image": DEFAULT_IMAGE,
                            "args": [
                                "--model_path",
                                "/models/resnet50",
                                "--model_name",
                                "resnet50",
                                "--target_device",
                                "AUTO",
                                "--nireq",
                                "4",
                                "--plugin_config",
                                '{"PERFORMANCE_HINT": "THROUGHPUT", "NUM_STREAMS": 2}',
                                "--batch_size",
                                "auto",
                                "--layout",
                                "NHWC:NCHW",
                                "--shape",
                                "(1,3,224,224)",
                                "--model_version_policy",
                                '{"all": {}}',
                                "--metrics_enable",
                                "--metrics_list",
                                "ovms_requests_success",
                                "--log_level",
                                "DEBUG",
                                "--file_system_poll_wait_seconds",
                                "0",
                                "--grpc_workers",
                                "1",
                                *SERVER_ARGS,
                            ],
                            "resources": {
                                "limits": {"cpu": "4", "memory": "8Gi", "gpu.intel.com/i915": "2"},
                                "requests": {"cpu": "500m", "memory": "2Gi"},
                            },
                            "securityContext": {
                                **RESTRICTED,
                                "runAsUser": 5000,
                                "runAsGroup": 5000,
                            },
                            "volumeMounts": [
                                {"name": "models", "mountPath": "/models", "readOnly": True}
                            ],
                        }
                    ],
                    "volumes": [
                        {
                            "name": "models",
                            "persistentVolumeClaim": {"claimName": "models-pvc", "readOnly": True},
                        }
                    ],
                },
            },
        },
    }
    assert manifests.service(ON_A_CLAIM, namespace="ml")["spec"] == {
        "type": "NodePort",
        "selector": {"app": "demo-ovms"},
        "ports": [
            {"name": "grpc", "port": 9000, "protocol": "TCP", "targetPort": 8080},
            {"name": "rest", "port": 9001, "protocol": "TCP", "targetPort": 8081},
        ],
    }


GCS = demo({"model_path": "gs://models/resnet", "gcp_creds_secret_name": "gcp-creds"})


def test_google_cloud_storage_mounts_the_named_secret() -> None:
    pod = manifests.deployment(GCS, namespace="ml")["spec"]["template"]["spec"]
    assert pod["volumes"] == [{"name": "gcpcreds", "secret": {"secretName": "gcp-creds"}}]
    (ovms,) = pod["containers"]
    assert ovms["volumeMounts"] == [{"name": "gcpcreds", "mountPath": "/secret", "readOnly": True}]
    assert ovms["env"] == [
        {"name": "GOOGLE_APPLICATION_CREDENTIALS", "value": "/secret/gcp-creds.json"}
    ]


ALL = {"s3 claim": S3_IN_CLAIM, "config map": CONFIG_MAP, "claim": ON_A_CLAIM, "gcs": GCS}
SECRET_REF = demo(
    {
        "models_settings": {"model_path": "s3://b/m"},
        "models_repository": {"aws_secret_name": "s3-keys"},
        "deployment_parameters": {"extra_envs_secret": "more"},
    }
)
ALL["secret"] = SECRET_REF


def objects(spec: ModelServerSpec) -> list[dict[str, Any]]:
    return [
        manifests.deployment(spec, namespace="ml", owner_uid="uid-1"),
        manifests.service(spec, namespace="ml", owner_uid="uid-1"),
    ]


def env_vars(node: Any) -> Iterator[dict[str, Any]]:
    """Every environment variable anywhere in a manifest."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "env":
                yield from value
            else:
                yield from env_vars(value)
    elif isinstance(node, list):
        for item in node:
            yield from env_vars(item)


CREDENTIALS = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AZURE_STORAGE_CONNECTION_STRING"}


@pytest.mark.parametrize("case", ALL)
def test_credentials_come_only_from_secrets(case: str) -> None:
    found = [var for obj in objects(ALL[case]) for var in env_vars(obj)]
    for var in found:
        if var["name"] in CREDENTIALS:
            assert set(var) == {"name", "valueFrom"}, var
            assert set(var["valueFrom"]) == {"secretKeyRef"}, var
        else:  # a literal value only where the spec wrote it, or a reference
            assert "secretKeyRef" not in var.get("valueFrom", {}), var
    has_keys = {v["name"] for v in found} & CREDENTIALS
    assert has_keys == (
        {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} if case in ("s3 claim", "secret") else set()
    )


def test_a_secret_given_in_the_spec_reaches_no_manifest() -> None:
    """Whatever the shape, an inline key is refused, so no object can carry it: and the
    manifests of the same spec with the key taken out mention it nowhere."""
    secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCY"
    spec = {"model_path": "s3://b/m", "bucket_claim": "c", "aws_secret_access_key": secret}
    with pytest.raises(ValueError) as caught:
        parse_model_server("demo", spec)
    assert secret not in str(caught.value)
    kept = {k: v for k, v in spec.items() if k != "aws_secret_access_key"}
    assert secret not in json.dumps(objects(parse_model_server("demo", kept)))


# OVMS's own command line (src/cli_parser.cpp, 2026.x): the options and their types; the rest of
# its rules are Config::validate's (src/config.cpp). An option not here makes OVMS exit.
UINT_OPTIONS = {
    "port",
    "rest_port",
    "grpc_workers",
    "rest_workers",
    "file_system_poll_wait_seconds",
    "nireq",
}
TEXT_OPTIONS = {
    "model_path",
    "model_name",
    "target_device",
    "plugin_config",
    "batch_size",
    "layout",
    "shape",
    "model_version_policy",
    "config_path",
    "log_level",
    "metrics_list",
}
FLAG_OPTIONS = {"metrics_enable"}
MODEL_ONLY = {
    "batch_size",
    "shape",
    "nireq",
    "model_version_policy",
    "target_device",
    "plugin_config",
}


def ovms_command_line(args: list[str]) -> dict[str, Any]:
    """The options as OVMS reads them, or AssertionError where OVMS would refuse to start."""
    options: dict[str, Any] = {}
    rest = iter(args)
    for arg in rest:
        assert arg.startswith("--"), f"stray argument {arg!r}"
        name = arg[2:]
        assert name not in options, f"{arg} given twice"
        if name in FLAG_OPTIONS:
            options[name] = True
        elif name in UINT_OPTIONS:
            value = next(rest)
            assert value.isdigit() and int(value) < 2**32, f"{arg} {value!r} is no uint32"
            options[name] = int(value)
        else:
            assert name in TEXT_OPTIONS, f"OVMS does not know {arg}"
            options[name] = next(rest)
    if "config_path" in options:
        assert not {"model_name", "model_path"} & set(options), "config_path or model_path"
        assert not MODEL_ONLY & set(options), "model parameters are exclusive with config"
    else:
        assert {"model_name", "model_path"} <= set(options), "model_path with model_name"
    for name in ("plugin_config", "model_version_policy"):
        if name in options:
            assert isinstance(json.loads(options[name]), dict), name
    assert options.get("grpc_workers", 1) >= 1
    assert options.get("rest_workers", 2) >= 2
    assert options.get("metrics_enable") or "metrics_list" not in options
    assert options["port"] != options["rest_port"], "port and rest_port cannot be the same"
    assert options.get("log_level", "INFO") in ("TRACE", "DEBUG", "INFO", "WARNING", "ERROR")
    return options


@pytest.mark.parametrize("case", ALL)
def test_the_arguments_are_a_command_line_ovms_accepts(case: str) -> None:
    (ovms,) = manifests.deployment(ALL[case], namespace="ml")["spec"]["template"]["spec"][
        "containers"
    ]
    options = ovms_command_line(ovms["args"])
    assert (options["port"], options["rest_port"]) == (8080, 8081)
    assert "sequence_cleaner_poll_wait_minutes" not in options


@pytest.mark.parametrize(
    ("args", "refusal"),
    [
        (["--sequence_cleaner_poll_wait_minutes", "0"], "OVMS does not know"),
        (["--config_path", "/config/config.json", "--nireq", "2"], "exclusive with config"),
        (["--model_path", "/models/m"], "model_path with model_name"),
        (["--config_path", "/c", "--port", "8080", "--rest_port", "8080"], "cannot be the same"),
    ],
)
def test_the_command_line_check_refuses_what_ovms_refuses(args: list[str], refusal: str) -> None:
    with pytest.raises(AssertionError, match=refusal):
        ovms_command_line(args)


@pytest.mark.parametrize("case", ALL)
def test_the_objects_match_the_kubernetes_schema(case: str) -> None:
    version = kubernetes_validate.latest_version()
    for obj in objects(ALL[case]):
        kubernetes_validate.validate(obj, version, strict=True)


def test_a_name_with_ovms_names_its_objects_as_it_is() -> None:
    spec = demo({"model_path": "s3://b/m"}, name="team-ovms-1")
    assert manifests.labels(spec) == {"app": "team-ovms-1", "release": "team-ovms-1"}
    assert manifests.service(spec, namespace="ml")["metadata"]["name"] == "team-ovms-1"
