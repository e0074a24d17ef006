"""Pure: OpenVINO Model Server's command line and config file, as typed settings.

The options are OVMS's own (its ``ovms --help``), the ones the operator's chart and our
manifests pass plus the bind addresses; anything else is refused as OVMS refuses it
("error parsing options - unmatched arguments"). Single-model mode (``--model_path`` and
``--model_name``) and config mode (``--config_path``, a ``model_config_list`` file) exclude
each other. Model paths are local directories or ``s3://bucket/prefix``; ``gs://`` and
``az://`` (which OVMS reads) are refused by this stand-in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARNING", "ERROR")
UNSUPPORTED_SCHEMES = ("gs://", "az://", "azfs://", "azure://", "http://", "https://")
#: value options: name → kind ("str", "int", "json"); --metrics_enable is the one flag
VALUE_OPTIONS: Mapping[str, str] = {
    "model_path": "str",
    "model_name": "str",
    "target_device": "str",
    "nireq": "int",
    "plugin_config": "json",
    "batch_size": "str",
    "layout": "str",
    "shape": "str",
    "model_version_policy": "json",
    "config_path": "str",
    "log_level": "str",
    "file_system_poll_wait_seconds": "int",
    "port": "int",
    "rest_port": "int",
    "metrics_list": "str",
    "grpc_workers": "int",
    "rest_workers": "int",
    "rest_bind_address": "str",
    "grpc_bind_address": "str",
}
FLAGS = ("metrics_enable",)
MODEL_OPTIONS = (
    "model_path",
    "model_name",
    "target_device",
    "nireq",
    "plugin_config",
    "batch_size",
    "layout",
    "shape",
    "model_version_policy",
)
#: what OVMS refuses beside --config_path (its Config::validate; --layout is ignored there)
NOT_WITH_CONFIG = tuple(name for name in MODEL_OPTIONS if name != "layout")


class ConfigError(ValueError):
    """A command line or config file OVMS would refuse; the message says what is wrong."""


@dataclass(frozen=True)
class VersionPolicy:
    """Which numeric version directories are served: ``latest`` (the ``count`` highest),
    ``all``, or ``specific`` (``versions``)."""

    kind: str = "latest"
    count: int = 1
    versions: tuple[int, ...] = ()

    def select(self, available: Sequence[int]) -> list[int]:
        """The versions to serve out of ``available``, ascending."""
        present = sorted(set(available))
        if self.kind == "all":
            return present
        if self.kind == "specific":
            return [v for v in present if v in self.versions]
        return present[-self.count :] if self.count > 0 else []


def parse_policy(value: Any) -> VersionPolicy:
    """The policy of ``{"latest": {"num_versions": N}}``, ``{"all": {}}`` or
    ``{"specific": {"versions": [...]}}``."""
    if not isinstance(value, Mapping) or len(value) != 1:
        raise ConfigError(f"model_version_policy must be an object with one key, not {value!r}")
    kind, body = next(iter(value.items()))
    if not isinstance(body, Mapping):
        raise ConfigError(f"model_version_policy {kind!r} must be an object, not {body!r}")
    if kind == "all" and not body:
        return VersionPolicy("all")
    if kind == "latest" and set(body) <= {"num_versions"}:
        count = body.get("num_versions", 1)
        if isinstance(count, int) and not isinstance(count, bool) and count > 0:
            return VersionPolicy("latest", count=count)
        raise ConfigError(f"latest.num_versions must be a positive integer, not {count!r}")
    if kind == "specific" and set(body) == {"versions"}:
        versions = body["versions"]
        if (
            isinstance(versions, list)
            and versions
            and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in versions)
        ):
            return VersionPolicy("specific", versions=tuple(sorted(set(versions))))
        raise ConfigError(f"specific.versions must be positive integers, not {versions!r}")
    raise ConfigError(f"model_version_policy {json.dumps(dict(value))} is not one OVMS knows")


@dataclass(frozen=True)
class ModelConfig:
    """One served model: its name, where its versions are, how they are compiled."""

    name: str
    base_path: str
    target_device: str = "CPU"
    nireq: int = 0
    plugin_config: Mapping[str, Any] = field(default_factory=dict)
    batch_size: str = ""
    layout: str = ""
    shape: str = ""
    policy: VersionPolicy = VersionPolicy()


@dataclass(frozen=True)
class ServerConfig:
    """The whole command line: the models (single-model mode) or the config file to read."""

    models: tuple[ModelConfig, ...] = ()
    config_path: str = ""
    log_level: str = "INFO"
    file_system_poll_wait_seconds: int = 1
    port: int = 9178
    rest_port: int = 0
    rest_bind_address: str = "0.0.0.0"
    grpc_bind_address: str = "0.0.0.0"
    metrics_enable: bool = False
    metrics_list: tuple[str, ...] = ()
    grpc_workers: int = 1
    rest_workers: int = 0


def _tokens(argv: Sequence[str]) -> tuple[dict[str, str], list[str], list[str]]:
    """(``--name value`` pairs, flags given, unmatched arguments); ``--name=value`` too."""
    values: dict[str, str] = {}
    flags: list[str] = []
    unmatched: list[str] = []
    items = list(argv)
    i = 0
    while i < len(items):
        token = items[i]
        name, eq, inline = token[2:].partition("=") if token.startswith("--") else ("", "", "")
        if name in FLAGS and not eq:
            flags.append(name)
        elif name in VALUE_OPTIONS:
            if eq:
                values[name] = inline
            elif i + 1 < len(items):
                i += 1
                values[name] = items[i]
            else:
                raise ConfigError(f"error parsing options - option '--{name}' needs a value")
        else:
            unmatched.append(token)
        i += 1
    return values, flags, unmatched


def _convert(name: str, text: str) -> Any:
    kind = VALUE_OPTIONS[name]
    if kind == "int":
        if not re.fullmatch(r"-?\d+", text.strip()):
            raise ConfigError(f"--{name} must be an integer, not {text!r}")
        return int(text)
    if kind == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            raise ConfigError(f"--{name} is not valid JSON ({e.msg}): {text!r}") from None
    return text


def check_path(path: str, what: str) -> str:
    """A local path or ``s3://bucket[/prefix]``; other remote schemes are refused."""
    if not path:
        raise ConfigError(f"{what} is empty")
    for scheme in UNSUPPORTED_SCHEMES:
        if path.lower().startswith(scheme):
            raise ConfigError(
                f"{what} {path}: {scheme} paths are not supported by this model server"
                " (local directories and s3:// only)"
            )
    if path.startswith("s3://") and not path[5:].split("/", 1)[0]:
        raise ConfigError(f"{what} {path} names no bucket")
    return path


