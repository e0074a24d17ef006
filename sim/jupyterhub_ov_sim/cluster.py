"""A simulated cluster: the API server plus the controllers, started and stopped together.

The CLI and the test fixtures both build on this, so a laptop dry run and the test suite
exercise the same code. It is a test double of Kubernetes, never a production runtime.
"""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .apiserver import ApiServer
from .buckets import DEFAULT_CLASS, BucketProvisioner
from .builds import BuildBehaviour, BuildController
from .controller import Controller
from .deployments import DeploymentController
from .imports import ImageImporter
from .kubeconfig import write_kubeconfig
from .kubelet import Kubelet
from .pipelineruns import PipelineRunController, RunRules
from .replicasets import ReplicaSetController
from .router import Router
from .s3 import EmbeddedS3
from .services import ServiceController
from .volumes import VolumeBinder


@dataclass
class ClusterOptions:
    """What to run and how; every controller can be switched off."""

    state_dir: Path
    host: str = "127.0.0.1"
    port: int = 0
    namespace: str = "default"
    kubelet: bool = True
    workloads: bool = True  # the Deployment and ReplicaSet controllers
    services: bool = True  # Services' endpoints and their forwarders on the cluster IPs
    router: bool = True  # Routes and Ingresses served on one address (needs services)
    #: the router's HTTP and HTTPS ports (None: 80 and 443 as root, else free ones)
    router_ports: tuple[int | None, int | None] = (None, None)
    volumes: bool = True
    builds: bool = True
    imports: bool = True  # the ImageStream import controller
    pipelines: bool = True  # the Tekton PipelineRun controller
    #: the PipelineRun controller's fault rules (what fails, what waits)
    pipeline_rules: RunRules | None = None
    s3: bool = False  # an embedded S3 server and the ObjectBucketClaim provisioner
    bucket_delay: float = 0.0
    bucket_classes: dict[str, str] = field(default_factory=lambda: {DEFAULT_CLASS: "Delete"})
    build_behaviour: BuildBehaviour | None = None
    #: image reference -> the registry's message for an import that fails ("" = not found)
    import_failures: dict[str, str] = field(default_factory=dict)
    import_delay: float = 0.0
    bind_delay: float = 0.0
    storage_classes: dict[str, str] = field(default_factory=lambda: {"standard": "Delete"})
    default_storage_class: str | None = "standard"
    entrypoints: dict[str, list[str]] = field(default_factory=dict)
    #: image repository (``openvino/model_server``, with or without registry host) -> the
    #: local command its containers run when they give no ``command`` (``args`` follow it)
    image_commands: dict[str, list[str]] = field(default_factory=dict)
    #: probe times (initialDelaySeconds, periodSeconds, timeoutSeconds) are multiplied by it
    probe_time_scale: float = 1.0
    #: image -> environment its containers start with (e.g. a PATH whose python3 differs)
    image_env: dict[str, dict[str, str]] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    retry_interval: float = 0.5
    pull_delay: float = 0.0
    image_failures: dict[str, str] = field(default_factory=dict)
    seed: int | None = None


def this_environment_path() -> str:
    """A ``PATH`` whose first entry is this Python's ``bin``: pods find its executables."""
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


def cluster_options(state_dir: Path, **overrides: object) -> ClusterOptions:
    """Options for tests: fast retries, and pods that find this environment's executables."""
    options = ClusterOptions(
        state_dir=state_dir,
        retry_interval=0.05,
        probe_time_scale=0.1,
        extra_env={"PATH": this_environment_path()},
    )
    for name, value in overrides.items():
        if not hasattr(options, name):
            raise TypeError(f"ClusterOptions has no option {name!r}")
        setattr(options, name, value)
    return options


