"""The OpenShift backend's case: a real backend talking HTTP to the cluster simulator.

The simulator runs builds with `RecordingBuilds`, whose rules fail the builds of the requests
named for the FAIL variant and hold those of the SLOW one (`variant_builds`), imports tags
(``FAILING_IMPORT`` fails as a registry's "not found"), and runs validation pods as local
processes: the check really starts this environment's ``jupyterhub-singleuser``. Images are
environments here: ``image_env`` gives an imported image a ``PATH`` whose ``python3`` is the
system's (no JupyterLab: validation fails) or one that never finishes (a slow validation).
The menu's view is the real `KubeImageCatalog` on KubeSpawner's shared reflectors.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyterhub_ov_sim import imagestreams
from jupyterhub_ov_sim.buildbehaviours import BuildInput, BuildRule, RecordingBuilds
from jupyterhub_ov_sim.cluster import SimulatedCluster, cluster_options
from kubernetes_asyncio import client
from kubespawner import KubeSpawner
from kubespawner.clients import shared_client

from jupyterhub_ov.builds.backends.openshift import objects, status
from jupyterhub_ov.builds.backends.openshift.backend import OpenShiftBuildBackend
from jupyterhub_ov.builds.errors import BuildFailed
from jupyterhub_ov.builds.model import spec
from jupyterhub_ov.builds.model.spec import BuildRequest, ResolvedBuild
from jupyterhub_ov.images.kube import KubeImageCatalog
from jupyterhub_ov.images.model import NotebookImage
from jupyterhub_ov.kube.client import KubeIO
from tests.sim.helpers import eventually, watch_until

from ..gitrepos import make_repository
from ..harness import RecordingReporter
from ..wheels import make_wheel
from . import FAIL, OK, SLOW, UNRESOLVABLE, offered_by

kind = "openshift"
NAMESPACE = "default"
BUILDER = "quay.io/example/s2i-notebook:3.11"
POLICY = spec.SpecPolicy(git_schemes=("https", "file"), git_hosts=())
GOOD_IMPORT = "quay.io/example/datascience:2024.1"
FAILING_IMPORT = "quay.io/example/missing:1"
SLOW_IMPORT = "quay.io/example/hangs:1"
NO_LAB_IMPORT = "quay.io/example/no-jupyterlab:1"
ACTIVE = ("New", "Pending", "Running")
#: packages only the FAIL and SLOW variants' requests install: their content (and so their
#: tags) differs from the OK request's; what fails or waits is decided by the rules below
FAILING_PACKAGE, SLOW_PACKAGE = "failingpkg", "slowpkg"


def variant_builds(variant: str) -> BuildRule:
    """Builds of this variant's requests (``pkgs-<variant>``, ``repo-<variant>``): their
    BuildConfigs are named ``<request>-<tag>`` (`objects.instance_name`)."""
    prefixes = tuple(f"{kind}-{variant}-" for kind in ("pkgs", "repo"))

    def matches(build: BuildInput) -> bool:
        return build.config.startswith(prefixes)

    return matches


def body(name: str, build_spec: dict[str, Any], display: str = "") -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "annotations": {
                "opendatahub.io/notebook-image-name": display or name.title(),
                "opendatahub.io/notebook-image-desc": f"{name} for the tests",
            },
        },
        "spec": build_spec,
    }


def parse(raw: dict[str, Any]) -> BuildRequest:
    return spec.parse_request(raw, creator="admin", policy=POLICY)


def image_dirs(root: Path) -> dict[str, dict[str, str]]:
    """Imported images as environments: a ``python3`` without JupyterLab, or one that hangs."""
    no_lab, hangs = root / "no-jupyterlab", root / "hangs"
    for directory in (no_lab, hangs):
        directory.mkdir(parents=True, exist_ok=True)
    (no_lab / "python3").symlink_to("/usr/bin/python3")
    (hangs / "python3").write_text("#!/bin/sh\nexec /bin/sleep 600\n")
    (hangs / "python3").chmod(0o755)
    return {
        imagestreams.pinned_reference(NO_LAB_IMPORT): {"PATH": f"{no_lab}:/usr/bin:/bin"},
        imagestreams.pinned_reference(SLOW_IMPORT): {"PATH": f"{hangs}:/usr/bin:/bin"},
    }


@dataclass
class OpenShiftCase:
    cluster: SimulatedCluster
    backend: OpenShiftBuildBackend
    builds: RecordingBuilds
    catalog: KubeImageCatalog
    api: client.ApiClient
    repositories: dict[str, str]
    settings: dict[str, Any]
    kind: str = kind
    build_types: tuple[str, ...] = spec.BUILD_TYPES
    backends: list[OpenShiftBuildBackend] = field(default_factory=list)

    @property
    def observer(self) -> KubeIO:
        """The test's own view of the cluster (not the backend's client)."""
        return KubeIO(self.api, NAMESPACE, timeout=10, log=logging.getLogger(__name__))

    @property
    def custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.api)

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    def request(self, build_type: str, variant: str = OK) -> BuildRequest:
        suffix = "" if variant == OK else f"-{variant}"
        if build_type == spec.BuildType.PACKAGE_LIST:
            packages = ["tinypkg>=1.0"]
            packages += {FAIL: [FAILING_PACKAGE], SLOW: [SLOW_PACKAGE]}.get(variant, [])
            if variant == UNRESOLVABLE:
                packages = ["ovdoesnotexist"]
            build = {
                "buildType": build_type,
                "runtimeEnvironment": {"osName": "ubi", "osVersion": "9", "pythonVersion": "3.11"},
                "packageVersions": packages,
            }
            return parse(body(f"pkgs{suffix}", build, "Tiny packages"))
        if build_type == spec.BuildType.GIT_REPOSITORY:
            build = {"buildType": build_type, "repositoryUrl": self.repositories[variant]}
            return parse(body(f"repo{suffix}", build, "From a repository"))
        source = {OK: GOOD_IMPORT, FAIL: FAILING_IMPORT, SLOW: SLOW_IMPORT}[variant]
        return parse(body(f"imported{suffix}", {"buildType": build_type, "fromImage": source}))

    def new_backend(self, **config: Any) -> OpenShiftBuildBackend:
        """A backend configured like the case's (a 'restarted service' gets another)."""
        backend = type(self.backend)(**{**self.settings, **config})
        self.backends.append(backend)
        return backend

    async def killed_and_restarted(self, first: asyncio.Task[Any]) -> OpenShiftBuildBackend:
        """The service killed under the running build ``first`` (its client closed, the
        task cancelled: nothing of it undoes anything), then another backend started."""
        await self.backend.stop()
        first.cancel()
        with contextlib.suppress(asyncio.CancelledError, BuildFailed):
            await first
        assert first.done()
        restarted = self.new_backend()
        await restarted.start()
        return restarted

    def release(self) -> None:
        """Let held builds end (the cluster then stops quickly)."""
        self.builds.release()

    async def catalog_images(self) -> list[NotebookImage]:
        return self.catalog.images(KubeSpawner, NAMESPACE)

    async def offered(self) -> dict[str, str]:
        return offered_by(await self.catalog_images())

    async def stream(self, name: str) -> dict[str, Any] | None:
        return await self.observer.get(objects.STREAMS, name)

    async def cluster_builds(self, resolved: ResolvedBuild) -> list[dict[str, Any]]:
        selector = f"openshift.io/build-config.name={objects.instance_name(resolved)}"
        return await self.observer.list(objects.BUILDS, selector)

    async def pod_exists(self, name: str) -> bool:
        pods = await self.core.list_namespaced_pod(
            NAMESPACE, field_selector=f"metadata.name={name}"
        )
        return bool(pods.items)

    async def active_builds(self, resolved: ResolvedBuild) -> list[str]:
        """The cluster builds of ``resolved`` that have not ended."""
        return [
            f"build {b['metadata']['name']} is {b['status']['phase']}"
            for b in await self.cluster_builds(resolved)
            if b["status"].get("phase") in ACTIVE
        ]

    async def leftovers(self, resolved: ResolvedBuild) -> list[str]:
        found = await self.active_builds(resolved)
        pod = objects.validation_pod_name(resolved)
        if await self.pod_exists(pod):
            found.append(f"pod {pod}")
        if await self.stream(objects.instance_name(resolved)) is not None:
            found.append(f"staging stream {objects.instance_name(resolved)}")
        stream = await self.stream(resolved.request.name) or {}
        if any(t["name"] == resolved.tag for t in stream.get("spec", {}).get("tags") or []):
            found.append(f"spec tag {resolved.image}")
        published = await self.stream(resolved.request.name)
        if published is not None and status.published_image(published, resolved.tag):
            found.append(f"{resolved.image} is published")
        return found

    async def working(self, resolved: ResolvedBuild, reporter: RecordingReporter) -> None:
        if resolved.request.build_type == spec.BuildType.IMPORT_IMAGE:  # the hanging validation
            pod = objects.validation_pod_name(resolved)
            await reporter.until(lambda: any(pod in line for line in reporter.lines))
            await watch_until(
                self.core.list_namespaced_pod,
                NAMESPACE,
                name=pod,
                predicate=lambda p: p["status"].get("phase") == "Running",
            )
            return
        await reporter.until(lambda: bool(reporter.remembered))
        await self.build_held(reporter.remembered[-1])

    async def build_held(self, build: str) -> None:
        """Return once the cluster build runs and waits at its held step."""
        await watch_until(
            self.custom.list_namespaced_custom_object,
            *objects.BUILDS[:2],
            NAMESPACE,
            objects.BUILDS[2],
            name=build,
            predicate=lambda b: b["status"].get("phase") == "Running",
        )
        await settled(lambda: build in self.builds.holding)

    async def stopped(self, resolved: ResolvedBuild) -> list[str]:
        if resolved.request.build_type == spec.BuildType.IMPORT_IMAGE:
            pod = objects.validation_pod_name(resolved)
            assert self.cluster.kubelet is not None
            kubelet = self.cluster.kubelet
            if not await settled(lambda: all(r.name != pod for r in kubelet.pods.values())):
                return [f"the process of pod {pod} still runs"]
            return []
        return await self.builds_working(resolved)

    async def builds_working(self, resolved: ResolvedBuild) -> list[str]:
        """The cluster builds of ``resolved`` still running, or whose work goes on."""
        running = []
        for build in await self.cluster_builds(resolved):
            name, phase = build["metadata"]["name"], build["status"].get("phase")
            if phase in ACTIVE:
                running.append(f"build {name} is {phase}")
            elif phase == "Cancelled" and not await settled(
                lambda n=name: n in self.builds.cancelled  # type: ignore[misc]
            ):
                running.append(f"the work of build {name} was not cancelled")
        return running


