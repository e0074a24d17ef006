"""OpenShift mode of the servicecrash scenario: the platform service (openshift backend) on
the cluster simulator, SIGKILLed in each build phase and started again.

Builds are asked for as an admin does it without the hub: CustomNBImage resources (the
``customimages`` feature). Each phase is caught by polling the service's database, made to
last by the simulator (a held cluster Build, a slow image import) or by a package index that
holds its answers; never by sleeping. The menu is what `KubeImageCatalog` would offer from
every ImageStream event of a watch kept open the whole time.
"""

# The client annotates bodies as models; it accepts dicts.
# mypy: disable-error-code="arg-type"

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jupyterhub_ov_sim.buildbehaviours import BuildInput, RecordingBuilds
from jupyterhub_ov_sim.cluster import SimulatedCluster, cluster_options
from jupyterhub_ov_sim.pipelineruns import RunRules
from kubernetes_asyncio import client, watch

from jupyterhub_ov.builds.backends.openshift import objects
from jupyterhub_ov.builds.backends.tekton import manifests
from jupyterhub_ov.builds.backends.tekton import status as tekton_status
from tests.builds.cases import tekton as tekton_case
from tests.builds.wheels import make_wheel
from tests.util import REPO

from . import crashcheck
from .crashstack import Crash, GatedIndex, Service, all_builds

NS = "default"
CUSTOM = ("meteor.zone", "v1alpha1", NS, "customnbimages")
BUILDER = "quay.io/example/s2i-notebook:3.11"
EXAMPLES = REPO / "docs" / "examples" / "customnbimages"


def resource(name: str, **spec: Any) -> dict[str, Any]:
    """The design's package-list example renamed, its spec replaced by ``spec``."""
    body: dict[str, Any] = yaml.safe_load((EXAMPLES / "package-list.yaml").read_text())
    body["metadata"]["name"] = name
    body["spec"] = spec
    return body


def packages(name: str, *wanted: str) -> dict[str, Any]:
    return resource(name, buildType="PackageList", packageVersions=list(wanted))


def image_import(name: str, source: str) -> dict[str, Any]:
    return resource(name, buildType="ImportImage", fromImage=source)


def service_config(work: Path, kubeconfig: Path, index: str, slots: int, engine: str) -> str:
    """The service's config file; ``engine``: the backend, openshift or tekton."""
    settings = {
        "PlatformService.backend_class": engine,
        "PlatformService.db_url": f"sqlite:///{work / 'builds.sqlite'}",
        "PlatformService.max_concurrent_builds": slots,
        "PlatformService.features": ["builds", "customimages"],
        "OpenShiftBuildBackend.kubeconfig": str(kubeconfig),
        "OpenShiftBuildBackend.namespace": NS,
        "OpenShiftBuildBackend.builder_images": {"3.8": BUILDER, "3.11": BUILDER},
        "OpenShiftBuildBackend.no_index": True,
        "OpenShiftBuildBackend.find_links": [index],
        "OpenShiftBuildBackend.validation_timeout": 90.0,
        "CustomNBImageReconciler.resync_seconds": 2,
    }
    if engine == "tekton":  # the step images the simulator maps to the tests' stand-ins
        settings.update(
            {
                "TektonBuildBackend.buildah_image": tekton_case.BUILDAH,
                "TektonBuildBackend.git_image": tekton_case.GIT,
                "TektonBuildBackend.s2i_image": tekton_case.S2I,
            }
        )
    return "".join(f"c.{key} = {value!r}\n" for key, value in settings.items())


