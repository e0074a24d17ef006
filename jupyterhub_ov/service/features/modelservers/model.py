"""Pure: the OpenVINO Toolkit Operator's ``ModelServer`` (``intel.com/v1alpha1``), its two spec
shapes normalised into one typed `ModelServerSpec`.

Two shapes exist (DOMAIN.md): the operator documentation's older flat table (``model_path``,
``grpc_port``, ... at the top of ``spec``) and the current CRD's nested groups
(``deployment_parameters``, ``service_parameters``, ``models_settings``, ``server_settings``,
``models_repository``, ``monitoring``). `parse_model_server` reads either (a spec mixing them
is refused) and answers every problem at once in `InvalidModelServer`, each naming the field as
the user wrote it. The defaults are the operator's. The API server fills the CRD's defaults
into every resource it stores, so they are not taken for a user's choice: the ``model_path``
placeholder ``gs://<bucket_name>/<model_dir>`` is refused as a path, and the operator's values
of single-model fields (``model_name: resnet``, its plugin config and version policy, ...) are
ignored in config mode, where any other value of them is refused (OVMS would refuse it).

Decisions (the issue's rules where the operator's chart differs):
- Credentials are referenced, never inlined: ``aws_access_key_id``/``aws_secret_access_key``
  and ``azure_storage_connection_string`` are refused with the field to use instead —
  ``models_repository.aws_secret_name`` (a Secret with the keys AWS_ACCESS_KEY_ID and
  AWS_SECRET_ACCESS_KEY, as an ObjectBucketClaim's Secret has), ``models_repository.bucket_claim``
  (the owner's ObjectBucketClaim: its Secret and ConfigMap) or, for Azure,
  ``deployment_parameters.extra_envs_secret``. These two reference fields are ours.
- Stateful models were removed from OVMS in 2026.3: ``is_stateful: true`` (flat: ``stateful``)
  is refused. The other stateful settings only ever took effect with it (the chart's rule) and
  the CRD fills them in with defaults, so they are type-checked and ignored;
  ``sequence_cleaner_poll_wait_minutes`` likewise (it is never passed: OVMS refuses it).
- ``models_host_path`` is refused: restricted-v2 forbids hostPath volumes; use a PVC.
- ``storage_type`` is checked against the CRD's enum and otherwise unused, as in the chart:
  the model path's scheme says where the model is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jupyterhub_ov import names
from jupyterhub_ov.builds.model.spec_rules import is_image_reference

from . import rules
from .modes import cross_checks, models_settings
from .sections import Fields, from_flat, refuse_removed
from .spec import (
    DEFAULT_IMAGE,
    NAME_MARK,
    NAME_SUFFIX,
    DeploymentParams,
    InvalidModelServer,
    ModelServerSpec,
    ModelsRepository,
    Monitoring,
    Resources,
    ServerSettings,
    ServiceParams,
    server_object_name,
)

__all__ = ["InvalidModelServer", "ModelServerSpec", "parse_model_server"]


def _name_problem(name: Any) -> str | None:
    if not isinstance(name, str) or not name:
        return "metadata.name is required"
    limit = 63 if NAME_MARK in name else 63 - len(NAME_SUFFIX)
    problem = rules.dns_label_problem(name, limit)
    if not problem:  # the Deployment's pods are named after it, as users' pods are after them
        problem = names.user_object_prefix_problem(server_object_name(name))
    if problem:
        return f"metadata.name {name!r} {problem}: the Deployment and Service are named <name>-ovms"
    return None


def parse_model_server(name: Any, spec: Any) -> ModelServerSpec:
    """A ``ModelServer``'s name and spec (either shape) as one typed spec with the operator's
    defaults; InvalidModelServer lists every problem, each with its field's path."""
    problems: list[str] = []
    name_problem = _name_problem(name)
    if name_problem:
        problems.append(name_problem)
    if spec is None:
        spec = {}
    if not isinstance(spec, Mapping):
        raise InvalidModelServer([*problems, "spec must be an object"])
    fields = from_flat(spec, problems) if _is_flat(spec) else Fields.nested(spec, problems)
    refuse_removed(fields)
    image = fields.get("image_name")
    if rules.absent(image):
        image = DEFAULT_IMAGE
    elif not is_image_reference(image):
        problems.append(f"spec.image_name {image!r} is not a container image reference")
    result = ModelServerSpec(
        name=name if isinstance(name, str) else "",
        image_name=image if isinstance(image, str) else DEFAULT_IMAGE,
        deployment=_deployment(fields),
        service=_service(fields),
        models=models_settings(fields),
        server=_server(fields),
        repository=_repository(fields),
        monitoring=_monitoring(fields),
    )
    cross_checks(result, fields)
    if problems:
        raise InvalidModelServer(problems)
    return result


def _is_flat(spec: Mapping[str, Any]) -> bool:
    return any(key not in Fields.GROUPS and key != "image_name" for key in spec) and not any(
        key in Fields.GROUPS for key in spec
    )


