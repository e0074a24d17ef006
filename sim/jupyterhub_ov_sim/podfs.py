"""Pod volumes on the local filesystem, for the simulated kubelet.

``persistentVolumeClaim`` volumes resolve to the bound PersistentVolume's ``hostPath`` (or
``local``) directory, ``emptyDir`` to a per-pod directory, ``configMap`` and ``secret`` to a
per-pod directory filled with one file per key. File work runs in a thread.
Part of the cluster simulator, a test double of Kubernetes (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

from .podenv import Lookup, PodConfigError


class PodUnschedulable(PodConfigError):
    """The scheduler would not place the pod yet (for example an unbound claim)."""


def _claim_directory(claim_name: str, namespace: str, lookup: Lookup) -> Path:
    claim = lookup("PersistentVolumeClaim", namespace, claim_name)
    if claim is None:
        raise PodUnschedulable(f'persistentvolumeclaim "{claim_name}" not found')
    volume_name = (claim.get("spec") or {}).get("volumeName")
    if (claim.get("status") or {}).get("phase") != "Bound" or not volume_name:
        raise PodUnschedulable("pod has unbound immediate PersistentVolumeClaims")
    volume = lookup("PersistentVolume", "", volume_name)
    spec = (volume or {}).get("spec") or {}
    path = (spec.get("hostPath") or spec.get("local") or {}).get("path")
    if not path:
        raise PodConfigError(f'persistentvolume "{volume_name}" has no local path')
    return Path(path)


def _files(volume: dict[str, Any], kind: str, namespace: str, lookup: Lookup) -> dict[str, bytes]:
    source = volume["configMap" if kind == "ConfigMap" else "secret"]
    name = source.get("name") or source.get("secretName") or ""
    obj = lookup(kind, namespace, name)
    if obj is None:
        if source.get("optional"):
            return {}
        raise PodConfigError(f'{kind.lower()} "{name}" not found')
    data = obj.get("data") or {}
    items = source.get("items") or [{"key": k, "path": k} for k in data]
    files = {}
    for item in items:
        value = data.get(item["key"], "")
        files[item["path"]] = base64.b64decode(value) if kind == "Secret" else value.encode()
    return files


def _write_files(directory: Path, files: dict[str, bytes]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for relative, content in files.items():
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


async def volume_directory(
    volume: dict[str, Any], pod_dir: Path, namespace: str, lookup: Lookup
) -> Path:
    """The local directory backing one pod volume, created and filled as needed."""
    own = pod_dir / "volumes" / volume["name"]
    if "persistentVolumeClaim" in volume:
        claim = volume["persistentVolumeClaim"].get("claimName", "")
        directory = _claim_directory(claim, namespace, lookup)
        await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
        return directory
    if "emptyDir" in volume:
        await asyncio.to_thread(own.mkdir, parents=True, exist_ok=True)
        return own
    for field, kind in (("configMap", "ConfigMap"), ("secret", "Secret")):
        if field in volume:
            await asyncio.to_thread(_write_files, own, _files(volume, kind, namespace, lookup))
            return own
    raise PodConfigError(f"volume {volume['name']!r}: this volume type is not simulated")


def check_claims(pod: dict[str, Any], lookup: Lookup) -> None:
    """Raise PodUnschedulable unless every claim the pod uses is bound."""
    namespace = pod["metadata"].get("namespace", "")
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        if "persistentVolumeClaim" in volume:
            _claim_directory(
                volume["persistentVolumeClaim"].get("claimName", ""), namespace, lookup
            )


async def container_mounts(
    pod: dict[str, Any], container: dict[str, Any], pod_dir: Path, lookup: Lookup
) -> dict[str, str]:
    """``mountPath`` -> local directory for each of the container's volume mounts."""
    namespace = pod["metadata"].get("namespace", "")
    volumes = {v["name"]: v for v in (pod.get("spec") or {}).get("volumes") or []}
    mounts: dict[str, str] = {}
    for mount in container.get("volumeMounts") or []:
        volume = volumes.get(mount.get("name", ""))
        if volume is None:
            raise PodConfigError(f"volumeMount {mount.get('name')!r} names no volume of the pod")
        directory = await volume_directory(volume, pod_dir, namespace, lookup)
        if sub_path := mount.get("subPath"):
            directory = directory / sub_path
            await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
        mounts[mount["mountPath"]] = str(directory)
    return mounts
