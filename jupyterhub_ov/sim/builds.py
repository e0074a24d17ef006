"""A simulated OpenShift build controller: a test double, never production.

Builds (``build.openshift.io/v1``), created directly or from a BuildConfig (its ConfigChange
trigger on creation, or ``instantiate()``), go New -> Pending -> Running -> Complete or
Failed. A build whose output ImageStream does not exist waits in New with reason
``InvalidOutputReference``. On Complete the output tag appears in the stream's
``status.tags`` with a ``dockerImageReference``. What a build does is pluggable: a
``BuildBehaviour`` coroutine returns the outcome and the log (default: succeed after a delay).
Part of the cluster simulator (see ``jupyterhub_ov.sim``).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .controller import Controller
from .errors import ApiError
from .kinds import ResourceKind
from .meta import now
from .patches import MERGE_PATCH
from .store import ObjectStore
from .watchcache import WatchEvent

REGISTRY = "image-registry.openshift-image-registry.svc:5000"
GROUP = ("build.openshift.io", "v1")


@dataclass
class BuildOutcome:
    success: bool
    log: str
    message: str = ""


BuildBehaviour = Callable[[dict[str, Any]], Awaitable[BuildOutcome]]


def succeed_after(seconds: float = 0.0) -> BuildBehaviour:
    async def behaviour(build: dict[str, Any]) -> BuildOutcome:
        await asyncio.sleep(seconds)  # the simulated build time
        target = build["spec"]["output"]["to"]["name"]
        return BuildOutcome(True, f"Building {target}\nPush successful\n")

    return behaviour


def fail_after(seconds: float = 0.0, log: str = "error: build step failed\n") -> BuildBehaviour:
    async def behaviour(build: dict[str, Any]) -> BuildOutcome:
        await asyncio.sleep(seconds)  # the simulated build time
        return BuildOutcome(False, log, "Generic Build failure - check logs for details.")

    return behaviour


def output_tag(build: dict[str, Any]) -> tuple[str, str] | None:
    """``(stream, tag)`` of an ImageStreamTag output, None for other outputs."""
    to = ((build.get("spec") or {}).get("output") or {}).get("to") or {}
    if to.get("kind") != "ImageStreamTag" or ":" not in to.get("name", ""):
        return None
    stream, _, tag = to["name"].partition(":")
    return stream, tag


class BuildController(Controller):
    """Runs builds through their phases and publishes their output tags."""

    component = "build-controller"
    watched = ((*GROUP, "buildconfigs"), (*GROUP, "builds"))

    def __init__(
        self,
        store: ObjectStore,
        *,
        behaviour: BuildBehaviour | None = None,
        retry_interval: float = 0.5,
    ) -> None:
        super().__init__(store)
        self.behaviour = behaviour or succeed_after(0.0)
        self.retry_interval = retry_interval
        self.builds = self.kind(*GROUP, "builds")
        self.configs = self.kind(*GROUP, "buildconfigs")
        self.streams = self.kind("image.openshift.io", "v1", "imagestreams")
        self.logs: dict[str, str] = {}  # build uid -> log
        self._running: set[str] = set()

    def on_event(self, kind: ResourceKind, event: WatchEvent) -> None:
        obj = event.obj
        if event.type == "DELETED":
            self.logs.pop(obj["metadata"]["uid"], None)
            return
        if kind is self.configs:
            triggers = (obj.get("spec") or {}).get("triggers") or []
            never_built = not (obj.get("status") or {}).get("lastVersion")
            if event.type == "ADDED" and never_built and {"type": "ConfigChange"} in triggers:
                self.instantiate(obj["metadata"]["namespace"], obj["metadata"]["name"])
        elif (obj.get("status") or {}).get("phase", "New") == "New":
            if obj["metadata"]["uid"] not in self._running:
                self._running.add(obj["metadata"]["uid"])
                self.spawn(self._run(obj))

    def instantiate(self, namespace: str, name: str) -> dict[str, Any]:
        """Start the next build of a BuildConfig (what ``oc start-build`` asks for)."""
        config = self.store.get(self.configs, namespace, name)
        number = int((config.get("status") or {}).get("lastVersion") or 0) + 1
        self.merge_status(self.configs, config, {"lastVersion": number})
        md = config["metadata"]
        labels = {"buildconfig": name, "openshift.io/build-config.name": name}
        body = {
            "metadata": {
                "name": f"{name}-{number}",
                "labels": labels,
                "annotations": {
                    "openshift.io/build-config.name": name,
                    "openshift.io/build.number": str(number),
                },
                "ownerReferences": [
                    {
                        "apiVersion": config["apiVersion"],
                        "kind": "BuildConfig",
                        "name": name,
                        "uid": md["uid"],
                        "controller": True,
                    }
                ],
            },
            "spec": {
                k: v
                for k, v in (config.get("spec") or {}).items()
                if k not in ("triggers", "runPolicy")
            },
        }
        return self.store.create(self.builds, namespace, body)

    async def read_log(self, obj: dict[str, Any]) -> str | None:
        if obj.get("kind") != "Build":
            return None
        return self.logs.get(obj["metadata"]["uid"])

    def _current(self, build: dict[str, Any]) -> dict[str, Any] | None:
        md = build["metadata"]
        try:
            current = self.store.get(self.builds, md["namespace"], md["name"])
        except ApiError:
            return None
        return current if current["metadata"]["uid"] == md["uid"] else None

    async def _run(self, build: dict[str, Any]) -> None:
        try:
            while (current := self._current(build)) is not None:
                if self._output_ready(current):
                    await self._execute(current)
                    return
                await asyncio.sleep(self.retry_interval)  # waiting for the output stream
        finally:
            self._running.discard(build["metadata"]["uid"])

    def _output_ready(self, build: dict[str, Any]) -> bool:
        target = output_tag(build)
        if target is None:
            return True
        try:
            self.store.get(self.streams, build["metadata"]["namespace"], target[0])
            return True
        except ApiError:
            message = "Output image could not be resolved."
            status = {"phase": "New", "reason": "InvalidOutputReference", "message": message}
            if (build.get("status") or {}).get("reason") != "InvalidOutputReference":
                self.merge_status(self.builds, build, status)
            return False

    async def _execute(self, build: dict[str, Any]) -> None:
        uid = build["metadata"]["uid"]
        self.merge_status(self.builds, build, {"phase": "Pending", "reason": None, "message": None})
        started = now()
        self.merge_status(self.builds, build, {"phase": "Running", "startTimestamp": started})
        self.record_event(
            build,
            "BuildStarted",
            f"Build {build['metadata']['namespace']}/{build['metadata']['name']} is now running",
        )
        outcome = await self.behaviour(build)
        self.logs[uid] = outcome.log
        status: dict[str, Any] = {"completionTimestamp": now()}
        if outcome.success:
            status["phase"] = "Complete"
            reference = self._publish(build)
            if reference:
                status["outputDockerImageReference"] = reference.split("@")[0]
                status["output"] = {"to": {"imageDigest": reference.split("@")[1]}}
            self.record_event(
                build, "BuildCompleted", f"Build {build['metadata']['name']} completed successfully"
            )
        else:
            status.update(phase="Failed", reason="GenericBuildFailed", message=outcome.message)
            status["logSnippet"] = outcome.log[-1000:]
            self.record_event(
                build, "BuildFailed", f"Build {build['metadata']['name']} failed", "Warning"
            )
        if self._current(build) is not None:
            self.merge_status(self.builds, build, status)

    def _publish(self, build: dict[str, Any]) -> str | None:
        """Add the build's output tag to its ImageStream; the new image reference."""
        target = output_tag(build)
        if target is None:
            return None
        stream_name, tag = target
        namespace = build["metadata"]["namespace"]
        try:
            stream = self.store.get(self.streams, namespace, stream_name)
        except ApiError:
            return None
        digest = "sha256:" + hashlib.sha256(build["metadata"]["uid"].encode()).hexdigest()
        repository = f"{REGISTRY}/{namespace}/{stream_name}"
        reference = f"{repository}@{digest}"
        status = dict(stream.get("status") or {})
        tags = [t for t in status.get("tags") or [] if t.get("tag") != tag]
        previous: list[dict[str, Any]] = next(
            (t["items"] for t in status.get("tags") or [] if t.get("tag") == tag), []
        )
        item = {
            "created": now(),
            "dockerImageReference": reference,
            "image": digest,
            "generation": stream["metadata"].get("generation", 1),
        }
        tags.append({"tag": tag, "items": [item, *previous]})
        status.update(dockerImageRepository=repository, tags=tags)
        self.store.patch(
            self.streams,
            namespace,
            stream_name,
            {"status": status},
            MERGE_PATCH,
            subresource="status",
        )
        return reference