def model_config(settings: Mapping[str, Any], where: str) -> ModelConfig:
    """A `ModelConfig` from the command line's or a config file entry's settings."""
    name = settings.get("name") or ""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
        raise ConfigError(f"{where}: the model name {name!r} is not valid")
    base = settings.get("base_path")
    if not isinstance(base, str):
        raise ConfigError(f"{where}: base_path must be a string, not {base!r}")
    plugin = settings.get("plugin_config") or {}
    if not isinstance(plugin, Mapping):
        raise ConfigError(f"{where}: plugin_config must be a JSON object, not {plugin!r}")
    nireq = settings.get("nireq") or 0
    if not isinstance(nireq, int) or isinstance(nireq, bool) or nireq < 0:
        raise ConfigError(f"{where}: nireq must be a non-negative integer, not {nireq!r}")
    policy = settings.get("model_version_policy")
    texts = {}
    for key in ("target_device", "batch_size", "layout", "shape"):
        value = settings.get(key)
        texts[key] = value if isinstance(value, str) else json.dumps(value) if value else ""
    return ModelConfig(
        name=name,
        base_path=check_path(base, f"{where}: the model path"),
        target_device=texts["target_device"] or "CPU",
        nireq=nireq,
        plugin_config=dict(plugin),
        batch_size=texts["batch_size"],
        layout=texts["layout"],
        shape=texts["shape"],
        policy=parse_policy(policy) if policy is not None else VersionPolicy(),
    )


