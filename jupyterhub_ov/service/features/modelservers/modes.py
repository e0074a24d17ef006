"""Pure: a ``ModelServer``'s serving mode — one model (``--model_path``/``--model_name`` and its
tuning) or a config file (``--config_path``, from a config map or the volume claim) — and the
rules that join fields of different groups (ports, where the model is and what reads it).

OVMS itself refuses single-model options beside ``--config_path`` and a config path without
a file; these rules say so before anything is deployed, naming the fields involved.
"""

from __future__ import annotations

import json
from typing import Any

from . import rules
from .sections import Fields
from .spec import (
    DEFAULT_CONFIG_PATH,
    DEFAULT_MODEL_NAME,
    DEFAULT_PLUGIN_CONFIG,
    DEFAULT_TARGET_DEVICE,
    OPERATOR_DEFAULTS,
    SINGLE_MODEL_ONLY,
    ModelServerSpec,
    ModelsSettings,
    VersionPolicy,
)

G = "models_settings"
REPO = "models_repository"


def models_settings(f: Fields) -> ModelsSettings:
    single = rules.boolean(
        f.get(G, "single_model_mode"), f.at(G, "single_model_mode"), f.problems, default=True
    )
    return _single(f) if single else _config(f)


def _single(f: Fields) -> ModelsSettings:
    p = f.problems
    for key in ("config_configmap_name", "config_path"):
        if f.given(G, key):  # (the flat table picks config mode from these: nested only)
            p.append(
                f"{f.at(G, key)} names a config file, which single-model mode does not read:"
                f" set {f.at(G, 'single_model_mode')} to false to serve the file's models"
            )
    raw_path = f.get(G, "model_path")
    path = ""
    if rules.absent(raw_path):
        other = (
            "spec.config_configmap_name or spec.config_path"
            if f.flat
            else f"{f.at(G, 'single_model_mode')}: false and a config map or config_path"
        )
        p.append(f"{f.at(G, 'model_path')} is required to serve one model (or give {other})")
    elif raw_path == OPERATOR_DEFAULTS["model_path"]:
        p.append(
            f"{f.at(G, 'model_path')} {raw_path!r} is the CRD's placeholder: give the model's"
            f" path (s3://, gs://, az:// or a path under {rules.MODELS_DIR})"
        )
    else:
        path = rules.model_path(raw_path, f.at(G, "model_path"), p)
    policy = None
    if f.given(G, "model_version_policy"):
        kind, numbers = rules.version_policy(
            f.get(G, "model_version_policy"), f.at(G, "model_version_policy"), p
        )
        policy = VersionPolicy(kind, numbers) if kind else None
    plugin = DEFAULT_PLUGIN_CONFIG
    if f.given(G, "plugin_config"):
        plugin = rules.plugin_config(f.get(G, "plugin_config"), f.at(G, "plugin_config"), p) or {}
    return ModelsSettings(
        single_model_mode=True,
        model_name=rules.model_name(f.get(G, "model_name"), f.at(G, "model_name"), p)
        or DEFAULT_MODEL_NAME,
        model_path=path,
        target_device=rules.device(f.get(G, "target_device"), f.at(G, "target_device"), p)
        or DEFAULT_TARGET_DEVICE,
        shape=rules.shape(f.get(G, "shape"), f.at(G, "shape"), p),
        batch_size=rules.batch_size(f.get(G, "batch_size"), f.at(G, "batch_size"), p),
        layout=rules.layout(f.get(G, "layout"), f.at(G, "layout"), p),
        nireq=rules.integer(f.get(G, "nireq"), f.at(G, "nireq"), p, default=0, low=0),
        plugin_config=dict(plugin),
        model_version_policy=policy or VersionPolicy(),
    )