async def settled(condition: Callable[[], bool], timeout: float = 10) -> bool:
    """Whether ``condition()`` holds within ``timeout``: for simulator state with no event."""
    try:
        await eventually(condition, timeout)
    except TimeoutError:
        return False
    return True


def _wheels(directory: Path) -> None:
    make_wheel(directory, "tinydep", "2.0")
    make_wheel(directory, "tinypkg", "1.0", requires=["tinydep>=2"])
    make_wheel(directory, "tinypkg", "1.1", requires=["tinydep>=2"])
    make_wheel(directory, FAILING_PACKAGE, "1.0")
    make_wheel(directory, SLOW_PACKAGE, "1.0")


def _repositories(root: Path) -> dict[str, str]:
    names = {OK: "notebook.git", FAIL: "failing.git", SLOW: "slow.git"}
    for name in names.values():
        make_repository(root / name, {"requirements.txt": "tinypkg==1.0\n"})
    return {variant: f"file://{root / name}" for variant, name in names.items()}


@asynccontextmanager
async def case(request: Any, **backend_config: Any) -> AsyncIterator[OpenShiftCase]:
    """The contract suite's entry (pytest's ``request``); see `case_in`."""
    async with case_in(request.getfixturevalue("tmp_path"), **backend_config) as the_case:
        yield the_case


