"""CustomNBImage resources reconciled by the platform service's own process, on the simulator.

The service runs as ``python -m jupyterhub_ov.service`` with the openshift backend (the
``customimages`` feature is on by default); the simulated cluster runs in the test's event
loop with `RecordingBuilds`, whose ``hold`` rule keeps chosen builds waiting mid-build. The
test acts as an admin does — a real ``kubectl apply``/``delete`` of the design's example YAML
(docs/examples/customnbimages) — and looks from outside: the resources' status transitions
(recorded from a watch), the cluster's Builds, pods and image streams.

The git example's GitHub URL is mapped to a local repository by the service's git
configuration (``url.<local>.insteadOf``, in its ``$HOME``), as the simulator maps registry
references for imports: its YAML stays the design's.
"""

# The client annotates bodies as models; it accepts dicts.
# mypy: disable-error-code="arg-type"

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from jupyterhub_ov_sim.buildbehaviours import BuildInput, RecordingBuilds
from jupyterhub_ov_sim.cluster import SimulatedCluster, cluster_options
from kubernetes_asyncio import client, watch

from jupyterhub_ov.builds.backends.openshift import objects
from jupyterhub_ov.builds.model.spec import image_name
from tests.builds.gitrepos import make_repository
from tests.builds.wheels import make_wheel
from tests.service.standalone import service_process, stop
from tests.sim.helpers import Kubectl, eventually, watch_until
from tests.util import REPO

pytestmark = pytest.mark.e2e
EXAMPLES = REPO / "docs" / "examples" / "customnbimages"
NS = "default"
G, V, P = "meteor.zone", "v1alpha1", "customnbimages"
BUILDER = "quay.io/example/s2i-notebook:3.11"
TUTORIAL = "https://github.com/AICoE/elyra-aidevsecops-tutorial"
BUILD_PATH = ["Preparing", "Resolving", "Building", "Importing", "Validating", "Success"]
IMPORT_PATH = ["Importing", "Validating", "Success"]


def example(name: str) -> str:
    return (EXAMPLES / f"{name}.yaml").read_text()


def packages_resource(name: str, packages: list[str]) -> str:
    """A package list resource of the example's shape."""
    body: dict[str, Any] = yaml.safe_load(example("package-list"))
    body["metadata"]["name"] = name
    body["spec"]["packageVersions"] = packages
    return yaml.safe_dump(body)


def config(tmp_path: Path, kubeconfig: Path) -> str:
    wheels = tmp_path / "wheels"
    for name, version in (("pandas", "2.0.3"), ("boto3", "1.26.0")):
        make_wheel(wheels, name, version)
    settings = {
        "PlatformService.backend_class": "openshift",
        "PlatformService.db_url": f"sqlite:///{tmp_path / 'builds.sqlite'}",
        "OpenShiftBuildBackend.kubeconfig": str(kubeconfig),
        "OpenShiftBuildBackend.namespace": NS,
        "OpenShiftBuildBackend.builder_images": {"ubi8-3.8": BUILDER, "3.11": BUILDER},
        "OpenShiftBuildBackend.no_index": True,
        "OpenShiftBuildBackend.find_links": [str(wheels)],
        "OpenShiftBuildBackend.git_schemes": ["https", "file"],
        "OpenShiftBuildBackend.validation_timeout": 90.0,
        "CustomNBImageReconciler.resync_seconds": 2,
    }
    return "".join(f"c.{key} = {value!r}\n" for key, value in settings.items())


