"""Pure: the ``ModelServer`` spec's two shapes read as one — the CRD's nested groups, the
documentation's flat table translated into them — with each field's path as the user wrote it,
and the settings refused whatever their shape (inline credentials, host paths, stateful models).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import rules

#: the CRD's groups and their keys (``aws_secret_name`` and ``bucket_claim`` are ours: S3
#: credentials by reference)
GROUPS: Mapping[str, frozenset[str]] = {
    "deployment_parameters": frozenset(
        {
            "replicas",
            "openshift_service_mesh",
            "node_affinity",
            "pod_affinity",
            "pod_antiaffinity",
            "update_strategy",
            "resources",
            "extra_envs_secret",
            "extra_envs_configmap",
        }
    ),
    "service_parameters": frozenset({"grpc_port", "rest_port", "service_type"}),
    "models_settings": frozenset(
        {
            "single_model_mode",
            "config_configmap_name",
            "config_path",
            "model_name",
            "model_path",
            "shape",
            "batch_size",
            "layout",
            "nireq",
            "target_device",
            "plugin_config",
            "model_version_policy",
            "is_stateful",
            "idle_sequence_cleanup",
            "low_latency_transformation",
            "max_sequence_number",
        }
    ),
    "server_settings": frozenset(
        {
            "file_system_poll_wait_seconds",
            "log_level",
            "grpc_workers",
            "rest_workers",
            "sequence_cleaner_poll_wait_minutes",
        }
    ),
    "models_repository": frozenset(
        {
            "storage_type",
            "models_host_path",
            "models_volume_claim",
            "runAsUser",
            "runAsGroup",
            "aws_access_key_id",
            "aws_secret_access_key",
            "aws_region",
            "s3_compat_api_endpoint",
            "gcp_creds_secret_name",
            "azure_storage_connection_string",
            "http_proxy",
            "https_proxy",
            "no_proxy",
            "aws_secret_name",
            "bucket_claim",
        }
    ),
    "monitoring": frozenset({"metrics_enable", "metrics_list"}),
}

#: the flat table's keys and the group each belongs to: the seed's table, with the old chart's
#: ``target_device``, ``nireq``, ``shape``, ``layout``, ``service_type``,
#: ``s3_compat_api_endpoint``, ``azure_storage_connection_string`` and ``stateful``, and our
#: two credential references
FLAT: Mapping[str, str] = {
    "replicas": "deployment_parameters",
    "resources": "deployment_parameters",
    **dict.fromkeys(
        (
            "model_name",
            "model_path",
            "config_configmap_name",
            "config_path",
            "model_version_policy",
            "batch_size",
            "plugin_config",
            "target_device",
            "nireq",
            "shape",
            "layout",
        ),
        "models_settings",
    ),
    "file_system_poll_wait_seconds": "server_settings",
    "log_level": "server_settings",
    "grpc_port": "service_parameters",
    "rest_port": "service_parameters",
    "service_type": "service_parameters",
    **dict.fromkeys(
        (
            "models_volume_claim",
            "aws_access_key_id",
            "aws_secret_access_key",
            "aws_region",
            "gcp_creds_secret_name",
            "https_proxy",
            "s3_compat_api_endpoint",
            "azure_storage_connection_string",
            "aws_secret_name",
            "bucket_claim",
        ),
        "models_repository",
    ),
}
#: the old flat chart's switch for stateful models (any non-empty value turned them on)
FLAT_STATEFUL = "stateful"


class Fields:
    """The spec's groups, whatever the shape, and where each field was written."""

    GROUPS = GROUPS

    def __init__(
        self,
        spec: Mapping[str, Any],
        groups: Mapping[str, Mapping[str, Any]],
        problems: list[str],
        *,
        flat: bool,
        paths: Mapping[str, str] | None = None,
    ) -> None:
        self.spec = spec
        self.groups = groups
        self.problems = problems
        self.flat = flat
        self.paths = dict(paths or {})

    @classmethod
    def nested(cls, spec: Mapping[str, Any], problems: list[str]) -> Fields:
        misplaced = [key for key in spec if key in FLAT]
        for key in misplaced:
            problems.append(
                f"spec.{key} is a key of the flat table beside the CRD's groups: write it as"
                f" spec.{FLAT[key]}.{key} (or the whole spec flat)"
            )
        rest = {k: v for k, v in spec.items() if k not in misplaced}
        rules.known(rest, "spec", {"image_name", *GROUPS}, problems)
        groups = {
            group: dict(rules.obj(spec.get(group), f"spec.{group}", problems)) for group in GROUPS
        }
        for group, values in groups.items():
            rules.known(values, f"spec.{group}", set(GROUPS[group]), problems)
        for key in misplaced:  # checked where it belongs, so the rest of the answer is right
            groups[FLAT[key]].setdefault(key, spec[key])
        return cls(spec, groups, problems, flat=False)

    def get(self, group: str, key: str | None = None) -> Any:
        if key is None:  # a top-level field (``image_name``)
            return self.spec.get(group)
        return self.groups.get(group, {}).get(key)

    def given(self, group: str, key: str) -> bool:
        return not rules.absent(self.get(group, key))

    def at(self, group: str, *keys: str) -> str:
        """The field's path as the user wrote it: ``spec.service_parameters.rest_port`` or,
        in the flat shape, ``spec.rest_port``."""
        dotted = ".".join((group, *keys))
        if dotted in self.paths:
            return self.paths[dotted]
        if self.flat and keys and FLAT.get(keys[0]) == group:
            return "spec." + ".".join(keys)
        return f"spec.{dotted}"