@dataclass(kw_only=True)
class SimCrash(Crash):
    cluster: SimulatedCluster
    builds: RecordingBuilds
    api: client.ApiClient
    offered_ever: set[str] = field(default_factory=set)
    #: the backend: openshift (cluster Builds) or tekton (PipelineRuns)
    engine: str = "openshift"

    @property
    def runs(self) -> RunRules:
        assert self.cluster.pipelines is not None
        return self.cluster.pipelines.rules

    def hold_builds(self, prefix: str) -> None:
        """Cluster builds of images named ``prefix...`` wait (until `release_builds`)."""
        if self.engine == "tekton":
            self.runs.hold = lambda run: run.run.startswith(prefix)
        else:
            self.builds.hold = holding(prefix)

    def held(self) -> bool:
        return bool(self.runs.holding if self.engine == "tekton" else self.builds.holding)

    def release_builds(self) -> None:
        self.builds.release()
        if self.engine == "tekton":
            self.runs.release()

    async def cluster_builds(self) -> list[tuple[str, str]]:
        """(name, phase) of every cluster Build or PipelineRun; an unfinished run's phase is
        Running."""
        if self.engine != "tekton":
            return [
                (b["metadata"]["name"], (b.get("status") or {}).get("phase", ""))
                for b in await self.listed(objects.BUILDS)
            ]
        return [
            (r["metadata"]["name"], "Done" if tekton_status.run_state(r).done else "Running")
            for r in await self.listed(manifests.PIPELINE_RUNS)
        ]

    @property
    def custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.api)

    async def apply(self, body: dict[str, Any]) -> None:
        await self.custom.create_namespaced_custom_object(*CUSTOM[:3], CUSTOM[3], body)

    def slow_imports(self) -> None:
        """Imports take long (until the next restart): the simulated registry is slow."""
        assert self.cluster.imports is not None
        self.cluster.imports.delay = 30.0

    def slow_validation(self, pods: int) -> None:
        """The next ``pods`` validation pods' logs come slowly: they stay Validating."""
        self.cluster.server.faults.add(verb="get", resource="pods/log", latency=20.0, times=pods)

    def undo_slowness(self) -> None:
        super().undo_slowness()
        assert self.cluster.imports is not None
        self.cluster.imports.delay = 0.0
        self.cluster.server.faults.clear()

    async def watch_menu(self) -> None:
        """Every ImageStream state seen: what the menu would have offered then."""
        custom = self.custom
        while True:
            try:
                async with watch.Watch() as stream:
                    async for event in stream.stream(
                        custom.list_namespaced_custom_object,
                        objects.IMAGE_GROUP,
                        objects.VERSION,
                        NS,
                        "imagestreams",
                        timeout_seconds=300,
                    ):
                        if event["type"] != "DELETED":
                            self.offered_ever |= crashcheck.offered(event["raw_object"])
            except (TimeoutError, client.ApiException, OSError):
                await asyncio.sleep(0.1)

    async def listed(self, api: tuple[str, str, str]) -> list[dict[str, Any]]:
        got = await self.custom.list_namespaced_custom_object(api[0], api[1], NS, api[2])
        items: list[dict[str, Any]] = got["items"]
        return items

    async def verdict(self) -> dict[str, list[str]]:
        streams = await self.listed(objects.STREAMS)
        now = set().union(*(crashcheck.offered(s) for s in streams))
        records = all_builds(self.db)
        judged = crashcheck.judge(records, offered_ever=self.offered_ever, offered_now=now)
        part_of = f"{objects.LABEL_PART_OF}={objects.PART_OF}"
        pods = await client.CoreV1Api(self.api).list_namespaced_pod(NS, label_selector=part_of)
        staging = [
            s["metadata"]["name"]
            for s in streams
            if (s["metadata"].get("labels") or {}).get(objects.LABEL_COMPONENT) == "image-import"
        ]
        builds = await self.cluster_builds()
        notebook = [s for s in streams if s["metadata"]["name"] not in staging]
        return {
            "stuck": judged.stuck,
            "untruthful": judged.untruthful + crashcheck.stream_phase_problems(notebook),
            "half-built offered": judged.half_built,
            "cluster orphans": crashcheck.cluster_orphans(
                pods=[p.metadata.name for p in pods.items], staging=staging, builds=builds
            ),
            "duplicate records": crashcheck.duplicates(r["name"] for r in records),
            "orphaned processes": list(self.orphaned),
        }


def holding(prefix: str) -> Callable[[BuildInput], bool]:
    def rule(build: BuildInput) -> bool:
        return build.config.startswith(prefix)

    return rule