@dataclass
class Stack:
    tmp_path: Path
    cluster: SimulatedCluster
    builds: RecordingBuilds
    api: client.ApiClient
    kubectl: Kubectl
    #: name → the distinct phases its status went through, in order (from a watch)
    phases: dict[str, list[str]] = field(default_factory=dict)
    _service: contextlib.ExitStack | None = None
    _proc: Any = None

    @property
    def custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.api)

    async def start_service(self) -> None:
        home = self.tmp_path / "home"
        env = {"HOME": str(home), "UV_CACHE_DIR": str(self.tmp_path / "uv-cache")}
        exits = contextlib.ExitStack()
        self._proc, _ = await asyncio.to_thread(
            exits.enter_context, service_process(self.tmp_path, env=env)
        )
        self._service = exits

    async def stop_service(self) -> str:
        assert self._service is not None
        err = await asyncio.to_thread(stop, self._proc)
        self._service.close()
        self._service = None
        return err

    async def status_when(self, name: str, phase: str, timeout: float = 90) -> dict[str, Any]:
        found = await watch_until(
            self.custom.list_namespaced_custom_object,
            G,
            V,
            NS,
            P,
            name=name,
            predicate=lambda o: (o.get("status") or {}).get("phase") == phase,
            timeout=timeout,
        )
        status: dict[str, Any] = found["status"]
        return status

    async def record_phases(self) -> None:
        async with watch.Watch() as stream:
            async for event in stream.stream(
                self.custom.list_namespaced_custom_object, G, V, NS, P, timeout_seconds=600
            ):
                obj = event["raw_object"]
                phase = (obj.get("status") or {}).get("phase")
                seen = self.phases.setdefault(obj["metadata"]["name"], [])
                if phase and (not seen or seen[-1] != phase):
                    seen.append(phase)

    async def cluster_objects(self, prefix: str) -> list[str]:
        """The Builds (with their phase), BuildConfigs and pods whose names start so."""
        found = []
        for api in (objects.BUILD_CONFIGS, objects.BUILDS):
            listed = await self.custom.list_namespaced_custom_object(api[0], api[1], NS, api[2])
            for o in listed["items"]:
                if o["metadata"]["name"].startswith(prefix):
                    phase = (o.get("status") or {}).get("phase", "")
                    found.append(f"{o['kind']} {o['metadata']['name']} {phase}".strip())
        pods = await client.CoreV1Api(self.api).list_namespaced_pod(NS)
        found += [
            f"Pod {p.metadata.name}" for p in pods.items if p.metadata.name.startswith(prefix)
        ]
        return found

    def held(self, *prefixes: str) -> None:
        """Builds of these images wait at their last step until `RecordingBuilds.release`."""

        def rule(build: BuildInput) -> bool:
            return build.config.startswith(prefixes)

        self.builds.hold = rule


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    repo = tmp_path / "elyra-aidevsecops-tutorial.git"
    files = {"requirements.txt": "pandas\n"}
    await asyncio.to_thread(make_repository, repo, files, branch="master")
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(f'[url "{repo.as_uri()}"]\n\tinsteadOf = {TUTORIAL}\n')
    builds = RecordingBuilds()
    options = cluster_options(tmp_path / "cluster", build_behaviour=builds)
    async with SimulatedCluster(options) as cluster:
        await asyncio.to_thread(
            (tmp_path / "jupyterhub_ov_service_config.py").write_text,
            await asyncio.to_thread(config, tmp_path, cluster.kubeconfig),
        )
        kubectl = Kubectl({**os.environ, "KUBECONFIG": str(cluster.kubeconfig), "HOME": str(home)})
        async with client.ApiClient(client.Configuration(host=cluster.server.url)) as api:
            the_stack = Stack(tmp_path, cluster, builds, api, kubectl)
            recorder = asyncio.create_task(the_stack.record_phases())
            await the_stack.start_service()
            try:
                yield the_stack
            finally:
                builds.release()
                if the_stack._service is not None:
                    await the_stack.stop_service()
                recorder.cancel()
                await asyncio.gather(recorder, return_exceptions=True)


def in_order(seen: list[str], path: list[str]) -> bool:
    """Whether ``seen`` is ``path`` with some steps unobserved, ending where it ends."""
    positions = [path.index(p) for p in seen if p in path]
    return len(positions) == len(seen) and positions == sorted(positions) and seen[-1] == path[-1]


def resource_links(tmp_path: Path) -> dict[str, str]:
    """build id → the resource its record names (the service's database)."""
    with sqlite3.connect(tmp_path / "builds.sqlite") as db:
        rows = db.execute("SELECT id, request FROM builds").fetchall()
    return {row[0]: json.loads(row[1]).get("resource", "") for row in rows}


async def test_the_designs_three_examples_are_built_and_their_status_follows_the_phases(
    stack: Stack,
) -> None:
    for name in ("import-image", "package-list", "git-repository"):
        out = await stack.kubectl("apply", "-f", "-", stdin=example(name))
        assert "created" in out
    names = {
        "s2i-minimal-py38-notebook": IMPORT_PATH,
        "ubi8-py38-sample-3": BUILD_PATH,
        "elyra-aidevsecops-tutorial": BUILD_PATH,
    }
    done = {name: await stack.status_when(name, "Success", timeout=120) for name in names}

    for name, path in names.items():
        status, seen = done[name], stack.phases[name]
        assert in_order(seen, path), (name, seen)
        assert seen[0] == path[0] or name != "s2i-minimal-py38-notebook", seen
        assert status["image"] == f"{image_name(name)}:{status['tag']}"
        assert "@sha256:" in status["imageReference"]
        ready = {c["type"]: c for c in status["conditions"]}["Ready"]
        assert ready["status"] == "True" and status["image"] in ready["message"]
        assert resource_links(stack.tmp_path)[status["buildId"]] == f"{P}.{G}/{NS}/{name}"
    # the ODH annotations reached the published images; the creator is the resource's
    stream = await stack.custom.get_namespaced_custom_object(
        "image.openshift.io", "v1", NS, "imagestreams", "ubi8-py38-sample-3-notebook"
    )
    annotations = stream["metadata"]["annotations"]
    assert annotations["opendatahub.io/notebook-image-name"] == "UBI 8 Python 3.8 with pandas"
    assert annotations["opendatahub.io/notebook-image-creator"] == "codificat"
    built = {i.output.partition(":")[0]: i for i in stack.builds.inputs}
    assert built["elyra-aidevsecops-tutorial-notebook"].git_uri == TUTORIAL
    # an import has no Build
    assert set(built) == {"ubi8-py38-sample-3-notebook", "elyra-aidevsecops-tutorial-notebook"}


