"""Cluster ``Notebook`` resources reconciled by the build service, against the simulator.

Everything is real except the cluster: `NotebookReconciler` watches over HTTP with
kubernetes_asyncio, the `NotebookController` and `BuildManager` build through the real
`OpenShiftBuildBackend` (the simulator runs the Docker-strategy build and the validation pod),
and the menu's view is the real `KubeImageCatalog`. A local git repository with a Dockerfile
stands in for openvino_notebooks. The test looks from outside: the resources' status, the
cluster's builds and streams, the catalog, the controller's records.
"""

# The client annotates bodies as models and hides _content_type; it accepts dicts and both.
# mypy: disable-error-code="arg-type, call-arg"

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio import client

from jupyterhub_ov.builds.backends.openshift import objects
from jupyterhub_ov.builds.manager import BuildManager
from jupyterhub_ov.builds.store import BuildStore
from jupyterhub_ov.service.features.notebooks import model as openvino
from jupyterhub_ov.service.features.notebooks.cluster import NotebookReconciler
from jupyterhub_ov.service.features.notebooks.controller import NotebookController
from tests.builds.cases import offered_within
from tests.builds.cases.openshift import POLICY, OpenShiftCase, case_in
from tests.builds.gitrepos import make_repository
from tests.sim.helpers import eventually, watch_until

G, V, P = openvino.GROUP, openvino.VERSION, openvino.PLURAL
APPS = "redhat-ods-applications"
RHODS = ("redhat-ods-operator", "rhods-operator")
ODH = ("openshift-operators", "opendatahub-operator")
DOCKERFILE = (
    "FROM quay.io/opendatahub/notebooks:jupyter-minimal-ubi9-python-3.11\n"
    "COPY notebooks /opt/app-root/src/notebooks\n"
)


@dataclass
class Stack:
    case: OpenShiftCase
    manager: BuildManager
    controller: NotebookController
    repository: str
    commit: str
    reconciler: NotebookReconciler = field(init=False)

    @property
    def custom(self) -> client.CustomObjectsApi:
        return self.case.custom

    @property
    def counters(self) -> Any:
        return self.case.cluster.server.counters

    async def start_reconciler(self) -> NotebookReconciler:
        self.reconciler = NotebookReconciler(
            controller=self.controller,
            required_namespace=APPS,
            kubeconfig=str(self.case.cluster.kubeconfig),
            resync_seconds=1,
            log=logging.getLogger("notebook-reconciler"),
        )
        await self.reconciler.start()
        await asyncio.wait_for(self.reconciler.ready.wait(), 10)
        return self.reconciler

    async def apply(self, namespace: str, name: str, **spec: Any) -> None:
        body = {
            "apiVersion": f"{G}/{V}",
            "kind": "Notebook",
            "metadata": {"name": name},
            "spec": {"git_uri": self.repository, **spec},
        }
        await self.custom.create_namespaced_custom_object(G, V, namespace, P, body)

    async def status_when(
        self,
        namespace: str,
        name: str,
        predicate: Callable[[dict[str, Any]], bool],
        timeout: float = 60,
    ) -> dict[str, Any]:
        """The resource's status once ``predicate(status)`` holds (by watch)."""
        found = await watch_until(
            self.custom.list_namespaced_custom_object,
            G,
            V,
            namespace,
            P,
            name=name,
            predicate=lambda obj: predicate(obj.get("status") or {}),
            timeout=timeout,
        )
        status: dict[str, Any] = found["status"]
        return status

    async def operator(self, where: tuple[str, str]) -> None:
        namespace, name = where
        labels = {"name": name}
        body = {
            "metadata": {"name": name, "labels": labels},
            "spec": {
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "manager", "image": "quay.io/op:1"}]},
                },
            },
        }
        await client.AppsV1Api(self.case.api).create_namespaced_deployment(namespace, body)

    async def cluster_builds(self) -> list[str]:
        """Names of every BuildConfig and Build where the backend builds."""
        found = []
        for api in (objects.BUILD_CONFIGS, objects.BUILDS):
            found += [o["metadata"]["name"] for o in await self.case.observer.list(api, "")]
        return found


def ready(status: dict[str, Any]) -> tuple[str, str, str] | None:
    for c in status.get("conditions") or ():
        if c["type"] == "Ready":
            return c["status"], c["reason"], c["message"]
    return None


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    repo = tmp_path / "openvino_notebooks"
    commit = await asyncio.to_thread(
        make_repository, repo, {"Dockerfile": DOCKERFILE, "notebooks/hello.ipynb": "{}\n"}
    )
    async with case_in(tmp_path) as case:
        core = client.CoreV1Api(case.api)
        for namespace in (APPS, RHODS[0], ODH[0], "team-a"):
            await core.create_namespace({"metadata": {"name": namespace}})
        store = BuildStore(f"sqlite:///{tmp_path / 'builds.sqlite'}")
        await store.start()
        manager = BuildManager(store=store, backend=case.backend, policy=POLICY)
        await manager.start()
        controller = NotebookController(manager=manager)
        await controller.start()
        the_stack = Stack(case, manager, controller, repo.as_uri(), commit)
        await the_stack.start_reconciler()
        try:
            yield the_stack
        finally:
            await the_stack.reconciler.stop()
            await controller.stop()
            await manager.stop()
            await store.close()