async def _eventually(predicate: Callable[[], bool], timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - the simulator's in-process state
            await asyncio.sleep(0.02)


async def sequential(s: SimCrash) -> None:
    """Full mode: one kill in each build phase, one after the other (one build slot)."""
    # Preparing and Building at once: the one slot held at Building, the next build queues
    s.hold_builds("held-notebook-")
    await s.apply(packages("held", "pandas"))
    await s.phase("held", "Building")
    await _eventually(s.held)
    await s.apply(image_import("queued", "quay.io/example/queued:1"))
    await s.phase("queued", "Preparing")
    await s.kill_and_restart("Preparing+Building")
    s.release_builds()
    await s.phase("queued", *crashcheck.TERMINAL, timeout=120)
    s.index.close()  # Resolving: the package index holds its answer
    await s.apply(packages("resolving", "boto3"))
    await s.phase("resolving", "Resolving")
    await s.kill_and_restart("Resolving")
    await s.phase("resolving", *crashcheck.TERMINAL, timeout=120)
    s.slow_imports()  # Importing: the simulated registry answers slowly
    await s.apply(image_import("importing", "quay.io/example/importing:1"))
    await s.phase("importing", "Importing")
    await s.kill_and_restart("Importing")
    await s.phase("importing", *crashcheck.TERMINAL, timeout=120)
    for name, body in (
        ("validating", packages("validating", "pandas", "boto3")),
        ("validating-import", image_import("validating-import", "quay.io/example/v:1")),
    ):
        s.slow_validation(1)
        await s.apply(body)
        await s.phase(name, "Validating", timeout=90)
        await s.kill_and_restart(f"Validating ({name})")
        await s.phase(name, *crashcheck.TERMINAL, timeout=120)


async def simultaneous(s: SimCrash) -> None:
    """Short mode: one kill while six builds are in every phase at once (five build slots:
    the sixth waits in Preparing)."""
    s.hold_builds("held-notebook-")
    s.slow_validation(2)
    await s.apply(packages("validating", "pandas", "boto3"))
    await s.apply(image_import("validating-import", "quay.io/example/v:1"))
    await s.apply(packages("held", "pandas"))
    for name in ("validating", "validating-import"):
        await s.phase(name, "Validating", timeout=90)
    await s.phase("held", "Building")
    await _eventually(s.held)
    s.index.close()
    await s.apply(packages("resolving", "boto3"))
    await s.phase("resolving", "Resolving")
    s.slow_imports()
    await s.apply(image_import("importing", "quay.io/example/importing:1"))
    await s.phase("importing", "Importing")
    await s.apply(image_import("queued", "quay.io/example/queued:1"))
    await s.phase("queued", "Preparing")
    await s.kill_and_restart("every phase")
    s.release_builds()


async def openshift_builds(
    work: Path, full: bool, engine: str = "openshift"
) -> tuple[SimCrash, dict[str, list[str]]]:
    """Kill the service in every build phase (`sequential` or `simultaneous`); what went
    wrong, by figure. ``engine``: the backend, openshift or tekton (PipelineRuns)."""
    wheels = work / "wheels"
    for name, version in (("pandas", "2.0.3"), ("boto3", "1.26.0")):
        make_wheel(wheels, name, version)
    home = work / "home"
    home.mkdir(parents=True, exist_ok=True)
    recording = RecordingBuilds()
    extra = tekton_case.tools(work) if engine == "tekton" else {}
    options = cluster_options(work / "cluster", build_behaviour=recording, **extra)
    with GatedIndex(wheels).running() as index:
        async with SimulatedCluster(options) as cluster:
            slots = 1 if full else 5
            config = service_config(work, cluster.kubeconfig, index.url, slots, engine)
            (work / "jupyterhub_ov_service_config.py").write_text(config)
            env = {"HOME": str(home), "UV_CACHE_DIR": str(work / "uv-cache")}
            service = Service(work, env=dict(env))
            async with client.ApiClient(client.Configuration(host=cluster.server.url)) as api:
                s = SimCrash(
                    work=work,
                    service=service,
                    index=index,
                    cluster=cluster,
                    builds=recording,
                    api=api,
                    engine=engine,
                )
                menu = asyncio.create_task(s.watch_menu())
                await asyncio.to_thread(service.start)
                try:
                    await (sequential if full else simultaneous)(s)
                    await s.all_ended()
                    await asyncio.sleep(0.5)  # the watch's last events
                    return s, await s.verdict()
                finally:
                    s.release_builds()
                    await asyncio.to_thread(service.stop)
                    menu.cancel()
                    await asyncio.gather(menu, return_exceptions=True)