class SimulatedCluster:
    """``async with SimulatedCluster(options) as cluster:`` — server, controllers, kubeconfig."""

    def __init__(self, options: ClusterOptions, server: ApiServer | None = None) -> None:
        """``server``: an API server to add the controllers to (it is started if needed)."""
        self.options = options
        self.server = server or ApiServer(host=options.host, port=options.port, seed=options.seed)
        self.kubelet: Kubelet | None = None
        self.binder: VolumeBinder | None = None
        self.builds: BuildController | None = None
        self.imports: ImageImporter | None = None
        self.pipelines: PipelineRunController | None = None
        self.s3: EmbeddedS3 | None = None
        self.buckets: BucketProvisioner | None = None
        self.deployments: DeploymentController | None = None
        self.replicasets: ReplicaSetController | None = None
        self.services: ServiceController | None = None
        self.router: Router | None = None
        self.kubeconfig = Path(options.state_dir) / "kubeconfig"

    async def start(self) -> SimulatedCluster:
        try:
            return await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> SimulatedCluster:
        options = self.options
        await self.server.start()
        store = self.server.store
        if options.volumes:
            self.binder = VolumeBinder(
                store,
                root=options.state_dir / "volumes",
                bind_delay=options.bind_delay,
                storage_classes=options.storage_classes,
                default_class=options.default_storage_class,
            )
            await self.binder.start()
        if options.builds:
            self.builds = BuildController(
                store, behaviour=options.build_behaviour, retry_interval=options.retry_interval
            )
            await self.builds.start()
            self.server.log_readers.append(self.builds.read_log)
            self.server.log_followers.append(self.builds.follow_log)
        if options.imports:
            self.imports = ImageImporter(
                store, failures=options.import_failures, delay=options.import_delay
            )
            await self.imports.start()
        if options.pipelines:
            self.pipelines = PipelineRunController(
                store,
                workdir=options.state_dir / "pipelineruns",
                rules=options.pipeline_rules,
                image_env=options.image_env,
                extra_env=options.extra_env,
            )
            await self.pipelines.start()
        if options.s3:
            self.s3 = EmbeddedS3(options.state_dir / "s3")
            admin = await self.s3.start()
            self.buckets = BucketProvisioner(
                store,
                admin=admin,
                storage_classes=options.bucket_classes,
                provision_delay=options.bucket_delay,
            )
            await self.buckets.start()
        if options.workloads:
            self.deployments = DeploymentController(store)
            self.replicasets = ReplicaSetController(store)
        if options.services:
            self.services = ServiceController(store)
        if options.router:
            http_port, https_port = options.router_ports
            self.router = Router(store, options.state_dir / "router", http_port, https_port)
        for controller in self._workload_controllers():
            await controller.start()
        if options.kubelet:
            self.kubelet = Kubelet(
                store,
                workdir=options.state_dir / "kubelet",
                entrypoints=options.entrypoints,
                image_commands=options.image_commands,
                probe_time_scale=options.probe_time_scale,
                image_env=options.image_env,
                extra_env=options.extra_env,
                api_url=self.server.url,
                retry_interval=options.retry_interval,
                pull_delay=options.pull_delay,
                image_failures=options.image_failures,
            )
            await self.kubelet.start()
            self.server.log_readers.append(self.kubelet.read_log)
        await asyncio.to_thread(
            write_kubeconfig, self.kubeconfig, self.server.url, namespace=options.namespace
        )
        return self

    async def stop(self) -> None:
        """Stop the pods' processes, the controllers, then the server."""
        if self.kubelet is not None:
            await self.kubelet.stop()
        for controller in self._workload_controllers():
            await controller.stop()
        if self.binder is not None:
            await self.binder.stop()
        if self.builds is not None:
            await self.builds.stop()
        if self.imports is not None:
            await self.imports.stop()
        if self.pipelines is not None:
            await self.pipelines.stop()
        if self.buckets is not None:
            await self.buckets.stop()
        if self.s3 is not None:
            await self.s3.stop()
        await self.server.stop()

    def _workload_controllers(self) -> list[Controller]:
        parts: list[Controller | None] = [
            self.deployments,
            self.replicasets,
            self.services,
            self.router,
        ]
        return [part for part in parts if part is not None]

    async def __aenter__(self) -> SimulatedCluster:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