async def test_a_notebook_in_another_namespace_gets_the_operators_message_and_nothing_is_built(
    stack: Stack,
) -> None:
    await stack.operator(RHODS)  # only the namespace is wrong

    await stack.apply("team-a", "elsewhere")

    status = await stack.status_when("team-a", "elsewhere", lambda s: ready(s) is not None)
    message = (
        "notebook resource should be created in redhat-ods-applications project to integrate"
        " notebook image with the jupyter hub"
    )
    assert ready(status) == ("False", "PreconditionFailed", message)
    assert status["state"] == "Failed" and status["message"] == message
    assert status["observedGeneration"] == 1
    assert stack.controller.list() == []  # the controller was never asked
    assert await stack.cluster_builds() == []
    assert await stack.case.stream(openvino.IMAGE_NAME) is None
    assert stack.case.builds.inputs == []
    assert stack.counters.get("get", "deployments") == 0  # the namespace alone decides


async def test_without_an_operator_nothing_is_built_until_one_appears_then_status_shows_the_build(
    stack: Stack,
) -> None:
    # the API hiccups: each call is retried with backoff
    faults = stack.case.cluster.server.faults
    reads = faults.add(verb="get", resource="deployments", error_rate=1.0, error_code=503, times=2)
    patches = faults.add(verb="patch", resource="notebooks/status", error_rate=1.0, times=2)

    await stack.apply(APPS, "v2024")

    status = await stack.status_when(APPS, "v2024", lambda s: ready(s) is not None)
    missing = (
        "RHODS operator or ODH operator is required to deploy the notebook image integration"
        " with the JupyterHub"
    )
    assert ready(status) == ("False", "PreconditionFailed", missing)
    assert (reads.matched, patches.matched) == (2, 2)
    assert stack.controller.list() == [] and await stack.cluster_builds() == []

    # the operator appears; nobody touches the Notebook: the next resync builds it
    await stack.operator(ODH)
    status = await stack.status_when(APPS, "v2024", lambda s: (ready(s) or ("",))[0] == "True")

    assert status["commit"] == stack.commit
    assert status["image"] == "openvino-notebook:v2024" and status["tags"] == ["v2024"]
    assert status["build_date"] <= status["latest_update_date"]
    assert ready(status) == (
        "True",
        "Published",
        "openvino-notebook:v2024 is offered as OpenVINO™ Toolkit v2024",
    )
    (built,) = stack.case.builds.inputs  # the repository's own Dockerfile, at the commit
    assert (built.strategy, built.git_uri, built.git_ref) == (
        "Docker",
        stack.repository,
        stack.commit,
    )
    assert (built.dockerfile, built.output) == ("", "openvino-notebook:v2024")
    (image,) = [i for i in await stack.case.catalog_images() if i.name == "openvino-notebook"]
    assert image.display_name == "OpenVINO™ Toolkit v2024"
    assert [t.name for t in image.tags] == ["v2024"]
    assert stack.commit[:12] in image.description

    # settled: resyncs (relists) come and go, and nothing is written
    patched, lists = stack.counters.get("patch", "notebooks/status"), stack.counters.get("list", P)
    await eventually(lambda: stack.counters.get("list", P) >= lists + 3, timeout=15)
    assert stack.counters.get("patch", "notebooks/status") == patched
    assert stack.counters.get("create", "buildconfigs") == 1


async def test_invalid_parameters_are_reported_and_nothing_is_built(stack: Stack) -> None:
    await stack.operator(RHODS)

    await stack.apply(APPS, "broken", git_ref="a..b", reconcile_duration_multiplier=0)

    status = await stack.status_when(APPS, "broken", lambda s: ready(s) is not None)
    state, reason, message = ready(status)  # type: ignore[misc]
    assert (state, reason) == ("False", "InvalidParameters")
    assert "spec.git_ref" in message and "spec.reconcile_duration_multiplier" in message
    assert stack.controller.list() == [] and await stack.cluster_builds() == []


async def test_a_deleted_notebook_is_forgotten_also_while_the_service_was_down_and_images_stay(
    stack: Stack, tmp_path: Path
) -> None:
    # builds of this repository wait in the cluster until released
    held = tmp_path / "held.git"
    await asyncio.to_thread(make_repository, held, {"Dockerfile": DOCKERFILE})
    stack.case.builds.hold = lambda build: build.git_uri == held.as_uri()
    await stack.operator(RHODS)
    for name in ("live", "offline"):
        await stack.apply(APPS, name, git_uri=held.as_uri())
    await eventually(lambda: len(stack.case.builds.holding) == 2, timeout=30)
    assert {r.name for r in stack.controller.list()} == {"live", "offline"}

    await stack.custom.delete_namespaced_custom_object(G, V, APPS, P, "live")
    await eventually(lambda: [r.name for r in stack.controller.list()] == ["offline"])

    await stack.reconciler.stop()  # the service is down while "offline" is deleted
    await stack.custom.delete_namespaced_custom_object(G, V, APPS, P, "offline")
    await stack.start_reconciler()
    await eventually(lambda: stack.controller.list() == [])
    assert len(stack.case.builds.holding) == 2  # forgotten at start, not by a build's end

    # the builds go on: both images are published and offered
    stack.case.builds.release()
    for tag in ("live", "offline"):
        await offered_within(stack.case, f"openvino-notebook:{tag}", timeout=90)


async def test_a_status_written_over_by_someone_else_is_written_again(stack: Stack) -> None:
    # e.g. the status patch of a service killed mid-reconcile, landing after its successor
    # wrote the truth: the successor must not trust its memory of what it wrote
    await stack.apply("team-a", "elsewhere")
    wanted = await stack.status_when("team-a", "elsewhere", lambda s: ready(s) is not None)
    stale = {"status": {"state": "Pending", "message": "", "conditions": []}}
    await stack.custom.patch_namespaced_custom_object_status(
        G, V, "team-a", P, "elsewhere", stale, _content_type="application/merge-patch+json"
    )

    status = await stack.status_when(
        "team-a", "elsewhere", lambda s: s.get("state") == "Failed", timeout=15
    )
    assert ready(status) == ready(wanted)
    assert status["message"] == wanted["message"]
