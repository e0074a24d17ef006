"""A simulated kubelet that runs pods as local processes: a test double, never production.

For each Pending pod (unassigned or assigned to this node) it waits until the pod's claims
are bound, assigns the node, resolves the first container's environment like a kubelet
(literal values with ``$(VAR)`` expansion, ``secretKeyRef``, ``configMapKeyRef``,
``fieldRef``, ``envFrom``), and runs its command as a local process with its own loopback IP
(127.0.0.N) reported as ``podIP``. Paths under volume mount paths are translated to the
volumes' local directories and ``0.0.0.0`` to the pod IP (see ``podenv``). Status moves
Pending -> Running (container ready) -> Succeeded/Failed when the process exits; deleting
the pod terminates the process group. Events are recorded as a kubelet would. A container it
cannot run (no command and no known entrypoint, an executable that is not there) waits in
``CreateContainerError`` with a ``Failed`` event "Error: ...", retried like the kubelet does.

Each container gets the variables of the namespace's Services (``serviceenv``); an image
without a command may be mapped to a local one by its repository (``image_commands``).
Readiness follows the container's ``readinessProbe`` (``probes``). Deliberate
simplifications: only the first container runs; no images, liveness probes, restarts,
resource limits or isolation; without a readiness probe a container is ready once started.
Part of the cluster simulator (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from . import podstatus
from .controller import Controller
from .errors import ApiError
from .ippool import IPPool
from .kinds import ResourceKind
from .meta import now
from .podenv import (
    PodConfigError,
    check_executable,
    command_line,
    container_env,
    translate,
)
from .podfs import PodUnschedulable, check_claims, container_mounts
from .podruntime import ImagePullError, Launch, PodRuntime, end_group, terminate
from .probes import Probe, follow_readiness, readiness_probe
from .serviceenv import service_env
from .store import ObjectStore
from .watchcache import WatchEvent

log = logging.getLogger(__name__)
T = TypeVar("T")
KIND_PLURALS = {
    "Secret": "secrets",
    "ConfigMap": "configmaps",
    "PersistentVolumeClaim": "persistentvolumeclaims",
    "PersistentVolume": "persistentvolumes",
}


class Kubelet(Controller):
    """Runs the pods of one simulated node as local processes."""

    component = "kubelet"
    watched = (("", "v1", "pods"),)

    def __init__(
        self,
        store: ObjectStore,
        *,
        workdir: Path,
        node_name: str = "sim-node",
        entrypoints: Mapping[str, list[str]] | None = None,
        image_commands: Mapping[str, list[str]] | None = None,
        image_env: Mapping[str, Mapping[str, str]] | None = None,
        extra_env: Mapping[str, str] | None = None,
        api_url: str | None = None,
        retry_interval: float = 0.5,
        pull_delay: float = 0.0,
        image_failures: Mapping[str, str] | None = None,
        max_grace_seconds: float = 5.0,
        probe_time_scale: float = 1.0,
    ) -> None:
        super().__init__(store)
        self.workdir = Path(workdir)
        self.node_name = node_name
        self.entrypoints = dict(entrypoints or {})
        # image repository -> the local command it runs when a container names none
        self.image_commands = {k: list(v) for k, v in (image_commands or {}).items()}
        self.probe_time_scale = probe_time_scale
        self.image_env = {k: dict(v) for k, v in (image_env or {}).items()}
        self.base_env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "TZ")}
        self.base_env.update(extra_env or {})
        self.api_url = api_url
        self.retry_interval = retry_interval
        self.pull_delay = pull_delay
        # image -> why pulling it fails (injected failures; the pod waits in ErrImagePull)
        self.image_failures = dict(image_failures or {})
        self.max_grace_seconds = max_grace_seconds
        self.pods: dict[str, PodRuntime] = {}
        self.ips = IPPool()
        self.pod_kind = self.kind("", "v1", "pods")
        self.service_kind = self.kind("", "v1", "services")

    async def start(self) -> None:
        self._register_node()
        await super().start()

    async def stop(self) -> None:
        await asyncio.gather(*(self._stop_pod(r, 0.5) for r in list(self.pods.values())))
        await super().stop()

    def _register_node(self) -> None:
        nodes = self.kind("", "v1", "nodes")
        body = {
            "metadata": {
                "name": self.node_name,
                "labels": {"kubernetes.io/hostname": self.node_name},
            }
        }
        node = self.get_or_create(nodes, "", body)
        self.merge_status(nodes, node, podstatus.node_status(self.node_name))

    async def read_log(self, pod: dict[str, Any]) -> str | None:
        """The first container's output so far, or None if this kubelet never ran it."""
        runtime = self.pods.get(pod["metadata"]["uid"]) if pod.get("kind") == "Pod" else None
        if runtime is None or runtime.process is None:
            return None
        path = runtime.directory / "container.log"
        data = await asyncio.to_thread(path.read_bytes)
        return data.decode(errors="replace")

    def lookup(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        resource = self.kind("", "v1", KIND_PLURALS[kind])
        try:
            return self.store.get(resource, namespace if resource.namespaced else "", name)
        except ApiError as error:
            if error.code == 404:
                return None
            raise

    # -- reacting to pods ------------------------------------------------------------------

    def on_event(self, kind: ResourceKind, event: WatchEvent) -> None:
        pod = event.obj
        md, spec = pod["metadata"], pod.get("spec") or {}
        runtime = self.pods.get(md["uid"])
        if event.type == "DELETED" or md.get("deletionTimestamp"):
            if runtime is not None and not runtime.stopping:
                grace = md.get("deletionGracePeriodSeconds") or spec.get(
                    "terminationGracePeriodSeconds", 30
                )
                self.spawn(self._stop_pod(runtime, float(grace)))
            return
        phase = (pod.get("status") or {}).get("phase")
        mine = spec.get("nodeName") in (None, "", self.node_name)
        if runtime is None and phase == "Pending" and mine:
            runtime = PodRuntime(
                uid=md["uid"],
                namespace=md.get("namespace", ""),
                name=md["name"],
                ip=self.ips.allocate(),
                directory=self.workdir
                / "pods"
                / f"{md.get('namespace')}_{md['name']}_{md['uid'][:8]}",
            )
            self.pods[runtime.uid] = runtime
            runtime.task = self.spawn(self._run_pod(runtime))

    def _current(self, runtime: PodRuntime) -> dict[str, Any] | None:
        try:
            pod = self.store.get(self.pod_kind, runtime.namespace, runtime.name)
        except ApiError:
            return None
        if pod["metadata"]["uid"] != runtime.uid or pod["metadata"].get("deletionTimestamp"):
            return None
        return pod

    async def _retry(
        self,
        runtime: PodRuntime,
        attempt: Callable[[dict[str, Any]], Awaitable[T]],
    ) -> tuple[dict[str, Any], T] | None:
        """Run ``attempt`` on the current pod until it stops raising PodConfigError."""
        while not runtime.stopping:
            pod = self._current(runtime)
            if pod is None:
                return None
            try:
                return pod, await attempt(pod)
            except PodConfigError as problem:
                self._report_problem(runtime, pod, problem)
            await asyncio.sleep(self.retry_interval)  # the kubelet's retry back-off
        return None

    def _report_problem(self, runtime: PodRuntime, pod: dict[str, Any], problem: Exception) -> None:
        message = str(problem)
        if message == runtime.last_problem:
            return
        runtime.last_problem = message
        if isinstance(problem, PodUnschedulable):
            self.merge_status(self.pod_kind, pod, podstatus.unschedulable(message))
            self.record_event(pod, "FailedScheduling", message, "Warning")
            return
        # the container waits with the kubelet's reason; its event says "Error: ..." but for pulls
        reason = getattr(problem, "reason", PodConfigError.reason)
        status = podstatus.waiting(pod["spec"]["containers"][0], reason, message)
        self.merge_status(self.pod_kind, pod, status)
        event = message if isinstance(problem, ImagePullError) else f"Error: {message}"
        self.record_event(pod, "Failed", event, "Warning")

    async def _schedulable(self, pod: dict[str, Any]) -> None:
        if not (pod.get("spec") or {}).get("containers"):
            raise PodConfigError("pod has no containers")
        check_claims(pod, self.lookup)

    def _bind(self, runtime: PodRuntime, pod: dict[str, Any]) -> None:
        if not pod["spec"].get("nodeName"):
            body = {"spec": {"nodeName": self.node_name}}
            self.store.patch(
                self.pod_kind, runtime.namespace, runtime.name, body, "application/merge-patch+json"
            )
            message = (
                f"Successfully assigned {runtime.namespace}/{runtime.name} to {self.node_name}"
            )
            self.record_event(pod, "Scheduled", message)
        self.merge_status(self.pod_kind, pod, podstatus.scheduled())

    async def _launch_spec(self, runtime: PodRuntime, pod: dict[str, Any]) -> Launch:
        container = pod["spec"]["containers"][0]
        visible = {
            **pod,
            "status": {**(pod.get("status") or {}), "podIP": runtime.ip, "hostIP": "127.0.0.1"},
        }
        mounts = await container_mounts(pod, container, runtime.directory, self.lookup)
        image = container.get("image", "")
        env = dict(self.image_env.get(image, {}))
        env.update(container_env(visible, container, self.lookup, self._service_env(pod)))
        argv = command_line(container, env, self.entrypoints, self.image_commands)
        env.setdefault("HOME", str(runtime.directory / "home"))
        env.setdefault("HOSTNAME", runtime.name)
        if self.api_url:
            host_port = self.api_url.split("://", 1)[-1]
            env["KUBERNETES_SERVICE_HOST"], _, env["KUBERNETES_SERVICE_PORT"] = host_port.partition(
                ":"
            )
        env = {k: translate(v, mounts, runtime.ip) for k, v in env.items()}
        cwd = translate(container.get("workingDir") or env["HOME"], mounts, runtime.ip)
        await asyncio.to_thread(Path(cwd).mkdir, parents=True, exist_ok=True)
        await asyncio.to_thread(Path(env["HOME"]).mkdir, parents=True, exist_ok=True)
        argv = [translate(part, mounts, runtime.ip) for part in argv]
        launch = Launch(argv, {**self.base_env, **env}, cwd)
        await asyncio.to_thread(check_executable, argv[0], launch.env.get("PATH", ""), cwd)
        return launch

    def _service_env(self, pod: dict[str, Any]) -> dict[str, str]:
        """The variables of the Services of the pod's namespace that exist now."""
        if pod["spec"].get("enableServiceLinks") is False:
            return {}
        services, _ = self.store.list_objects(self.service_kind, pod["metadata"]["namespace"])
        return service_env(services)

    # -- running ---------------------------------------------------------------------------

    async def _run_pod(self, runtime: PodRuntime) -> None:
        if await self._retry(runtime, self._schedulable) is None:
            return
        pod = self._current(runtime)
        if pod is None:
            return
        self._bind(runtime, pod)
        if self.pull_delay:
            await self._pull(pod)
        if await self._retry(runtime, self._pullable) is None:
            return
        prepared = await self._retry(runtime, lambda p: self._launch_spec(runtime, p))
        if prepared is None:
            return
        pod, launch = prepared
        await self._execute(runtime, pod, launch)

    async def _pullable(self, pod: dict[str, Any]) -> None:
        image = pod["spec"]["containers"][0].get("image", "")
        if image in self.image_failures:
            raise ImagePullError(f'Failed to pull image "{image}": {self.image_failures[image]}')

    async def _pull(self, pod: dict[str, Any]) -> None:
        """The configured image-pull time, with the events a kubelet records around it."""
        image = pod["spec"]["containers"][0].get("image")
        self.record_event(pod, "Pulling", f'Pulling image "{image}"')
        await asyncio.sleep(self.pull_delay)  # the simulated pull
        message = f'Successfully pulled image "{image}" in {self.pull_delay:g}s'
        self.record_event(pod, "Pulled", message)

    async def _execute(self, runtime: PodRuntime, pod: dict[str, Any], launch: Launch) -> None:
        container = pod["spec"]["containers"][0]
        log_path = runtime.directory / "container.log"
        await asyncio.to_thread(runtime.directory.mkdir, parents=True, exist_ok=True)
        logfile = await asyncio.to_thread(open, log_path, "ab")
        started = now()
        try:
            runtime.process = await asyncio.create_subprocess_exec(
                *launch.argv,
                env=launch.env,
                cwd=launch.cwd,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=logfile,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as error:
            self.record_event(pod, "Failed", f"Error: {error}", "Warning")
            self.merge_status(
                self.pod_kind, pod, podstatus.start_failed(container, str(error), started)
            )
            return
        finally:
            logfile.close()
        if not self.pull_delay:
            present = f'Container image "{container.get("image")}" already present on machine'
            self.record_event(pod, "Pulled", present)
        self.record_event(pod, "Created", f"Created container {container['name']}")
        self.record_event(pod, "Started", f"Started container {container['name']}")
        pid = runtime.process.pid
        probe = readiness_probe(container)
        status = podstatus.running(container, runtime.ip, pid, started, ready=probe is None)
        self.merge_status(self.pod_kind, pod, status)
        if probe is not None:
            self.spawn(self._probe(runtime, pod, probe, started))
        code = await runtime.process.wait()
        end_group(pid)
        if not runtime.stopping:
            final = podstatus.terminated(container, runtime.ip, pid, code, started)
            self.merge_status(self.pod_kind, pod, final)

    async def _probe(
        self, runtime: PodRuntime, pod: dict[str, Any], probe: Probe, started: str
    ) -> None:
        """Readiness follows the container's readinessProbe while its process runs."""
        container = pod["spec"]["containers"][0]
        process = runtime.process
        assert process is not None

        def alive() -> bool:
            return process.returncode is None and not runtime.stopping

        def report(ready: bool) -> None:
            if alive():
                status = podstatus.running(container, runtime.ip, process.pid, started, ready)
                self.merge_status(self.pod_kind, pod, status)

        await follow_readiness(
            probe, runtime.ip, alive=alive, report=report, time_scale=self.probe_time_scale
        )

    async def _stop_pod(self, runtime: PodRuntime, grace: float) -> None:
        runtime.stopping = True
        process = runtime.process
        if process is not None and process.returncode is None:
            pod = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": runtime.name,
                    "namespace": runtime.namespace,
                    "uid": runtime.uid,
                },
            }
            self.record_event(pod, "Killing", "Stopping container")
            await terminate(process, min(grace, self.max_grace_seconds))
        if runtime.task is not None and not runtime.task.done():
            runtime.task.cancel()
        self.pods.pop(runtime.uid, None)
        self.ips.release(runtime.ip)
