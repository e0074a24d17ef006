# The client annotates bodies as models and hides _content_type; it accepts dicts and both.
# mypy: disable-error-code="arg-type, call-arg"
"""The simulated volume binder: claims bind to directory-backed volumes, reclaim policies."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from jupyterhub_ov_sim.volumes import PROVISIONER, VolumeBinder
from kubernetes_asyncio import client

from .conftest import Cluster
from .helpers import eventually, watch_until


def claim(name: str, storage_class: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "2Gi"}},
    }
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    return {"metadata": {"name": name}, "spec": spec}


def bound(obj: dict[str, Any]) -> bool:
    return obj.get("status", {}).get("phase") == "Bound"


async def reasons(core: client.CoreV1Api, name: str) -> list[str]:
    listed = await core.list_namespaced_event(
        "default", field_selector=f"involvedObject.name={name}"
    )
    return [e.reason for e in listed.items]


async def test_claim_binds_to_a_directory(cluster: Cluster, core: client.CoreV1Api) -> None:
    created = await core.create_namespaced_persistent_volume_claim("default", claim("home"))
    assert created.status.phase == "Pending"
    done = await watch_until(
        core.list_namespaced_persistent_volume_claim, "default", name="home", predicate=bound
    )
    assert done["spec"]["storageClassName"] == "standard"  # the default class
    assert done["status"]["capacity"] == {"storage": "2Gi"}
    volume = await core.read_persistent_volume(done["spec"]["volumeName"])
    assert volume.status.phase == "Bound"
    assert volume.spec.claim_ref.uid == created.metadata.uid
    assert volume.spec.persistent_volume_reclaim_policy == "Delete"
    assert await asyncio.to_thread(Path(volume.spec.host_path.path).is_dir)
    assert await reasons(core, "home") == ["Provisioning", "ProvisioningSucceeded"]


async def test_unknown_class_stays_pending_with_an_event(
    cluster: Cluster, core: client.CoreV1Api
) -> None:
    await core.create_namespaced_persistent_volume_claim("default", claim("odd", "no-such-class"))
    event = await watch_until(
        core.list_namespaced_event,
        "default",
        field_selector="involvedObject.name=odd",
        predicate=lambda e: e["reason"] == "ProvisioningFailed",
    )
    assert event["type"] == "Warning"
    assert event["message"] == 'storageclass.storage.k8s.io "no-such-class" not found'
    listed = await core.list_namespaced_event("default", field_selector="involvedObject.name=odd")
    assert len(listed.items) == 1
    pvc = await core.read_namespaced_persistent_volume_claim("odd", "default")
    assert pvc.status.phase == "Pending" and pvc.spec.volume_name is None


async def test_claim_binds_once_its_class_appears(
    cluster: Cluster, core: client.CoreV1Api, api_client: client.ApiClient
) -> None:
    await core.create_namespaced_persistent_volume_claim("default", claim("late", "fast"))
    body = {"metadata": {"name": "fast"}, "provisioner": PROVISIONER, "reclaimPolicy": "Retain"}
    await client.StorageV1Api(api_client).create_storage_class(body)
    done = await watch_until(
        core.list_namespaced_persistent_volume_claim, "default", name="late", predicate=bound
    )
    volume = await core.read_persistent_volume(done["spec"]["volumeName"])
    assert volume.spec.persistent_volume_reclaim_policy == "Retain"


async def test_delete_policy_removes_volume_and_data(
    cluster: Cluster, core: client.CoreV1Api
) -> None:
    await core.create_namespaced_persistent_volume_claim("default", claim("scratch"))
    done = await watch_until(
        core.list_namespaced_persistent_volume_claim, "default", name="scratch", predicate=bound
    )
    volume = await core.read_persistent_volume(done["spec"]["volumeName"])
    directory = Path(volume.spec.host_path.path)
    (directory / "data.txt").write_text("x")
    await core.delete_namespaced_persistent_volume_claim("scratch", "default")
    await eventually(lambda: not directory.exists())
    names = [v.metadata.name for v in (await core.list_persistent_volume()).items]
    assert done["spec"]["volumeName"] not in names


async def test_retain_policy_keeps_the_data(
    sim_server: Any, core: client.CoreV1Api, tmp_path: Path
) -> None:
    binder = VolumeBinder(
        sim_server.store, root=tmp_path, storage_classes={"keep": "Retain"}, default_class="keep"
    )
    await binder.start()
    try:
        await core.create_namespaced_persistent_volume_claim("default", claim("precious"))
        done = await watch_until(
            core.list_namespaced_persistent_volume_claim,
            "default",
            name="precious",
            predicate=bound,
        )
        name = done["spec"]["volumeName"]
        directory = tmp_path / name
        (directory / "notebook.ipynb").write_text("{}")
        await core.delete_namespaced_persistent_volume_claim("precious", "default")
        released = await watch_until(
            core.list_persistent_volume,
            name=name,
            predicate=lambda v: v["status"]["phase"] == "Released",
        )
        assert released["spec"]["hostPath"]["path"] == str(directory)
        assert (directory / "notebook.ipynb").read_text() == "{}"
    finally:
        await binder.stop()


async def test_bind_delay_is_honoured(
    sim_server: Any, core: client.CoreV1Api, tmp_path: Path
) -> None:
    binder = VolumeBinder(sim_server.store, root=tmp_path, bind_delay=0.3)
    await binder.start()
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await core.create_namespaced_persistent_volume_claim("default", claim("slow"))
        await watch_until(
            core.list_namespaced_persistent_volume_claim, "default", name="slow", predicate=bound
        )
        assert loop.time() - started >= 0.3
    finally:
        await binder.stop()