def from_flat(spec: Mapping[str, Any], problems: list[str]) -> Fields:
    """The flat table as the nested groups, each field keeping its flat path for messages."""
    rules.known(spec, "spec", {"image_name", FLAT_STATEFUL, *FLAT}, problems)
    groups: dict[str, dict[str, Any]] = {group: {} for group in GROUPS}
    paths: dict[str, str] = {}
    for key, group in FLAT.items():
        if key in spec:
            groups[group][key] = spec[key]
            paths[f"{group}.{key}"] = f"spec.{key}"
    resources = spec.get("resources")
    # the table's ``resources`` {cpu, memory} are the container's limits (the old chart's
    # "compute resource limits"); {limits, requests} is taken as it is
    if isinstance(resources, Mapping) and resources and set(resources) <= {"cpu", "memory"}:
        groups["deployment_parameters"]["resources"] = {"limits": dict(resources)}
        for key in resources:
            paths[f"deployment_parameters.resources.limits.{key}"] = f"spec.resources.{key}"
        paths["deployment_parameters.resources.limits"] = "spec.resources"
    if FLAT_STATEFUL in spec:
        groups["models_settings"]["is_stateful"] = not rules.absent(spec[FLAT_STATEFUL])
        paths["models_settings.is_stateful"] = f"spec.{FLAT_STATEFUL}"
    # config mode is chosen by naming a config file, the table has no switch for it
    config = any(not rules.absent(spec.get(k)) for k in ("config_configmap_name", "config_path"))
    groups["models_settings"]["single_model_mode"] = not config
    return Fields(spec, groups, problems, flat=True, paths=paths)


def _credentials_elsewhere(f: Fields) -> str:
    repo = "spec." if f.flat else "spec.models_repository."
    return (
        "credentials are never written into a ModelServer: store AWS_ACCESS_KEY_ID and"
        f" AWS_SECRET_ACCESS_KEY in a Secret and name it in {repo}aws_secret_name, or name the"
        f" owner's ObjectBucketClaim in {repo}bucket_claim"
    )


def refuse_removed(f: Fields) -> None:
    """What must not be deployed whatever else the spec says, each with what to do instead."""
    repo, models, server = "models_repository", "models_settings", "server_settings"
    p = f.problems
    for key in ("aws_access_key_id", "aws_secret_access_key"):
        if f.given(repo, key):
            p.append(f"{f.at(repo, key)}: {_credentials_elsewhere(f)}")
    if f.given(repo, "azure_storage_connection_string"):
        p.append(
            f"{f.at(repo, 'azure_storage_connection_string')}: credentials are never written"
            " into a ModelServer: store AZURE_STORAGE_CONNECTION_STRING in a Secret and name it"
            " in spec.deployment_parameters.extra_envs_secret"
        )
    if f.given(repo, "models_host_path"):
        p.append(
            f"{f.at(repo, 'models_host_path')}: host paths are not allowed (restricted-v2"
            " forbids hostPath volumes); put the models on a PersistentVolumeClaim and name it"
            f" in {f.at(repo, 'models_volume_claim')}"
        )
    stateful = f.get(models, "is_stateful")
    if stateful is True:
        p.append(
            f"{f.at(models, 'is_stateful')}: stateful models were removed from OpenVINO Model"
            " Server in 2026.3 (its --stateful options are gone); serve a stateless model"
        )
    elif stateful is not None:
        rules.boolean(stateful, f.at(models, "is_stateful"), p)
    # only ever used with is_stateful (and filled in by the CRD's defaults): checked, ignored
    for key in ("idle_sequence_cleanup", "low_latency_transformation"):
        rules.boolean(f.get(models, key), f.at(models, key), p)
    for group, key in (
        (models, "max_sequence_number"),
        (server, "sequence_cleaner_poll_wait_minutes"),
    ):
        rules.integer(f.get(group, key), f.at(group, key), p, default=0, low=0)
