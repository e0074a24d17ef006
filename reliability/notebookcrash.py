"""The Notebook reconcile mode of the servicecrash scenario: the platform service (openshift
backend, the ``builds`` and ``notebooks`` features) on the cluster simulator, SIGKILLed in the
middle of a Notebook reconcile and started again.

The reconcile's status patch is held (the simulator answers ``patch notebooks/status`` after
`HOLD` seconds: it lands after the restart, a stale write the new service must correct), so
when the service is killed — by a store hook, as the simulator stores the
notebook image's cluster Build — its record and build exist and its status was never written.
Before it (full mode), another Notebook is killed the same way and deleted while the service
is down. At the end
(`reconcilecheck.notebook_problems`): the kept Notebook's record is Ready from exactly one
build, which ended Success, and its status says so (state, build id, ``Ready``,
``observedGeneration``); the deleted one's record is gone; no process of the killed service
is left.
"""

# The client annotates bodies as models; it accepts dicts.
# mypy: disable-error-code="arg-type"

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyterhub_ov_sim.buildbehaviours import RecordingBuilds
from jupyterhub_ov_sim.cluster import cluster_options
from kubernetes_asyncio import client

from jupyterhub_ov.builds.backends.openshift import objects
from jupyterhub_ov.service.features.notebooks import model as openvino
from tests.builds.gitrepos import make_repository
from tests.service.features.notebooks.test_notebook_cluster import DOCKERFILE

from . import reconcilecheck
from .crashsim import NS
from .crashstack import all_builds
from .reconcilecrash import StoreCrash, service_on, settings

G, V, P = openvino.GROUP, openvino.VERSION, openvino.PLURAL
NOTEBOOKS = {
    "PlatformService.features": ["builds", "notebooks"],
    "PlatformService.git_schemes": ["https", "file"],
    "PlatformService.git_hosts": [],
    "OpenShiftBuildBackend.git_schemes": ["https", "file"],
    "OpenShiftBuildBackend.git_hosts": [],
    "OpenVINONotebooks.namespace": NS,
    "OpenVINONotebooks.watch_all_namespaces": False,
    "OpenVINONotebooks.require_operator": False,
    "NotebookReconciler.resync_seconds": 1,
}
KEPT, GONE = "kept", "deleted-while-down"
#: seconds the simulator holds the killed reconcile's status patch: it lands about when the
#: service has started again (a stale write the new one must not be fooled by)
HOLD = 4.0


def records(db: Path) -> dict[str, dict[str, Any]]:
    """The status part of the service's Notebook records (their JSON), by name."""
    with contextlib.closing(sqlite3.connect(db, timeout=10)) as conn:
        rows = conn.execute("SELECT name, data FROM openvino_notebooks").fetchall()
    return {name: json.loads(data)["status"] for name, data in rows}


@dataclass(kw_only=True)
class NotebookCrash(StoreCrash):
    #: the file:// URL of the stand-in for openvino_notebooks
    repository: str
    #: when the last held status patch lands (the event loop's clock)
    held_until: float = 0.0

    async def apply(self, name: str) -> None:
        body = {
            "apiVersion": f"{G}/{V}",
            "kind": "Notebook",
            "metadata": {"name": name},
            "spec": {"git_uri": self.repository},
        }
        await client.CustomObjectsApi(self.api).create_namespaced_custom_object(G, V, NS, P, body)

    async def kill_building(self, name: str, delete: bool) -> None:
        """Apply Notebook ``name`` with its status patch held; the kill as its cluster Build
        is stored; the Notebook deleted while the service is down if ``delete``."""
        faults = self.cluster.server.faults
        faults.add(verb="patch", resource="notebooks/status", latency=HOLD, times=1)
        self.held_until = asyncio.get_running_loop().time() + HOLD

        async def gone() -> None:
            custom = client.CustomObjectsApi(self.api)
            await custom.delete_namespaced_custom_object(G, V, NS, P, name)

        await self.kill_at(
            f"{name} (after its Build create, its status not written)",
            objects.BUILDS,
            lambda obj: True,
            lambda: self.apply(name),
            gone if delete else None,
        )

    def undo_slowness(self) -> None:
        super().undo_slowness()
        self.cluster.server.faults.clear()

    async def resource(self, name: str) -> dict[str, Any]:
        got: dict[str, Any] = await client.CustomObjectsApi(self.api).get_namespaced_custom_object(
            G, V, NS, P, name
        )
        return got

    async def verdict(self) -> dict[str, list[str]]:
        notebooks = records(self.db)
        builds = all_builds(self.db)
        kept = notebooks.get(KEPT)
        found = {
            "untruthful": reconcilecheck.notebook_problems(await self.resource(KEPT), kept, builds),
            "duplicate builds": reconcilecheck.duplicate_builds(
                [b for b in builds if b["name"] == openvino.IMAGE_NAME], expected=len(self.kills)
            ),
            "orphaned processes": list(self.orphaned),
        }
        if len(self.kills) > 1:  # the full mode's Notebook deleted while the service was down
            found["records of the deleted"] = sorted(n for n in notebooks if n == GONE)
        return found

    async def settled(self, timeout: float = 60) -> None:
        """Until the kept Notebook's status is the truth, after the held patch landed."""
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(0.0, self.held_until + 2 - loop.time()))
        deadline = loop.time() + timeout
        while loop.time() < deadline and (await self.verdict())["untruthful"]:  # noqa: ASYNC110
            await asyncio.sleep(0.3)


async def notebooks(work: Path, full: bool) -> tuple[NotebookCrash, dict[str, list[str]]]:
    """Kill the service during Notebook reconciles (`GONE` in the full mode, then `KEPT`);
    what went wrong."""
    repo = work / "openvino_notebooks"
    files = {"Dockerfile": DOCKERFILE, "notebooks/hello.ipynb": "{}\n"}
    await asyncio.to_thread(make_repository, repo, files)
    options = cluster_options(work / "cluster", build_behaviour=RecordingBuilds())
    async with service_on(work, options, settings(NOTEBOOKS)) as parts:
        s = NotebookCrash(**parts, repository=repo.as_uri())
        # the deleted one first: nothing patches its status after its restart, so the held
        # patch is the kept one's own
        if full:  # short: the kept one alone (ModelServers cover a deletion while down)
            await s.kill_building(GONE, True)
        await s.kill_building(KEPT, False)
        await s.settled()
        return s, await s.verdict()
