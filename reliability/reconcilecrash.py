"""The reconcile mode of the servicecrash scenario: the platform service (openshift backend,
the ``modelservers`` feature) on the cluster simulator, SIGKILLed in the middle of a
ModelServer reconcile and started again.

The kill comes from a store hook (`cluster.on_store_events`), synchronously as the simulator
stores the object, before the service hears its answer: right after the Deployment create
(no Service, no status yet), and (full mode) right after the Service create (no status yet). A third
ModelServer is killed after its Deployment create and deleted while the service is down. At
the end (`reconcilecheck`): every kept ModelServer has exactly one Deployment and one
Service, each created once and controlled by it, and a truthful status; the deleted one left
nothing; the killed service left no process.
"""

# The client annotates bodies as models; it accepts dicts.
# mypy: disable-error-code="arg-type"

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyterhub_ov_sim.cluster import ClusterOptions, SimulatedCluster, cluster_options
from jupyterhub_ov_sim.store import ObjectStore
from jupyterhub_ov_sim.watchcache import WatchEvent
from kubernetes_asyncio import client

from jupyterhub_ov.service.features.modelservers.spec import GROUP, PLURAL, VERSION
from tests.service.features.modelservers.test_cluster import FAKE_OVMS, SPEC
from tests.sim.workloads import PY

from . import reconcilecheck
from .cluster import on_store_events
from .crashsim import NS, service_config
from .crashstack import Crash, GatedIndex, Service

#: (group, version, plural) of what a ModelServer reconcile makes, and what that makes
PATHS = {
    "ModelServer": (GROUP, VERSION, PLURAL),
    "Deployment": ("apps", "v1", "deployments"),
    "Service": ("", "v1", "services"),
    "ReplicaSet": ("apps", "v1", "replicasets"),
    "Pod": ("", "v1", "pods"),
}
#: (ModelServer, the kind whose create is the kill, deleted while the service is down)
KILLS = (("after-deploy", "Deployment", False), ("after-service", "Service", False))
GONE = ("deleted-while-down", "Deployment", True)


MODELSERVERS = {
    "PlatformService.features": ["modelservers"],
    "ModelServerReconciler.resync_seconds": 1,
}


def settings(values: dict[str, Any]) -> str:
    """Config file lines setting ``values`` (``Class.trait``: value)."""
    return "".join(f"c.{key} = {value!r}\n" for key, value in values.items())


def listed(store: ObjectStore, kind: str) -> list[dict[str, Any]]:
    found = store.registry.lookup(*PATHS[kind])
    assert found is not None
    return [{**o, "kind": kind} for o in store.list_objects(found, NS)[0]]


