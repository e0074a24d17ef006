"""Pure: the rules one ``ModelServer`` field follows, each appending what is wrong with a
value to ``problems`` (the field's path first, so an answer names every field it refuses).

The limits are OpenVINO Model Server's own where it has them (its option parser and
``Config::validate``: ports, workers, log levels, version policies) and Kubernetes' for the
objects the server becomes (names, quantities, resource names). `model.parse_model_server`
puts the rules together; ``model.py`` knows the resource's shapes, this module only values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from jupyterhub_ov.digits import is_number

#: what OVMS's ``--log_level`` accepts (``Config::validate``), the CRD's enum too
LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARNING", "ERROR")
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer")
STORAGE_TYPES = ("S3", "google", "azure", "cluster")
UPDATE_STRATEGIES = ("RollingUpdate", "Recreate")
#: cloud storage schemes OVMS reads (its filesystem.cpp); local paths are PVC paths
CLOUD_SCHEMES = ("s3", "gs", "az", "azfs")
#: the PVC's mount point: a local model path or config file lives under it
MODELS_DIR = "/models"
#: the config map's mount point
CONFIG_DIR = "/config"
#: the version policies OVMS knows, with the keys each takes
VERSION_POLICIES = {"all": (), "specific": ("versions",), "latest": ("num_versions",)}

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
#: a Kubernetes quantity without a sign: ``500m``, ``1.5Gi``, ``2``, ``1e3``
_QUANTITY = re.compile(r"^(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$")
#: an extended resource name such as ``gpu.intel.com/i915``
_RESOURCE_NAME = re.compile(
    r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_DEVICE = re.compile(r"^[A-Z][A-Z0-9_.]*(:[A-Z0-9_.,]+)?$")
_REGION = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_METRICS = re.compile(r"^[a-z_]+(,[a-z_]+)*$")
_LAYOUT = re.compile(r"^[A-Za-z.?]+(:[A-Za-z.?]+)?$")
_DIM = r"(-1|\d+|\d+[:-]\d+|\?)"
_SHAPE = re.compile(rf"^[(\[]\s*{_DIM}(\s*,\s*{_DIM})*\s*[)\]]$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def absent(raw: Any) -> bool:
    """Unset: missing, null or empty (the operator's samples write ``""`` for unset)."""
    return raw is None or raw == ""


def text(raw: Any, where: str, problems: list[str], *, limit: int = 1000) -> str:
    """An optional single-line string ("" when unset)."""
    if absent(raw):
        return ""
    if not isinstance(raw, str):
        problems.append(f"{where} must be a string")
    elif len(raw) > limit:
        problems.append(f"{where} is longer than {limit} characters")
    elif _CONTROL.search(raw):
        problems.append(f"{where} must be one line without control characters")
    else:
        return raw
    return ""


def matching(raw: Any, where: str, problems: list[str], pattern: re.Pattern[str], rule: str) -> str:
    value = text(raw, where, problems)
    if value and not pattern.fullmatch(value):
        problems.append(f"{where} {value!r} must be {rule}")
        return ""
    return value


def one_of(
    raw: Any, where: str, problems: list[str], allowed: tuple[str, ...], default: str
) -> str:
    if absent(raw):
        return default
    if raw not in allowed:
        problems.append(f"{where} {raw!r} must be one of {', '.join(allowed)}")
        return default
    return str(raw)


def integer(
    raw: Any,
    where: str,
    problems: list[str],
    *,
    default: int,
    low: int,
    high: int | None = None,
    digits: bool = False,
) -> int:
    """A whole number in [low, high]; ``digits``: a string of digits counts (the CRD types some
    numbers as strings)."""
    if raw is None or (digits and raw == ""):
        return default
    digits_only = digits and isinstance(raw, str) and is_number(raw)
    value = int(raw) if digits_only else raw
    if type(value) is not int or value < low or (high is not None and value > high):
        span = f"{low}-{high}" if high is not None else f"{low} or more"
        problems.append(f"{where} must be an integer {span}, not {raw!r}")
        return default
    return value


def port(raw: Any, where: str, problems: list[str], default: int) -> int:
    return integer(raw, where, problems, default=default, low=1, high=65535)


def boolean(raw: Any, where: str, problems: list[str], default: bool = False) -> bool:
    if raw is None:
        return default
    if not isinstance(raw, bool):
        problems.append(f"{where} must be true or false, not {raw!r}")
        return default
    return raw


def obj(raw: Any, where: str, problems: list[str]) -> Mapping[str, Any]:
    """An optional object ({} when unset)."""
    if absent(raw):
        return {}
    if not isinstance(raw, Mapping):
        problems.append(f"{where} must be an object")
        return {}
    return raw


def known(raw: Mapping[str, Any], where: str, allowed: set[str], problems: list[str]) -> None:
    """A key nobody reads is a typo: refuse it rather than ignore it."""
    unknown = sorted(str(k) for k in raw if k not in allowed)
    if unknown:
        problems.append(f"{where}: unknown keys {', '.join(unknown)}")


def object_name(raw: Any, where: str, problems: list[str]) -> str:
    """A reference to a Secret, ConfigMap or PersistentVolumeClaim (a DNS-1123 subdomain)."""
    value = text(raw, where, problems)
    if value and (len(value) > 253 or not _DNS_SUBDOMAIN.fullmatch(value)):
        problems.append(
            f"{where} {value!r} must be a Kubernetes object name (lowercase letters, digits,"
            " '-' and '.', starting and ending with a letter or digit)"
        )
        return ""
    return value


def model_name(raw: Any, where: str, problems: list[str]) -> str:
    rule = "letters, digits, '_', '.' and '-' (up to 128, starting with a letter or digit)"
    return matching(raw, where, problems, _MODEL_NAME, rule)


def device(raw: Any, where: str, problems: list[str]) -> str:
    rule = "an OpenVINO device such as CPU, GPU, NPU, AUTO or HETERO:GPU,CPU"
    return matching(raw, where, problems, _DEVICE, rule)


def region(raw: Any, where: str, problems: list[str]) -> str:
    return matching(raw, where, problems, _REGION, "a region name such as us-east-1")


def metrics_list(raw: Any, where: str, problems: list[str]) -> str:
    rule = "a comma-separated list of metric names such as ovms_requests_success,ovms_infer_req"
    return matching(raw, where, problems, _METRICS, rule)


def dns_label_problem(name: str, limit: int) -> str | None:
    if len(name) > limit or not _DNS_LABEL.fullmatch(name) or not name[0].isalpha():
        return (
            f"must be a DNS-1035 label of at most {limit} characters (lowercase letters,"
            " digits and '-', starting with a letter and ending with a letter or digit)"
        )
    return None


def quantity(raw: Any, where: str, problems: list[str]) -> str:
    """A Kubernetes quantity; numbers (YAML's ``cpu: 1``) become their text."""
    if absent(raw):
        return ""
    value = str(raw) if type(raw) in (int, float) else raw
    if not isinstance(value, str) or not _QUANTITY.fullmatch(value):
        problems.append(
            f"{where} {raw!r} is not a Kubernetes quantity (such as 500m, 2, 1.5Gi or 512Mi)"
        )
        return ""
    return value


def resource_name(raw: Any, where: str, problems: list[str]) -> str:
    rule = "a device plugin's resource name such as gpu.intel.com/i915"
    return matching(raw, where, problems, _RESOURCE_NAME, rule)


def json_object(raw: Any, where: str, problems: list[str]) -> Mapping[str, Any] | None:
    """A JSON object given as an object or as its JSON text (the CRD types them as strings)."""
    if absent(raw):
        return None
    value = raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError as e:
            problems.append(f"{where} is not valid JSON ({e})")
            return None
    if not isinstance(value, Mapping):
        problems.append(f"{where} must be a JSON object")
        return None
    return value


def plugin_config(raw: Any, where: str, problems: list[str]) -> Mapping[str, Any] | None:
    """OpenVINO plugin properties: an object of plain values (``{"PERFORMANCE_HINT": ...}``)."""
    value = json_object(raw, where, problems)
    if value is None:
        return None
    scalars = (str, int, float, bool)
    bad = sorted(str(k) for k, v in value.items() if not isinstance(v, scalars))
    if bad:
        problems.append(f"{where}: the values of {', '.join(bad)} must be strings or numbers")
        return None
    return dict(value)


def version_policy(raw: Any, where: str, problems: list[str]) -> tuple[str, tuple[int, ...]]:
    """(kind, numbers): ``{"all": {}}``, ``{"specific": {"versions": [1, 3]}}`` or
    ``{"latest": {"num_versions": N}}`` — kind "" when absent or wrong."""
    value = json_object(raw, where, problems)
    if value is None:
        return "", ()
    shapes = '{"all": {}}, {"specific": {"versions": [1, 3]}} or {"latest": {"num_versions": 1}}'
    if len(value) != 1 or next(iter(value)) not in VERSION_POLICIES:
        problems.append(f"{where} must be one of {shapes}")
        return "", ()
    kind, body = next(iter(value.items()))
    keys = VERSION_POLICIES[kind]
    if not isinstance(body, Mapping) or set(body) - set(keys):
        problems.append(f"{where}: {kind!r} takes {keys or 'no keys'} ({shapes})")
        return "", ()
    if kind == "all":
        return kind, ()
    numbers = body.get(keys[0], [] if kind == "specific" else 1)
    numbers = [numbers] if kind == "latest" else numbers
    if (
        not isinstance(numbers, list)
        or not numbers
        or any(type(n) is not int or n < 1 for n in numbers)
    ):
        what = "a positive whole number" if kind == "latest" else "positive whole numbers"
        problems.append(f"{where}: {kind}.{keys[0]} must be {what} ({shapes})")
        return "", ()
    return kind, tuple(numbers)


def batch_size(raw: Any, where: str, problems: list[str]) -> str:
    """A positive whole number or ``auto`` (OVMS's forms), as the argument's text."""
    if absent(raw):
        return ""
    text_value = str(raw) if type(raw) is int else raw
    if text_value == "auto" or (
        isinstance(text_value, str) and is_number(text_value) and int(text_value) >= 1
    ):
        return str(text_value)
    problems.append(f"{where} must be a positive whole number or 'auto', not {raw!r}")
    return ""


def shape(raw: Any, where: str, problems: list[str]) -> str:
    """``auto``, a tuple such as ``(1,3,224,224)`` or a JSON object of them per input."""
    value = text(raw, where, problems)
    if not value or value == "auto" or _SHAPE.fullmatch(value):
        return value
    if value.startswith("{"):
        shapes = json_object(value, where, problems)
        if shapes is not None and all(
            isinstance(v, str) and (v == "auto" or _SHAPE.fullmatch(v)) for v in shapes.values()
        ):
            return value
        if shapes is None:
            return ""
    problems.append(
        f"{where} {value!r} must be 'auto', a tuple such as (1,3,224,224) or a JSON object"
        ' of them per input such as {"input": "(1,3,224,224)"}'
    )
    return ""


def layout(raw: Any, where: str, problems: list[str]) -> str:
    """``NHWC:NCHW``-style text, or a JSON object of them per input or output."""
    value = text(raw, where, problems)
    if not value or _LAYOUT.fullmatch(value):
        return value
    if value.startswith("{"):
        layouts = json_object(value, where, problems)
        if layouts is None:
            return ""
        if all(isinstance(v, str) and _LAYOUT.fullmatch(v) for v in layouts.values()):
            return value
    problems.append(
        f"{where} {value!r} must be a layout such as NHWC:NCHW or a JSON object of them"
    )
    return ""


def model_path(raw: Any, where: str, problems: list[str]) -> str:
    """``s3://``, ``gs://``, ``az://`` (or ``azfs://``) with a bucket, or an absolute path under
    /models (the PVC); anything else would only fail inside the server."""
    value = text(raw, where, problems)
    if not value:
        return ""
    scheme, sep, rest = value.partition("://")
    if sep:
        if scheme not in CLOUD_SCHEMES:
            schemes = ", ".join(f"{s}://" for s in CLOUD_SCHEMES)
            problems.append(
                f"{where} {value!r}: unknown storage scheme {scheme + '://'!r} (use {schemes}"
                f" or a path under {MODELS_DIR} on spec.models_repository.models_volume_claim)"
            )
            return ""
        if not rest.split("/", 1)[0] or " " in rest:
            problems.append(f"{where} {value!r} must name a bucket: {scheme}://<bucket>/<path>")
            return ""
        return value
    return local_path(value, where, problems, MODELS_DIR)


def local_path(value: str, where: str, problems: list[str], *roots: str) -> str:
    """An absolute path under one of ``roots`` without ``..``."""
    inside = any(value == root or value.startswith(root + "/") for root in roots)
    if not inside or ".." in value.split("/"):
        under = " or ".join(roots)
        problems.append(f"{where} {value!r} must be an absolute path under {under} without '..'")
        return ""
    return value


def proxy_url(raw: Any, where: str, problems: list[str]) -> str:
    """An http(s) URL without credentials (a password in a pod spec would be a secret inlined:
    put such a variable in the Secret of spec.deployment_parameters.extra_envs_secret)."""
    value = text(raw, where, problems)
    if not value:
        return ""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as e:
        problems.append(f"{where} {value!r} is not a URL ({e})")
        return ""
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems.append(f"{where} {value!r} must be an http:// or https:// URL")
        return ""
    if parts.username or parts.password:
        problems.append(
            f"{where} must not carry credentials; put the variable in a Secret named by"
            " spec.deployment_parameters.extra_envs_secret"
        )
        return ""
    return value