async def test_an_invalid_resource_fails_with_every_problem_and_nothing_is_built(
    stack: Stack,
) -> None:
    body = yaml.safe_load(packages_resource("broken", ["pandas", "-e ./local"]))
    del body["metadata"]["annotations"]["opendatahub.io/notebook-image-creator"]
    body["spec"]["colour"] = "blue"
    await stack.kubectl("apply", "-f", "-", stdin=yaml.safe_dump(body))
    status = await stack.status_when("broken", "Failure", timeout=30)
    valid = {c["type"]: c for c in status["conditions"]}["Valid"]
    assert valid["status"] == "False" and valid["reason"] == "InvalidSpec"
    for problem in ("pip options are not allowed", "colour", "notebook-image-creator"):
        assert problem in valid["message"]
    assert "buildId" not in status and resource_links(stack.tmp_path) == {}
    assert await stack.cluster_objects("broken") == []


async def test_a_resource_deleted_mid_build_cancels_its_build_and_nothing_runs_on(
    stack: Stack,
) -> None:
    stack.held("doomed-notebook-")
    await stack.kubectl("apply", "-f", "-", stdin=packages_resource("doomed", ["pandas"]))
    building = await stack.status_when("doomed", "Building")
    await eventually(lambda: len(stack.builds.holding) == 1, timeout=30)
    (build,) = stack.builds.holding

    await stack.kubectl("delete", "customnbimages.meteor.zone", "doomed")
    await eventually(lambda: build in stack.builds.cancelled, timeout=30)
    # the cancelled build's BuildConfig is deleted, and its Build with it: nothing is left
    async with asyncio.timeout(30):
        while left := await stack.cluster_objects("doomed"):  # noqa: ASYNC110 - no event
            await asyncio.sleep(0.1)  # the garbage collector deletes the Build after its config
    assert left == []

    def record() -> tuple[str, str]:
        with sqlite3.connect(stack.tmp_path / "builds.sqlite") as db:
            (row,) = db.execute(
                "SELECT phase, message FROM builds WHERE id = ?", (building["buildId"],)
            )
        return row

    # the manager records the end once the backend's cancel has returned (after the cleanup)
    await eventually(lambda: record()[0] != "Building", timeout=30)
    assert record() == ("Failure", "Cancelled by the deletion of CustomNBImage default/doomed")


async def test_a_resource_changed_mid_build_supersedes_its_build(stack: Stack) -> None:
    stack.held("swap-notebook-")
    await stack.kubectl("apply", "-f", "-", stdin=packages_resource("swap", ["pandas"]))
    first = await stack.status_when("swap", "Building")
    await eventually(lambda: len(stack.builds.holding) == 1, timeout=30)
    (old,) = stack.builds.holding
    stack.held()  # the next build goes through

    changed = packages_resource("swap", ["pandas", "boto3>=1.24.0"])
    assert "configured" in await stack.kubectl("apply", "-f", "-", stdin=changed)
    done = await stack.status_when("swap", "Success", timeout=90)
    assert done["buildId"] != first["buildId"] and old in stack.builds.cancelled
    assert done["observedGeneration"] == 2
    assert [f for f in await stack.cluster_objects("swap") if "Running" in f] == []


async def test_while_the_service_is_down_applied_resources_are_built_and_deleted_ones_cancelled(
    stack: Stack,
) -> None:
    stack.held("orphan-notebook-")
    await stack.kubectl("apply", "-f", "-", stdin=packages_resource("orphan", ["pandas"]))
    await stack.status_when("orphan", "Building")
    await eventually(lambda: len(stack.builds.holding) == 1, timeout=30)
    (orphan,) = stack.builds.holding

    await stack.stop_service()  # its build goes on in the cluster, to be followed again
    await stack.kubectl("delete", "customnbimages.meteor.zone", "orphan")
    await stack.kubectl("apply", "-f", "-", stdin=example("import-image"))
    await stack.start_service()

    status = await stack.status_when("s2i-minimal-py38-notebook", "Success", timeout=90)
    assert status["image"].startswith("s2i-minimal-py38-notebook:")
    await eventually(lambda: orphan in stack.builds.cancelled, timeout=30)
    assert [f for f in await stack.cluster_objects("orphan") if "Running" in f] == []
