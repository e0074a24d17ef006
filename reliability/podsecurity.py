"""Issue 17, scenario 5: every pod we create checked against the restricted Pod Security
Standard and OpenShift's restricted-v2 SCC, and for a service account token it needs not.

OpenShift mode on the simulator, one cluster for all: a real hub with OVKubeSpawner spawns
notebooks (2 users short, 8 full), and the platform service (openshift backend, its own
process) on the same namespace imports an image through a CustomNBImage (its validation pod)
and serves a ModelServer (its Deployment's pod, made by the simulated ReplicaSet controller).
The namespace is labelled ``pod-security.kubernetes.io/warn: restricted`` (a violating pod is
still stored, to be counted, and its creator warned). Every pod the store takes is judged
once, as first stored (`podaudit`): 0 violations per source. The Notebook reconciler makes
no pods of its own (its builds' validation pods are the builds'); OpenShift Build pods are
OpenShift's, not ours; Tekton task pods are judged from the PipelineRun in tests/builds.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from kubernetes_asyncio import client

from tests.kube.conftest import KubeSetup

from . import figures
from .checks import PODS
from .cluster import KIND_PATHS, on_store_events, spawn_config, tiny_hub, workdir
from .crashsim import CUSTOM, image_import, service_config
from .crashstack import Service
from .podaudit import MODEL_SERVER, NOTEBOOK, OTHER, SOURCES, VALIDATION, PodAudit

NAME = "podsecurity"
WARN = {"pod-security.kubernetes.io/warn": "restricted"}
MODEL_SERVERS = ("intel.com", "v1alpha1", "modelservers")
EXTRA_SERVICE_CONFIG = """
c.PlatformService.features = ["builds", "customimages", "modelservers"]
c.ModelServerReconciler.resync_seconds = 1
"""


def model_server(name: str, claim: str) -> dict[str, Any]:
    """A ModelServer serving from a user's bucket claim (made by that user's spawn)."""
    return {
        "apiVersion": "intel.com/v1alpha1",
        "kind": "ModelServer",
        "metadata": {"name": name},
        "spec": {
            "image_name": "openvino/model_server:2026.4.1",
            "deployment_parameters": {"replicas": 1},
            "models_settings": {
                "single_model_mode": True,
                "model_name": "m",
                "model_path": "s3://models/m",
            },
            "models_repository": {"storage_type": "S3", "bucket_claim": claim},
        },
    }


async def _until(audit: PodAudit, wanted: dict[str, int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while any(audit.seen.get(s, 0) < n for s, n in wanted.items()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"pods seen {dict(audit.seen)}, not {wanted} in {timeout:g} s")
        await asyncio.sleep(0.05)  # the store's hook fills the audit: no event to wait on


async def _workloads(setup: KubeSetup, users: list[str]) -> None:
    """An image imported through a CustomNBImage (validated by a pod) and a ModelServer
    serving from the first user's bucket claim."""
    custom = client.CustomObjectsApi(setup.api)
    body = image_import("checked", "quay.io/example/checked:1")
    await custom.create_namespaced_custom_object(*CUSTOM[:3], CUSTOM[3], body)
    body = model_server("demo", f"jupyter-bucket-{users[0]}")
    await custom.create_namespaced_custom_object(
        *MODEL_SERVERS[:2], "default", MODEL_SERVERS[2], body
    )


def _spawn(setup: KubeSetup, users: list[str]) -> asyncio.Future:
    """Every user's spawn at once, each waited for in a thread of a pool of their own: the
    default executor stays free for the simulator's own blocking work (its kubelet and
    bucket provisioner), which a waiting thread per user would starve."""
    loop = asyncio.get_running_loop()
    pool = ThreadPoolExecutor(len(users))
    start = setup.hub.start_server
    futures = [loop.run_in_executor(pool, partial(start, u, timeout=300)) for u in users]
    pool.shutdown(wait=False)
    return asyncio.gather(*futures, return_exceptions=True)


async def _scenario(work: Path, users: list[str]) -> tuple[PodAudit, list[str]]:
    audit = PodAudit()
    async with tiny_hub(work / "hub", spawn_config()) as setup:
        store = setup.cluster.server.store
        with on_store_events(store, KIND_PATHS[PODS], lambda e: audit.observe(e.type, e.obj)):
            await setup.core.patch_namespace("default", {"metadata": {"labels": WARN}})
            config = service_config(
                work, setup.cluster.kubeconfig, "http://127.0.0.1:9/", 2, "openshift"
            )
            (work / "jupyterhub_ov_service_config.py").write_text(config + EXTRA_SERVICE_CONFIG)
            service = Service(work, env={"HOME": str(work)})
            try:
                started = _spawn(setup, users)
                results, _ = await asyncio.gather(started, asyncio.to_thread(service.start))
                await _workloads(setup, users)
                await _until(audit, {VALIDATION: 1, MODEL_SERVER: 1}, timeout=60)
            finally:  # SIGKILL: how it stops is servicecrash's business, not this one's
                if service.proc is not None:
                    await asyncio.to_thread(service.kill)
    return audit, [
        f"{u}: {r!r}"[:400]
        for u, r in zip(users, results, strict=True)
        if isinstance(r, BaseException)
    ]


def run(full: bool) -> list[figures.Figure]:
    users = [f"psa-{i}" for i in range(8 if full else 2)]
    started = time.monotonic()
    with workdir(NAME) as work:
        audit, failed = asyncio.run(_scenario(work, users))
    took = time.monotonic() - started
    for text in failed:
        print(f"podsecurity: spawn failed: {text}", flush=True)
    for where, texts in audit.found.items():
        for text in texts:
            print(f"podsecurity: {where}: {text}", flush=True)
    wanted = {NOTEBOOK: len(users), VALIDATION: 1, MODEL_SERVER: 1}
    out = [figures.zero(NAME, "spawns failed", len(failed))]
    for where in SOURCES:
        seen = audit.seen.get(where, 0)
        out.append(figures.at_least(NAME, f"{where} pods checked", seen, wanted[where]))
        out.append(figures.zero(NAME, f"{where} pods: violations", audit.violations(where)))
    out.append(figures.info(NAME, "other pods checked", audit.seen.get(OTHER, 0)))
    out.append(figures.zero(NAME, "other pods: violations", audit.violations(OTHER)))
    out.append(figures.info(NAME, "seconds", round(took, 1)))
    return out