SERVER_OPTIONS = (
    "config_path",
    "file_system_poll_wait_seconds",
    "port",
    "rest_port",
    "rest_bind_address",
    "grpc_bind_address",
    "grpc_workers",
    "rest_workers",
)


def _check(given: Mapping[str, Any], flags: Sequence[str]) -> str:
    """ConfigError for the combinations and values OVMS refuses; the log level."""
    clashing = [name for name in NOT_WITH_CONFIG if name in given]
    if "config_path" in given and clashing:
        options = ", ".join(f"--{n}" for n in clashing)
        raise ConfigError(f"--config_path excludes the single-model options ({options})")
    if "config_path" not in given and not {"model_path", "model_name"} <= set(given):
        raise ConfigError(
            "Use either --config_path, or --model_path and --model_name (single-model mode)"
        )
    level = str(given.get("log_level", "INFO")).upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"--log_level must be one of {', '.join(LOG_LEVELS)}, not {level!r}")
    for name in ("port", "rest_port"):
        if not 0 <= given.get(name, 0) <= 65535:
            raise ConfigError(f"--{name} must be a port number, not {given[name]}")
    if given.get("rest_port", 0) and given.get("rest_port") == given.get("port"):
        raise ConfigError("--port and --rest_port must differ")
    for name, least in (("file_system_poll_wait_seconds", 0), ("grpc_workers", 1)):
        if given.get(name, least) < least:
            raise ConfigError(f"--{name} must be at least {least}, not {given[name]}")
    if "rest_workers" in given and given["rest_workers"] < 2:
        raise ConfigError("--rest_workers must be at least 2 (OVMS's rule)")
    if "metrics_list" in given and "metrics_enable" not in flags:
        raise ConfigError("--metrics_list needs --metrics_enable")
    return level


def parse_args(argv: Sequence[str]) -> ServerConfig:
    """The settings of an ``ovms`` command line; ConfigError for one OVMS would refuse."""
    values, flags, unmatched = _tokens(argv)
    if unmatched:
        raise ConfigError("error parsing options - unmatched arguments : " + " ".join(unmatched))
    given = {name: _convert(name, text) for name, text in values.items()}
    single = [name for name in MODEL_OPTIONS if name in given]
    level = _check(given, flags)
    config = ServerConfig(
        log_level=level,
        metrics_enable="metrics_enable" in flags,
        metrics_list=tuple(m for m in str(given.get("metrics_list", "")).split(",") if m),
        **{name: given[name] for name in SERVER_OPTIONS if name in given},
    )
    if "config_path" in given:
        return config
    settings = {name: given[name] for name in single}
    for name in ("plugin_config", "model_version_policy"):
        if name in settings and not isinstance(settings[name], dict):
            raise ConfigError(f"--{name} must be a JSON object, not {values[name]!r}")
    settings["name"] = settings.pop("model_name")
    settings["base_path"] = settings.pop("model_path")
    return replace(config, models=(model_config(settings, "--model_path"),))


def parse_config_file(text: str, *, where: str = "config") -> tuple[ModelConfig, ...]:
    """The models of an OVMS config file (``{"model_config_list": [{"config": {...}}]}``)."""
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as e:
        raise ConfigError(f"{where} is not valid JSON: {e}") from None
    entries = doc.get("model_config_list") if isinstance(doc, Mapping) else None
    if not isinstance(entries, list):
        raise ConfigError(f"{where} has no model_config_list")
    models: list[ModelConfig] = []
    for i, entry in enumerate(entries):
        settings = entry.get("config") if isinstance(entry, Mapping) else None
        if not isinstance(settings, Mapping):
            raise ConfigError(f"{where}: model_config_list[{i}] has no config object")
        models.append(model_config(settings, f"{where}: model_config_list[{i}]"))
    names = [m.name for m in models]
    doubled = sorted({n for n in names if names.count(n) > 1})
    if doubled:
        raise ConfigError(f"{where}: the model names {', '.join(doubled)} are used twice")
    return tuple(models)
