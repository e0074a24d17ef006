"""The CustomNBImage reconciler in this process, with the real build manager and OpenShift
backend, against the simulator.

The test writes and reads the resources through the simulator's own store (no HTTP), so the
simulator's request counters hold only what the service sent: the verbs the reconciler uses
are checked against deploy/customimages-rbac.yaml. Builds are held or failed by the
`RecordingBuilds` rules of the OpenShift case.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from jupyterhub_ov_sim.buildbehaviours import BuildInput

from jupyterhub_ov.builds.manager import BuildManager
from jupyterhub_ov.builds.store import BuildStore
from jupyterhub_ov.service.features.customimages.cluster import CustomNBImageReconciler
from jupyterhub_ov.service.features.customimages.resource import API_VERSION, KIND, PLURAL
from tests.builds.cases.openshift import GOOD_IMPORT, POLICY, OpenShiftCase, case_in
from tests.sim.helpers import eventually
from tests.util import REPO

NAMESPACES = ("default", "team")
RBAC = REPO / "deploy" / "customimages-rbac.yaml"


@dataclass
class Stack:
    case: OpenShiftCase
    manager: BuildManager
    reconciler: CustomNBImageReconciler

    @property
    def store(self) -> Any:
        return self.case.cluster.server.store

    @property
    def kind(self) -> Any:
        return self.case.cluster.server.registry.by_kind(API_VERSION, KIND)

    def apply(self, namespace: str, name: str, spec: dict[str, Any]) -> None:
        body = {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "metadata": {
                "name": name,
                "annotations": {
                    "opendatahub.io/notebook-image-name": name.title(),
                    "opendatahub.io/notebook-image-desc": f"{name} for the tests",
                    "opendatahub.io/notebook-image-creator": "alice",
                },
            },
            "spec": spec,
        }
        try:
            current = self.store.get(self.kind, namespace, name)
        except Exception:
            self.store.create(self.kind, namespace, body)
            return
        self.store.update(self.kind, namespace, name, {**current, "spec": spec})

    def status(self, namespace: str, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.store.get(self.kind, namespace, name).get("status") or {}
        return found

    async def phase(self, namespace: str, name: str, phase: str, timeout: float = 60) -> None:
        await eventually(lambda: self.status(namespace, name).get("phase") == phase, timeout)

    def hold(self, prefix: str) -> None:
        def rule(build: BuildInput) -> bool:
            return build.config.startswith(prefix)

        self.case.builds.hold = rule


def packages(*names: str) -> dict[str, Any]:
    return {
        "buildType": "PackageList",
        "runtimeEnvironment": {"pythonVersion": "3.11"},
        "packageVersions": list(names),
    }


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with case_in(tmp_path) as case:
        server = case.cluster.server
        namespace = server.registry.by_kind("v1", "Namespace")
        server.store.create(namespace, "", {"metadata": {"name": "team"}})
        store = BuildStore(f"sqlite:///{tmp_path / 'builds.sqlite'}")
        await store.start()
        manager = BuildManager(store=store, backend=case.backend, policy=POLICY)
        await manager.start()
        reconciler = CustomNBImageReconciler(
            manager=manager,
            namespaces=list(NAMESPACES),
            kubeconfig=str(case.cluster.kubeconfig),
            resync_seconds=1,
            log=logging.getLogger("customnbimage-reconciler"),
        )
        server.counters.reset()
        await reconciler.start()
        await asyncio.wait_for(reconciler.ready.wait(), 10)
        try:
            yield Stack(case, manager, reconciler)
        finally:
            await reconciler.stop()
            await manager.stop()
            await store.close()


def granted() -> set[tuple[str, str]]:
    """(verb, resource) pairs deploy/customimages-rbac.yaml grants on meteor.zone."""
    pairs = set()
    for document in yaml.safe_load_all(RBAC.read_text()):
        for rule in document.get("rules") or ():
            if "meteor.zone" in rule["apiGroups"]:
                pairs |= {(v, r) for v in rule["verbs"] for r in rule["resources"]}
    return pairs


async def test_the_reconciler_uses_exactly_the_verbs_its_rbac_file_grants(stack: Stack) -> None:
    stack.apply("default", "imported", {"buildType": "ImportImage", "fromImage": GOOD_IMPORT})
    await stack.phase("default", "imported", "Success", timeout=90)
    stack.store.delete(stack.kind, "default", "imported")
    await asyncio.sleep(1.5)  # a resync: what it reads again is counted too

    used = {
        (verb, resource)
        for (verb, resource), n in stack.case.cluster.server.counters.snapshot().items()
        if resource.startswith(PLURAL) and n
    }
    assert used == granted()


async def test_identical_resources_share_a_build_that_deleting_one_does_not_cancel(
    stack: Stack,
) -> None:
    stack.hold("shared-notebook-")
    for namespace in NAMESPACES:
        stack.apply(namespace, "shared", packages("tinypkg>=1.0"))
    await eventually(lambda: len(stack.case.builds.holding) == 1, timeout=30)
    await eventually(
        lambda: (
            len({stack.status(ns, "shared").get("buildId") for ns in NAMESPACES} - {None}) == 1
            and all(stack.status(ns, "shared").get("phase") == "Building" for ns in NAMESPACES)
        ),
        timeout=30,
    )

    stack.store.delete(stack.kind, "team", "shared")
    await asyncio.sleep(2)  # reconciled, and a resync
    assert stack.case.builds.cancelled == []
    stack.case.builds.release()
    await stack.phase("default", "shared", "Success", timeout=60)
    assert len(stack.case.builds.inputs) == 1


async def test_a_failed_build_is_not_repeated_until_the_resource_changes(stack: Stack) -> None:
    stack.case.builds.fail = lambda build: build.config.startswith("flaky-notebook-")
    stack.apply("default", "flaky", packages("tinypkg>=1.0"))
    await stack.phase("default", "flaky", "Failure", timeout=60)
    failed = stack.status("default", "flaky")
    assert {c["type"]: c["reason"] for c in failed["conditions"]}["Ready"] == "BuildFailed"
    await asyncio.sleep(2.5)  # resyncs
    assert len(stack.case.builds.inputs) == 1
    assert stack.status("default", "flaky")["buildId"] == failed["buildId"]

    stack.case.builds.fail = lambda build: False
    stack.apply("default", "flaky", packages("tinypkg==1.1"))
    await stack.phase("default", "flaky", "Success", timeout=60)
    assert stack.status("default", "flaky")["buildId"] != failed["buildId"]
    assert len(stack.case.builds.inputs) == 2


async def test_a_valid_resource_made_invalid_mid_build_cancels_the_build(stack: Stack) -> None:
    stack.hold("fickle-notebook-")
    stack.apply("default", "fickle", packages("tinypkg>=1.0"))
    await eventually(lambda: len(stack.case.builds.holding) == 1, timeout=30)
    (held,) = stack.case.builds.holding
    await stack.phase("default", "fickle", "Building")
    build_id = stack.status("default", "fickle")["buildId"]

    stack.apply("default", "fickle", packages("-e ./here"))
    await stack.phase("default", "fickle", "Failure", timeout=30)
    await eventually(lambda: held in stack.case.builds.cancelled, timeout=30)
    record = await stack.manager.get(build_id)
    assert record.message == "Cancelled by an invalid change of CustomNBImage default/fickle"
    assert "buildId" not in stack.status("default", "fickle")