def _deployment(f: Fields) -> DeploymentParams:
    g = "deployment_parameters"
    p = f.problems
    strategy = rules.obj(f.get(g, "update_strategy"), f.at(g, "update_strategy"), p)
    kind = strategy.get("type")
    if kind is not None and kind not in rules.UPDATE_STRATEGIES:
        where = f.at(g, "update_strategy") + ".type"
        p.append(f"{where} {kind!r} must be one of {', '.join(rules.UPDATE_STRATEGIES)}")
    return DeploymentParams(
        replicas=rules.integer(f.get(g, "replicas"), f.at(g, "replicas"), p, default=1, low=0),
        openshift_service_mesh=rules.boolean(
            f.get(g, "openshift_service_mesh"), f.at(g, "openshift_service_mesh"), p
        ),
        node_affinity=rules.obj(f.get(g, "node_affinity"), f.at(g, "node_affinity"), p),
        pod_affinity=rules.obj(f.get(g, "pod_affinity"), f.at(g, "pod_affinity"), p),
        pod_antiaffinity=rules.obj(f.get(g, "pod_antiaffinity"), f.at(g, "pod_antiaffinity"), p),
        update_strategy=strategy,
        resources=_resources(f),
        extra_envs_secret=rules.object_name(
            f.get(g, "extra_envs_secret"), f.at(g, "extra_envs_secret"), p
        ),
        extra_envs_configmap=rules.object_name(
            f.get(g, "extra_envs_configmap"), f.at(g, "extra_envs_configmap"), p
        ),
    )


def _resources(f: Fields) -> Resources:
    g = "deployment_parameters"
    p = f.problems
    raw = rules.obj(f.get(g, "resources"), f.at(g, "resources"), p)
    rules.known(raw, f.at(g, "resources"), {"limits", "requests"}, p)
    sections: dict[str, tuple[tuple[str, str], ...]] = {}
    for section in ("limits", "requests"):
        where = f.at(g, "resources", section)
        values = rules.obj(raw.get(section), where, p)
        rules.known(values, where, {"cpu", "memory", "xpu_device", "xpu_device_quantity"}, p)
        pairs = [
            (key, rules.quantity(values.get(key), f.at(g, "resources", section, key), p))
            for key in ("cpu", "memory")
        ]
        device = rules.resource_name(
            values.get("xpu_device"), f.at(g, "resources", section, "xpu_device"), p
        )
        if device:
            count = rules.integer(
                values.get("xpu_device_quantity", "1"),
                f.at(g, "resources", section, "xpu_device_quantity"),
                p,
                default=1,
                low=1,
                digits=True,
            )
            pairs.append((device, str(count)))
        sections[section] = tuple((k, v) for k, v in pairs if v)
    return Resources(limits=sections["limits"], requests=sections["requests"])


def _service(f: Fields) -> ServiceParams:
    g = "service_parameters"
    p = f.problems
    return ServiceParams(
        grpc_port=rules.port(f.get(g, "grpc_port"), f.at(g, "grpc_port"), p, 8080),
        rest_port=rules.port(f.get(g, "rest_port"), f.at(g, "rest_port"), p, 8081),
        service_type=rules.one_of(
            f.get(g, "service_type"), f.at(g, "service_type"), p, rules.SERVICE_TYPES, "ClusterIP"
        ),
    )


def _server(f: Fields) -> ServerSettings:
    g = "server_settings"
    p = f.problems
    rest_workers = rules.integer(
        f.get(g, "rest_workers"), f.at(g, "rest_workers"), p, default=0, low=0
    )
    if rest_workers == 1:  # OVMS: "rest_workers count should be from 2 to ..."
        p.append(f"{f.at(g, 'rest_workers')} must be 2 or more (or 0: OVMS chooses), not 1")
    return ServerSettings(
        file_system_poll_wait_seconds=rules.integer(
            f.get(g, "file_system_poll_wait_seconds"),
            f.at(g, "file_system_poll_wait_seconds"),
            p,
            default=1,
            low=0,
        ),
        log_level=rules.one_of(
            f.get(g, "log_level"), f.at(g, "log_level"), p, rules.LOG_LEVELS, "INFO"
        ),
        grpc_workers=rules.integer(
            f.get(g, "grpc_workers"), f.at(g, "grpc_workers"), p, default=1, low=1
        ),
        rest_workers=rest_workers,
    )


def _monitoring(f: Fields) -> Monitoring:
    g = "monitoring"
    p = f.problems
    enable = rules.boolean(f.get(g, "metrics_enable"), f.at(g, "metrics_enable"), p)
    metrics = rules.metrics_list(f.get(g, "metrics_list"), f.at(g, "metrics_list"), p)
    if metrics and not enable:  # OVMS refuses it: "metrics_enable setting is missing"
        p.append(f"{f.at(g, 'metrics_list')} needs {f.at(g, 'metrics_enable')}: true")
    return Monitoring(metrics_enable=enable, metrics_list=metrics)


def _repository(f: Fields) -> ModelsRepository:
    g = "models_repository"
    p = f.problems
    rules.one_of(f.get(g, "storage_type"), f.at(g, "storage_type"), p, rules.STORAGE_TYPES, "")
    user = rules.integer(
        f.get(g, "runAsUser"), f.at(g, "runAsUser"), p, default=0, low=1, digits=True
    )
    group = rules.integer(
        f.get(g, "runAsGroup"), f.at(g, "runAsGroup"), p, default=-1, low=0, digits=True
    )

    def name(key: str) -> str:
        return rules.object_name(f.get(g, key), f.at(g, key), p)

    def url(key: str) -> str:
        return rules.proxy_url(f.get(g, key), f.at(g, key), p)

    return ModelsRepository(
        models_volume_claim=name("models_volume_claim"),
        run_as_user=user or None,
        run_as_group=None if group < 0 else group,
        aws_secret_name=name("aws_secret_name"),
        bucket_claim=name("bucket_claim"),
        aws_region=rules.region(f.get(g, "aws_region"), f.at(g, "aws_region"), p),
        s3_compat_api_endpoint=url("s3_compat_api_endpoint"),
        gcp_creds_secret_name=name("gcp_creds_secret_name"),
        http_proxy=url("http_proxy"),
        https_proxy=url("https_proxy"),
        no_proxy=rules.text(f.get(g, "no_proxy"), f.at(g, "no_proxy"), p),
    )
