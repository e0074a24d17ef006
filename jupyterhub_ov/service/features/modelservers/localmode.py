"""Pure: how a ModelServer spec runs on this machine (local mode) — the rules it adds, the
owner of the bucket it reads, and the ovms program's command line.

The command line is the container's (`manifests.server_args`: one source of truth) with the
ports replaced by the loopback ports given, ``--rest_bind_address``/``--grpc_bind_address``
127.0.0.1, and the container's volume paths mapped onto directories of the service's
``volumes_dir``: ``/models/...`` (the PersistentVolumeClaim ``models_volume_claim``) is
``<volumes_dir>/claims/<claim>/...``, ``/config/...`` (the config map
``config_configmap_name``) is ``<volumes_dir>/configmaps/<name>/...``.

Local-mode rules, checked after `model.parse_model_server` (every problem at once):
- an ``s3://`` model is read with the owner's rights only: ``models_repository.bucket_claim``
  names the owner the way OpenShift mode names a user's claim (``<claim prefix>-<user>``,
  ``jupyter-bucket-alice``), so one spec works in both modes. A user whose name is not its
  own slug (upper case, dots, ...) has a hashed claim name that cannot be turned back into the
  username: such a claim is refused in local mode;
- there are no Kubernetes Secrets or config maps of environment here: ``aws_secret_name``,
  ``gcp_creds_secret_name``, ``extra_envs_secret`` and ``extra_envs_configmap`` are refused,
  and ``gs://``/``az://`` models too (local mode reads the local buckets, directories and
  config files).

Any number of replicas: they share the server's S3 key (`backends.local`), which is rotated
only when the server starts as a whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jupyterhub_ov import names

from . import manifests, rules
from .sections import FLAT
from .spec import ModelServerSpec
from .view import is_nested

BIND = "127.0.0.1"


def where(raw: Mapping[str, Any], group: str, key: str) -> str:
    """The field's path as the user wrote it (flat or nested)."""
    if not is_nested(raw) and key in FLAT:
        return f"spec.{key}"
    return f"spec.{group}.{key}"


def claim_owner(claim: str, claim_prefix: str) -> str | None:
    """The user whose bucket claim (in OpenShift mode) is named ``claim``."""
    return names.object_name_owner(claim, claim_prefix)


def problems(
    spec: ModelServerSpec,
    raw: Mapping[str, Any],
    *,
    claim_prefix: str,
    s3_enabled: bool,
    volumes_dir: str,
) -> list[str]:
    """Why ``spec`` cannot run in local mode (empty: it can)."""
    found: list[str] = []
    r, m, d = spec.repository, spec.models, spec.deployment
    repo = "models_repository"
    unsupported = (
        (repo, "aws_secret_name", r.aws_secret_name, "name the owner's bucket claim instead"),
        (repo, "gcp_creds_secret_name", r.gcp_creds_secret_name, "local mode reads no GCS"),
        ("deployment_parameters", "extra_envs_secret", d.extra_envs_secret, ""),
        ("deployment_parameters", "extra_envs_configmap", d.extra_envs_configmap, ""),
    )
    for group, key, value, hint in unsupported:
        if value:
            found.append(
                f"{where(raw, group, key)}: local mode has no Kubernetes Secrets or config maps"
                + (f" ({hint})" if hint else "")
            )
    scheme = m.model_path.partition("://")[0] if "://" in m.model_path else ""
    if scheme and scheme != "s3":
        found.append(
            f"{where(raw, 'models_settings', 'model_path')} {m.model_path!r}: local mode reads"
            f" s3:// (the local buckets), or a path under {rules.MODELS_DIR} on a volume claim"
        )
    claim = where(raw, repo, "bucket_claim")
    if scheme == "s3" and not r.bucket_claim:
        found.append(
            f"{where(raw, 'models_settings', 'model_path')} {m.model_path!r} is read with its"
            f" owner's rights: name the owner's bucket claim in {claim}"
            f" ({claim_prefix}-<user>)"
        )
    if r.bucket_claim:
        if claim_owner(r.bucket_claim, claim_prefix) is None:
            found.append(
                f"{claim} {r.bucket_claim!r} names no user's bucket in local mode: write"
                f" {claim_prefix}-<user> for a user whose name is a DNS label"
            )
        if not s3_enabled:
            found.append(f"{claim}: this service has no S3 storage configured")
    uses_volumes = r.models_volume_claim or m.config_configmap_name
    if uses_volumes and not volumes_dir:
        found.append(
            "a volume claim or config map needs ModelServers.local_volumes_dir in local mode"
        )
    return found


def _local_path(path: str, spec: ModelServerSpec, volumes_dir: str) -> str:
    """A container path (``/models/...``, ``/config/...``) as a path on this machine."""
    r, m = spec.repository, spec.models
    for root, directory, name in (
        (rules.MODELS_DIR, "claims", r.models_volume_claim),
        (rules.CONFIG_DIR, "configmaps", m.config_configmap_name),
    ):
        if name and (path == root or path.startswith(root + "/")):
            return f"{volumes_dir.rstrip('/')}/{directory}/{name}{path[len(root) :]}"
    return path


def command_line(
    spec: ModelServerSpec, *, rest_port: int, grpc_port: int, volumes_dir: str = ""
) -> list[str]:
    """The ovms program's options for ``spec`` on this machine (see the module's doc)."""
    args = manifests.server_args(spec)
    out: list[str] = []
    replace = {
        "--port": str(grpc_port),
        "--rest_port": str(rest_port),
    }
    paths = ("--model_path", "--config_path")
    i = 0
    while i < len(args):
        option = args[i]
        value = args[i + 1] if i + 1 < len(args) and not args[i + 1].startswith("--") else None
        if value is None:
            out.append(option)
            i += 1
            continue
        if option in replace:
            value = replace[option]
        elif option in paths:
            value = _local_path(value, spec, volumes_dir)
        out += [option, value]
        i += 2
    return [*out, "--rest_bind_address", BIND, "--grpc_bind_address", BIND]


def s3_environment(
    spec: ModelServerSpec, *, endpoint: str, region: str, key_id: str, secret: str
) -> dict[str, str]:
    """OVMS's S3 variables for the server's own key: the spec's endpoint and region win."""
    r = spec.repository
    return {
        manifests.S3_ENDPOINT: r.s3_compat_api_endpoint or endpoint,
        manifests.AWS_REGION: r.aws_region or region,
        "AWS_ACCESS_KEY_ID": key_id,
        "AWS_SECRET_ACCESS_KEY": secret,
    }


def proxy_environment(spec: ModelServerSpec) -> dict[str, str]:
    r = spec.repository
    pairs = (("http_proxy", r.http_proxy), ("https_proxy", r.https_proxy), ("no_proxy", r.no_proxy))
    return {name: value for name, value in pairs if value}
