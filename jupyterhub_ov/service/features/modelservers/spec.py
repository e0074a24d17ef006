"""Pure: the typed ``ModelServer`` spec (frozen dataclasses) and the operator's defaults and
names; `model.parse_model_server` makes one from either of the resource's spec shapes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jupyterhub_ov.errors import Invalid

from . import rules

GROUP, VERSION, KIND, PLURAL = "intel.com", "v1alpha1", "ModelServer", "modelservers"
API_VERSION = f"{GROUP}/{VERSION}"
#: the default image: OpenVINO Model Server 2026.4.1, the newest release on its GitHub releases
#: page ("docker pull openvino/model_server:2026.4.1", October 2026) — pinned, never ``latest``
DEFAULT_IMAGE = "openvino/model_server:2026.4.1"
#: the Deployment and Service are ``<name>-ovms`` unless the name contains this already
NAME_MARK = "ovms"
NAME_SUFFIX = "-ovms"
DEFAULT_MODEL_NAME = "resnet"
DEFAULT_TARGET_DEVICE = "CPU"
#: the CRD's default, also what the chart passes
DEFAULT_PLUGIN_CONFIG: Mapping[str, Any] = {"PERFORMANCE_HINT": "LATENCY"}
DEFAULT_CONFIG_PATH = f"{rules.CONFIG_DIR}/config.json"
#: the operator's values for single-model fields, which its CRD and samples fill in even in
#: config mode, where the chart passes none of them (JSON compared as JSON)
OPERATOR_DEFAULTS: Mapping[str, Any] = {
    "model_path": "gs://<bucket_name>/<model_dir>",
    "model_name": DEFAULT_MODEL_NAME,
    "target_device": DEFAULT_TARGET_DEVICE,
    "plugin_config": {"PERFORMANCE_HINT": "LATENCY"},
    "model_version_policy": {"latest": {"num_versions": 1}},
    "nireq": 0,
}
#: the single-model settings OVMS refuses beside ``--config_path``
SINGLE_MODEL_ONLY = (
    "model_path",
    "model_name",
    "shape",
    "batch_size",
    "layout",
    "nireq",
    "target_device",
    "plugin_config",
    "model_version_policy",
)


class InvalidModelServer(Invalid):
    """A ModelServer that must not be deployed; ``problems`` says everything that is wrong."""

    summary = "The ModelServer is invalid."


@dataclass(frozen=True)
class VersionPolicy:
    """Which versions (numeric subfolders of the model path) are served."""

    kind: str = "latest"  # "all" | "specific" | "latest"
    #: ``specific``: the versions; ``latest``: (how many,)
    numbers: tuple[int, ...] = (1,)

    def to_json(self) -> dict[str, Any]:
        if self.kind == "all":
            return {"all": {}}
        if self.kind == "specific":
            return {"specific": {"versions": list(self.numbers)}}
        return {"latest": {"num_versions": self.numbers[0]}}


@dataclass(frozen=True)
class Resources:
    """The container's limits and requests: (resource name, quantity) pairs."""

    limits: tuple[tuple[str, str], ...] = ()
    requests: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DeploymentParams:
    replicas: int = 1
    openshift_service_mesh: bool = False
    node_affinity: Mapping[str, Any] = field(default_factory=dict)
    pod_affinity: Mapping[str, Any] = field(default_factory=dict)
    pod_antiaffinity: Mapping[str, Any] = field(default_factory=dict)
    update_strategy: Mapping[str, Any] = field(default_factory=dict)
    resources: Resources = Resources()
    extra_envs_secret: str = ""
    extra_envs_configmap: str = ""


@dataclass(frozen=True)
class ServiceParams:
    grpc_port: int = 8080
    rest_port: int = 8081
    service_type: str = "ClusterIP"


@dataclass(frozen=True)
class ModelsSettings:
    """Single-model mode (``model_*`` and the tuning fields) or config mode (``config_*``);
    the other mode's fields are empty."""

    single_model_mode: bool = True
    model_name: str = ""
    model_path: str = ""
    target_device: str = ""
    shape: str = ""
    batch_size: str = ""
    layout: str = ""
    #: 0: OpenVINO sizes the queue
    nireq: int = 0
    plugin_config: Mapping[str, Any] | None = None
    model_version_policy: VersionPolicy | None = None
    config_configmap_name: str = ""
    config_path: str = ""


@dataclass(frozen=True)
class ServerSettings:
    #: 0 disables picking up new versions (DOMAIN.md's default 1; the CRD's schema says 0)
    file_system_poll_wait_seconds: int = 1
    log_level: str = "INFO"
    grpc_workers: int = 1
    #: 0: OVMS chooses from the CPU count
    rest_workers: int = 0


@dataclass(frozen=True)
class ModelsRepository:
    models_volume_claim: str = ""
    run_as_user: int | None = None
    run_as_group: int | None = None
    #: a Secret with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY
    aws_secret_name: str = ""
    #: an ObjectBucketClaim: its Secret (the keys) and ConfigMap (BUCKET_HOST, BUCKET_PORT, ...)
    bucket_claim: str = ""
    aws_region: str = ""
    s3_compat_api_endpoint: str = ""
    gcp_creds_secret_name: str = ""
    http_proxy: str = ""
    https_proxy: str = ""
    no_proxy: str = ""


@dataclass(frozen=True)
class Monitoring:
    metrics_enable: bool = False
    metrics_list: str = ""


@dataclass(frozen=True)
class ModelServerSpec:
    name: str
    image_name: str = DEFAULT_IMAGE
    deployment: DeploymentParams = DeploymentParams()
    service: ServiceParams = ServiceParams()
    models: ModelsSettings = ModelsSettings()
    server: ServerSettings = ServerSettings()
    repository: ModelsRepository = ModelsRepository()
    monitoring: Monitoring = Monitoring()

    @property
    def object_name(self) -> str:
        """The Deployment's and the Service's name."""
        return server_object_name(self.name)


def server_object_name(name: str) -> str:
    return name if NAME_MARK in name else name + NAME_SUFFIX