@dataclass(kw_only=True)
class StoreCrash(Crash):
    """A `Crash` on the simulator whose kills come from its store's hooks."""

    cluster: SimulatedCluster
    api: client.ApiClient

    @property
    def store(self) -> ObjectStore:
        return self.cluster.server.store

    async def kill_at(
        self,
        label: str,
        path: tuple[str, str, str],
        first: Callable[[dict[str, Any]], bool],
        cause: Callable[[], Awaitable[None]],
        while_down: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """``cause()``; SIGKILL the service as the first object at ``path`` for which
        ``first(obj)`` holds is stored (before the service hears of its create); then
        ``while_down()``, and start it again."""
        stored = asyncio.Event()
        proc = self.service.proc
        assert proc is not None

        def hook(event: WatchEvent) -> None:
            if event.type == "ADDED" and first(event.obj) and not stored.is_set():
                proc.send_signal(signal.SIGKILL)
                stored.set()

        with on_store_events(self.store, path, hook):
            await cause()
            await asyncio.wait_for(stored.wait(), 60)
        await self.kill_and_restart(label, while_down)


@dataclass(kw_only=True)
class ReconcileCrash(StoreCrash):
    #: ``Kind/name`` → ADDED events of Deployments and Services
    creates: Counter[str] = field(default_factory=Counter)
    uids: dict[str, str] = field(default_factory=dict)

    async def apply(self, name: str) -> None:
        body = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "ModelServer",
            "metadata": {"name": name},
            "spec": SPEC,
        }
        custom = client.CustomObjectsApi(self.api)
        created = await custom.create_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, body)
        self.uids[name] = created["metadata"]["uid"]

    async def kill_during(self, name: str, kind: str, delete: bool) -> None:
        """Apply ModelServer ``name``; the kill as its ``kind`` is stored; the ModelServer
        deleted while the service is down if ``delete``."""

        async def gone() -> None:
            custom = client.CustomObjectsApi(self.api)
            await custom.delete_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, name)

        await self.kill_at(
            f"{name} (after the {kind} create)",
            PATHS[kind],
            lambda obj: bool(obj["metadata"]["name"] == f"{name}-ovms"),
            lambda: self.apply(name),
            gone if delete else None,
        )

    def count_creates(self, kind: str, event: WatchEvent) -> None:
        if event.type == "ADDED":
            self.creates[f"{kind}/{event.obj['metadata']['name']}"] += 1

    def verdict(self) -> dict[str, list[str]]:
        owned = listed(self.store, "Deployment") + listed(self.store, "Service")
        servers = {s["metadata"]["name"]: s for s in listed(self.store, "ModelServer")}
        found: dict[str, list[str]] = {"duplicates": [], "owner references": [], "untruthful": []}
        for name, uid in self.uids.items():
            if name == GONE[0]:
                every = owned + listed(self.store, "ReplicaSet") + listed(self.store, "Pod")
                found["left by the deleted"] = reconcilecheck.leftovers(name, uid, every)
                continue
            found["duplicates"] += reconcilecheck.duplicates(uid, owned, self.creates)
            mine = [o for o in owned if reconcilecheck.owned_by(o, uid)]
            for obj in mine:
                found["owner references"] += reconcilecheck.owner_problems(
                    obj, "ModelServer", name, uid
                )
            deployment = next((o for o in mine if o["kind"] == "Deployment"), None)
            found["untruthful"] += reconcilecheck.status_problems(servers[name], deployment)
        found["orphaned processes"] = list(self.orphaned)
        return found

    async def settled(self, timeout: float = 60) -> None:
        """Until the kept ModelServers' statuses are true and the deleted one left nothing
        (or ``timeout``: the verdict says what is wrong)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline and self.verdict()["untruthful"]:  # noqa: ASYNC110 - the simulator's store
            await asyncio.sleep(0.2)


@asynccontextmanager
async def service_on(
    work: Path, options: ClusterOptions, config: str
) -> AsyncIterator[dict[str, Any]]:
    """The simulator, and the platform service (openshift backend, crashsim's config and
    ``config`` after it) started on it in ``work``, as the fields of a `StoreCrash`
    (``work``, ``service``, ``index``, ``cluster``, ``api``); stopped (SIGTERM) at the end."""
    (work / "empty-index").mkdir()
    with GatedIndex(work / "empty-index").running() as index:
        async with SimulatedCluster(options) as cluster:
            base = service_config(work, cluster.kubeconfig, index.url, 2, "openshift")
            (work / "jupyterhub_ov_service_config.py").write_text(base + config)
            service = Service(work, env={"HOME": str(work)})
            async with client.ApiClient(client.Configuration(host=cluster.server.url)) as api:
                await asyncio.to_thread(service.start)
                try:
                    yield {
                        "work": work,
                        "service": service,
                        "index": index,
                        "cluster": cluster,
                        "api": api,
                    }
                finally:
                    await asyncio.to_thread(service.stop)


async def model_servers(work: Path, full: bool) -> tuple[ReconcileCrash, dict[str, list[str]]]:
    """Kill the service during ModelServer reconciles (`KILLS` and `GONE`; the short mode
    leaves out the kill after the Service create); what went wrong."""
    script = work / "fake_ovms.py"
    script.write_text(FAKE_OVMS)
    options = cluster_options(
        work / "cluster", image_commands={"openvino/model_server": [PY, str(script), "0.0.0.0"]}
    )
    async with service_on(work, options, settings(MODELSERVERS)) as parts:
        secret = {
            "metadata": {"name": "s3-creds"},
            "stringData": {"AWS_ACCESS_KEY_ID": "key", "AWS_SECRET_ACCESS_KEY": "s"},
        }
        s = ReconcileCrash(**parts)
        await client.CoreV1Api(s.api).create_namespaced_secret(NS, secret)
        with (
            on_store_events(
                s.store, PATHS["Deployment"], lambda e: s.count_creates("Deployment", e)
            ),
            on_store_events(s.store, PATHS["Service"], lambda e: s.count_creates("Service", e)),
        ):
            for name, kind, delete in (*KILLS, GONE) if full else (KILLS[0], GONE):
                await s.kill_during(name, kind, delete)
            await s.settled()
        return s, s.verdict()