def _config(f: Fields) -> ModelsSettings:
    p = f.problems
    source = f.at(G, "config_configmap_name") if f.given(G, "config_configmap_name") else ""
    source = source or f.at(G, "config_path")
    for key in SINGLE_MODEL_ONLY:
        raw = f.get(G, key)
        if rules.absent(raw) or (
            key in OPERATOR_DEFAULTS and _loads(raw) == OPERATOR_DEFAULTS[key]
        ):
            continue  # unset, or the operator's value (the CRD fills it in everywhere)
        p.append(
            f"{f.at(G, key)} is a single-model setting, which OVMS refuses beside a config file"
            f" ({source}): set it per model in the config file"
        )
    configmap = rules.object_name(
        f.get(G, "config_configmap_name"), f.at(G, "config_configmap_name"), p
    )
    raw_path = f.get(G, "config_path")
    where = f.at(G, "config_path")
    path = ""
    if configmap:
        path = DEFAULT_CONFIG_PATH
        if not rules.absent(raw_path):
            path = _file(raw_path, where, p, rules.CONFIG_DIR)
    elif rules.absent(raw_path):
        if not f.given(G, "config_configmap_name"):
            p.append(
                f"a config file is needed without single-model mode: name a config map in"
                f" {f.at(G, 'config_configmap_name')} or give {where} on the volume claim"
            )
    else:
        path = _file(raw_path, where, p, rules.MODELS_DIR)
    return ModelsSettings(
        single_model_mode=False, config_configmap_name=configmap, config_path=path
    )


def _loads(raw: Any) -> Any:
    """JSON text as its value (other values as they are), to compare with a default."""
    try:
        return json.loads(raw) if isinstance(raw, str) and raw[:1] in "{[" else raw
    except ValueError:
        return raw


def _file(raw: object, where: str, problems: list[str], root: str) -> str:
    value = rules.text(raw, where, problems)
    return rules.local_path(value, where, problems, root) if value else ""


def cross_checks(spec: ModelServerSpec, f: Fields) -> None:
    """The rules between groups: two Service ports, a model path and what can read it."""
    p = f.problems
    grpc, rest = spec.service.grpc_port, spec.service.rest_port
    if grpc == rest:
        p.append(
            f"{f.at('service_parameters', 'grpc_port')} and"
            f" {f.at('service_parameters', 'rest_port')} are both {grpc}: the Service needs"
            " two different ports"
        )
    m, r = spec.models, spec.repository
    claim = f.at(REPO, "models_volume_claim")
    if r.aws_secret_name and r.bucket_claim:
        p.append(
            f"{f.at(REPO, 'aws_secret_name')} and {f.at(REPO, 'bucket_claim')} both give S3"
            " credentials: name one"
        )
    if m.single_model_mode and m.model_path:
        _model_storage(spec, f)
    if not m.single_model_mode and m.config_path.startswith(rules.MODELS_DIR + "/"):
        if not r.models_volume_claim:
            p.append(
                f"{f.at(G, 'config_path')} {m.config_path!r} is on the volume claim: name the"
                f" PersistentVolumeClaim in {claim}"
            )
    if spec.monitoring.metrics_enable and not m.single_model_mode:
        p.append(
            f"{f.at('monitoring', 'metrics_enable')} works only in single-model mode; with a"
            ' config file enable metrics in its "monitoring" section'
        )


def _model_storage(spec: ModelServerSpec, f: Fields) -> None:
    """The single model's path against the volume claim and the credentials given."""
    p = f.problems
    path, r = spec.models.model_path, spec.repository
    where = f.at(G, "model_path")
    claim = f.at(REPO, "models_volume_claim")
    scheme = "" if path.startswith("/") else path.partition("://")[0]
    if not scheme and not r.models_volume_claim:
        p.append(
            f"{where} {path!r} is a local path: name the PersistentVolumeClaim that holds it"
            f" in {claim}"
        )
    if scheme and r.models_volume_claim:
        p.append(
            f"{claim} is mounted at {rules.MODELS_DIR} for a local model path, but {where} is"
            f" {path!r}"
        )
    for key, wanted in (("aws_secret_name", "s3"), ("bucket_claim", "s3")):
        if getattr(r, key) and scheme != wanted:
            p.append(f"{f.at(REPO, key)} gives S3 credentials, but {where} {path!r} is not s3://")
    if r.gcp_creds_secret_name and scheme != "gs":
        p.append(
            f"{f.at(REPO, 'gcp_creds_secret_name')} gives Google Cloud Storage credentials,"
            f" but {where} {path!r} is not gs://"
        )
