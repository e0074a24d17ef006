"""A simulated volume binder/provisioner backed by local directories: a test double only.

For each Pending PersistentVolumeClaim whose StorageClass uses this provisioner it waits
``bind_delay`` seconds, creates a directory and a PersistentVolume (``hostPath``) for it and
binds both (``spec.volumeName``, phase Bound). A claim naming an unknown class stays Pending
with a ``ProvisioningFailed`` warning Event; a class of another provisioner leaves it
Pending with ``ExternalProvisioning``. Deleting a claim applies the reclaim policy: Delete
removes the volume and its directory, Retain marks the volume Released and keeps the data.
Part of the cluster simulator (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .controller import Controller
from .errors import ApiError
from .kinds import ResourceKind
from .patches import MERGE_PATCH
from .store import ObjectStore
from .watchcache import WatchEvent

PROVISIONER = "jupyterhub-ov.sim/hostpath"
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"


class VolumeBinder(Controller):
    """Provisions and binds volumes for claims, one local directory per volume."""

    component = "persistentvolume-controller"
    watched = (("", "v1", "persistentvolumeclaims"), ("storage.k8s.io", "v1", "storageclasses"))

    def __init__(
        self,
        store: ObjectStore,
        *,
        root: Path,
        bind_delay: float = 0.0,
        storage_classes: Mapping[str, str] | None = None,
        default_class: str | None = "standard",
    ) -> None:
        """``storage_classes`` maps class names to reclaim policies (Delete or Retain)."""
        super().__init__(store)
        self.root = Path(root)
        self.bind_delay = bind_delay
        self.storage_classes = dict(storage_classes or {"standard": "Delete"})
        self.default_class = default_class
        self.claims = self.kind("", "v1", "persistentvolumeclaims")
        self.volumes = self.kind("", "v1", "persistentvolumes")
        self.classes = self.kind("storage.k8s.io", "v1", "storageclasses")
        self._in_progress: set[str] = set()
        self._reported: set[tuple[str, str]] = set()

    async def start(self) -> None:
        for name, policy in self.storage_classes.items():
            annotations = {DEFAULT_CLASS_ANNOTATION: "true"} if name == self.default_class else {}
            body = {
                "metadata": {"name": name, "annotations": annotations},
                "provisioner": PROVISIONER,
                "reclaimPolicy": policy,
                "volumeBindingMode": "Immediate",
            }
            self.get_or_create(self.classes, "", body)
        await super().start()

    def on_event(self, kind: ResourceKind, event: WatchEvent) -> None:
        if kind is self.classes:
            if event.type == "ADDED":
                for claim in self.store.list_objects(self.claims)[0]:
                    self._consider(claim)
        elif event.type == "DELETED":
            self.spawn(self._reclaim(event.obj))
        else:
            self._consider(event.obj)

    def _report(self, obj: dict[str, Any], reason: str, message: str, type_: str) -> None:
        key = (obj["metadata"]["uid"], message)
        if key not in self._reported:
            self._reported.add(key)
            self.record_event(obj, reason, message, type_)

    def _class_of(self, claim: dict[str, Any]) -> str | None:
        name = (claim.get("spec") or {}).get("storageClassName")
        if name is not None:
            return str(name)
        for storage_class in self.store.list_objects(self.classes)[0]:
            annotations = storage_class["metadata"].get("annotations") or {}
            if annotations.get(DEFAULT_CLASS_ANNOTATION) == "true":
                return str(storage_class["metadata"]["name"])
        return None

    def _consider(self, claim: dict[str, Any]) -> None:
        md = claim["metadata"]
        pending = (claim.get("status") or {}).get("phase", "Pending") == "Pending"
        if not pending or md.get("deletionTimestamp") or md["uid"] in self._in_progress:
            return
        if (claim.get("spec") or {}).get("volumeName"):
            return
        class_name = self._class_of(claim)
        if not class_name:
            message = "no persistent volumes available for this claim and no storage class is set"
            self._report(claim, "FailedBinding", message, "Normal")
            return
        try:
            storage_class = self.store.get(self.classes, "", class_name)
        except ApiError:
            message = f'storageclass.storage.k8s.io "{class_name}" not found'
            self._report(claim, "ProvisioningFailed", message, "Warning")
            return
        if storage_class.get("provisioner") != PROVISIONER:
            message = (
                "Waiting for a volume to be created either by the external provisioner "
                f"'{storage_class.get('provisioner')}' or manually by the system administrator. "
                "If volume creation is delayed, please verify that the provisioner is running "
                "and correctly registered."
            )
            self._report(claim, "ExternalProvisioning", message, "Normal")
            return
        self._in_progress.add(md["uid"])
        self.spawn(self._provision(claim, storage_class))

    async def _provision(self, claim: dict[str, Any], storage_class: dict[str, Any]) -> None:
        md = claim["metadata"]
        try:
            claim_ref = f"{md['namespace']}/{md['name']}"
            message = f'External provisioner is provisioning volume for claim "{claim_ref}"'
            self.record_event(claim, "Provisioning", message)
            if self.bind_delay:
                await asyncio.sleep(self.bind_delay)  # the configured provisioning time
            current = self._current(claim)
            if current is None:
                return
            volume = await self._create_volume(current, storage_class)
            self._bind(current, volume, storage_class)
        finally:
            self._in_progress.discard(md["uid"])

    def _current(self, claim: dict[str, Any]) -> dict[str, Any] | None:
        md = claim["metadata"]
        try:
            current = self.store.get(self.claims, md["namespace"], md["name"])
        except ApiError:
            return None
        same = current["metadata"]["uid"] == md["uid"]
        return current if same and not current["metadata"].get("deletionTimestamp") else None

    async def _create_volume(
        self, claim: dict[str, Any], storage_class: dict[str, Any]
    ) -> dict[str, Any]:
        md, spec = claim["metadata"], claim.get("spec") or {}
        name = f"pvc-{md['uid']}"
        directory = self.root / name
        await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
        requested = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
        body = {
            "metadata": {
                "name": name,
                "annotations": {"pv.kubernetes.io/provisioned-by": PROVISIONER},
            },
            "spec": {
                "capacity": {"storage": requested},
                "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": storage_class.get("reclaimPolicy", "Delete"),
                "storageClassName": storage_class["metadata"]["name"],
                "volumeMode": "Filesystem",
                "hostPath": {"path": str(directory), "type": "DirectoryOrCreate"},
                "claimRef": {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "namespace": md["namespace"],
                    "name": md["name"],
                    "uid": md["uid"],
                },
            },
        }
        volume = self.store.create(self.volumes, "", body)
        return self.merge_status(self.volumes, volume, {"phase": "Bound"}) or volume

    def _bind(
        self, claim: dict[str, Any], volume: dict[str, Any], storage_class: dict[str, Any]
    ) -> None:
        md = claim["metadata"]
        patch = {
            "metadata": {
                "annotations": {
                    "pv.kubernetes.io/bind-completed": "yes",
                    "pv.kubernetes.io/bound-by-controller": "yes",
                    "volume.kubernetes.io/storage-provisioner": PROVISIONER,
                }
            },
            "spec": {
                "volumeName": volume["metadata"]["name"],
                "storageClassName": storage_class["metadata"]["name"],
            },
        }
        bound = self.store.patch(self.claims, md["namespace"], md["name"], patch, MERGE_PATCH)
        status = {
            "phase": "Bound",
            "accessModes": volume["spec"]["accessModes"],
            "capacity": volume["spec"]["capacity"],
        }
        self.merge_status(self.claims, bound, status)
        message = f"Successfully provisioned volume {volume['metadata']['name']}"
        self.record_event(claim, "ProvisioningSucceeded", message)

    async def _reclaim(self, claim: dict[str, Any]) -> None:
        name = (claim.get("spec") or {}).get("volumeName")
        if not name:
            return
        try:
            volume = self.store.get(self.volumes, "", name)
        except ApiError:
            return
        if volume["spec"].get("persistentVolumeReclaimPolicy") == "Delete":
            self.store.delete(self.volumes, "", name)
            path = volume["spec"].get("hostPath", {}).get("path")
            if path and Path(path).is_relative_to(self.root):
                await asyncio.to_thread(shutil.rmtree, path, True)
        else:
            self.merge_status(self.volumes, volume, {"phase": "Released"})