@dataclass(frozen=True)
class Flavour:
    """What differs between the cluster backends' cases (the Tekton case's `tekton.FLAVOUR`)."""

    backend_class: type[OpenShiftBuildBackend] = OpenShiftBuildBackend
    case_class: type[OpenShiftCase] = OpenShiftCase
    #: more cluster options from the case's directory (e.g. step images and fault rules)
    cluster: Callable[[Path], dict[str, Any]] = lambda _: {}


@asynccontextmanager
async def case_in(
    tmp_path: Path, *, flavour: Flavour = Flavour(), **backend_config: Any
) -> AsyncIterator[OpenShiftCase]:
    wheels, repos = tmp_path / "wheels", tmp_path / "repos"
    await asyncio.to_thread(_wheels, wheels)
    repositories = await asyncio.to_thread(_repositories, repos)
    image_env = await asyncio.to_thread(image_dirs, tmp_path / "images")
    builds = RecordingBuilds(fail=variant_builds(FAIL), hold=variant_builds(SLOW))
    extra = await asyncio.to_thread(flavour.cluster, tmp_path)
    image_env.update(extra.pop("image_env", {}))
    options = cluster_options(
        tmp_path / "cluster",
        build_behaviour=builds,
        import_failures={FAILING_IMPORT: ""},
        image_env=image_env,
        **extra,
    )
    saved_uv_cache = os.environ.get("UV_CACHE_DIR")
    os.environ["UV_CACHE_DIR"] = str(tmp_path / "uv-cache")
    previous = client.Configuration.get_default_copy()
    async with SimulatedCluster(options) as cluster:
        client.Configuration.set_default(client.Configuration(host=cluster.server.url))
        settings: dict[str, Any] = {
            "kubeconfig": str(cluster.kubeconfig),
            "namespace": NAMESPACE,
            "builder_images": {"ubi9-3.11": BUILDER, "3.11": BUILDER},
            "no_index": True,
            "find_links": [str(wheels)],
            "git_schemes": ["https", "file"],
            "git_hosts": [],
            "validation_timeout": 90.0,
            "server_start_timeout": 60.0,
            "import_timeout": 30.0,
            "work_dir": str(tmp_path / "work"),
            **backend_config,
        }
        backend = flavour.backend_class(**settings)
        await backend.start()
        catalog = KubeImageCatalog()
        await catalog.start(KubeSpawner, NAMESPACE)
        async with client.ApiClient(client.Configuration(host=cluster.server.url)) as api:
            the_case = flavour.case_class(
                cluster, backend, builds, catalog, api, repositories, settings
            )
            try:
                yield the_case
            finally:
                the_case.release()  # held builds end, so the cluster stops quickly
                for started in [backend, *the_case.backends]:
                    await started.stop()
                await KubeSpawner._stop_all_reflectors()
                KubeSpawner.reflectors.clear()
                await shared_client("CustomObjectsApi").api_client.close()
                client.Configuration.set_default(previous)
                if saved_uv_cache is None:
                    os.environ.pop("UV_CACHE_DIR", None)
                else:
                    os.environ["UV_CACHE_DIR"] = saved_uv_cache
