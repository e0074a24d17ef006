"""What a container sees, resolved as a kubelet would: environment, command line, paths.

Pure functions over plain dicts. Secrets and ConfigMaps are read through a ``lookup``
callable so this module never touches the store. Because simulated pods share the host's
filesystem and network, two translations stand in for mount and network namespaces:
paths under a volume's ``mountPath`` become the volume's local directory, and the wildcard
address ``0.0.0.0`` becomes the pod's own loopback IP.
Part of the cluster simulator, a test double of Kubernetes (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import base64
import os
import re
import shutil
from collections.abc import Callable, Mapping
from typing import Any

# (kind, namespace, name) -> the object, or None when it does not exist
Lookup = Callable[[str, str, str], dict[str, Any] | None]

_VAR_RE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")
_FIELD_RE = re.compile(r"^metadata\.(labels|annotations)\['([^']+)'\]$")


class PodConfigError(Exception):
    """The container cannot be created yet (the kubelet's CreateContainerConfigError)."""

    #: the container's ``state.waiting.reason`` while this lasts
    reason = "CreateContainerConfigError"


class CreateContainerError(PodConfigError):
    """The runtime cannot create the container as specified (the kubelet's
    CreateContainerError): no command at all, or an executable that is not there."""

    reason = "CreateContainerError"


def expand(value: str, env: Mapping[str, str]) -> str:
    """Expand ``$(VAR)`` from variables defined so far; ``$$`` escapes; unknown stays literal."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env.get(name, match.group(0))

    return _VAR_RE.sub(replace, value)


def field_ref(pod: dict[str, Any], path: str) -> str:
    """The downward-API fields a kubelet supports in ``fieldRef.fieldPath``."""
    meta, spec, status = pod.get("metadata", {}), pod.get("spec", {}), pod.get("status", {})
    simple = {
        "metadata.name": meta.get("name"),
        "metadata.namespace": meta.get("namespace"),
        "metadata.uid": meta.get("uid"),
        "spec.nodeName": spec.get("nodeName"),
        "spec.serviceAccountName": spec.get("serviceAccountName"),
        "status.podIP": status.get("podIP"),
        "status.hostIP": status.get("hostIP"),
    }
    if path in simple:
        return str(simple[path] or "")
    if match := _FIELD_RE.match(path):
        return str((meta.get(match.group(1)) or {}).get(match.group(2), ""))
    raise PodConfigError(f"unsupported fieldRef fieldPath: {path}")


def _decode(kind: str, value: str) -> str:
    return base64.b64decode(value).decode() if kind == "Secret" else value


def _key_ref(kind: str, ref: dict[str, Any], namespace: str, lookup: Lookup) -> str | None:
    name, key = ref.get("name", ""), ref.get("key", "")
    obj = lookup(kind, namespace, name)
    if obj is None:
        if ref.get("optional"):
            return None
        raise PodConfigError(f'{kind.lower()} "{name}" not found')
    data = obj.get("data") or {}
    if key not in data:
        if ref.get("optional"):
            return None
        raise PodConfigError(f"couldn't find key {key} in {kind} {namespace}/{name}")
    return _decode(kind, data[key])


def _value_from(source: dict[str, Any], pod: dict[str, Any], lookup: Lookup) -> str | None:
    namespace = pod["metadata"].get("namespace", "")
    if "secretKeyRef" in source:
        return _key_ref("Secret", source["secretKeyRef"], namespace, lookup)
    if "configMapKeyRef" in source:
        return _key_ref("ConfigMap", source["configMapKeyRef"], namespace, lookup)
    if "fieldRef" in source:
        return field_ref(pod, source["fieldRef"].get("fieldPath", ""))
    if "resourceFieldRef" in source:
        return "0"  # no resource accounting in the simulator
    raise PodConfigError(f"unsupported valueFrom: {sorted(source)}")


def _env_from(entry: dict[str, Any], namespace: str, lookup: Lookup) -> dict[str, str]:
    prefix = entry.get("prefix", "")
    for field, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
        if field in entry:
            ref = entry[field]
            obj = lookup(kind, namespace, ref.get("name", ""))
            if obj is None:
                if ref.get("optional"):
                    return {}
                raise PodConfigError(f'{kind.lower()} "{ref.get("name", "")}" not found')
            data = obj.get("data") or {}
            return {prefix + k: _decode(kind, v) for k, v in data.items()}
    return {}


def container_env(
    pod: dict[str, Any],
    container: dict[str, Any],
    lookup: Lookup,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The container's environment: ``base`` (the Services' variables), then ``envFrom``,
    then ``env`` in order, with ``$(VAR)`` expansion over what is defined so far."""
    namespace = pod["metadata"].get("namespace", "")
    env: dict[str, str] = dict(base or {})
    for entry in container.get("envFrom") or []:
        env.update(_env_from(entry, namespace, lookup))
    for var in container.get("env") or []:
        if "valueFrom" in var:
            value = _value_from(var["valueFrom"], pod, lookup)
            if value is None:
                continue
        else:
            value = expand(str(var.get("value", "")), env)
        env[var["name"]] = value
    return env


def image_repository(image: str) -> str:
    """``quay.io/org/name:tag`` or ``...@sha256:...`` without its tag and digest."""
    name = image.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


def image_command(image: str, image_commands: Mapping[str, list[str]]) -> list[str]:
    """The local command mapped to the image's repository, with or without its registry host
    (``openvino/model_server`` matches ``docker.io/openvino/model_server:2024.5``)."""
    repository = image_repository(image)
    first, _, path = repository.partition("/")
    candidates = [repository]
    if path and ("." in first or ":" in first or first == "localhost"):
        candidates.append(path)
    for candidate in candidates:
        if candidate in image_commands:
            return list(image_commands[candidate])
    return []


def command_line(
    container: dict[str, Any],
    env: Mapping[str, str],
    entrypoints: Mapping[str, list[str]],
    image_commands: Mapping[str, list[str]] | None = None,
) -> list[str]:
    """``command`` (else the image's entrypoint, else the command mapped to its repository)
    followed by ``args``, with ``$(VAR)`` expanded."""
    image = container.get("image", "")
    command = (
        container.get("command")
        or entrypoints.get(image)
        or image_command(image, image_commands or {})
    )
    argv = [expand(str(part), env) for part in [*command, *(container.get("args") or [])]]
    if not argv:
        raise CreateContainerError(
            f"no command specified (container {container.get('name')!r}: image"
            f" {container.get('image')!r} has no entrypoint the simulator knows; give the"
            " container a command, or start the simulator with --entrypoint IMAGE=COMMAND)"
        )
    return argv


def check_executable(program: str, path: str, cwd: str) -> None:
    """CreateContainerError, worded as the container runtime's, unless ``program`` would run.

    Blocking (it looks at the filesystem): call it in a thread.
    """
    if "/" in program:
        target = os.path.join(cwd, program)
        if not os.path.exists(target):
            raise CreateContainerError(
                f'container create failed: exec: "{program}": stat {program}:'
                " no such file or directory"
            )
        if os.path.isdir(target) or not os.access(target, os.X_OK):
            raise CreateContainerError(
                f'container create failed: exec: "{program}": permission denied'
            )
    elif shutil.which(program, path=path) is None:
        raise CreateContainerError(
            f'container create failed: exec: "{program}": executable file not found in $PATH'
        )


def translate(value: str, mounts: Mapping[str, str], pod_ip: str) -> str:
    """Map in-container paths to their local directories and ``0.0.0.0`` to the pod's IP.

    One pass, longest mount path first, so a replaced directory is never rewritten again.
    """
    if mounts:
        paths = sorted((p.rstrip("/") or "/" for p in mounts), key=len, reverse=True)
        local = {p.rstrip("/") or "/": d.rstrip("/") for p, d in mounts.items()}
        pattern = "|".join(re.escape(p) for p in paths)
        value = re.sub(rf"({pattern})(?=/|$|[\s:;,'\"])", lambda m: local[m.group(1)], value)
    return value.replace("0.0.0.0", pod_ip)
