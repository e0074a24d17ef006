"""A simulated OpenShift build controller: a test double, never production.

Builds (``build.openshift.io/v1``) are created directly, by ``POST
buildconfigs/<name>/instantiate`` with a ``BuildRequest`` (what ``oc start-build`` sends; see
`instantiate`) or by a BuildConfig's ConfigChange trigger, and go New -> Pending -> Running ->
Complete or Failed. A build whose output ImageStream does not exist waits in New with reason
``InvalidOutputReference``. On Complete the output tag appears in the stream's ``status.tags``
with a ``dockerImageReference``. A Build updated with ``status.cancelled: true`` while New,
Pending or Running (what ``oc cancel-build`` does) goes to Cancelled and its work stops.

What a build does is pluggable: a ``BuildBehaviour`` coroutine gets the build and its
`BuildLog`, writes output as it goes and returns the outcome (default: succeed at once). The
log grows while the build runs; ``builds/<name>/log?follow=true`` streams it to its end.
Part of the cluster simulator (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from . import errors
from .controller import Controller
from .errors import ApiError
from .imagestreams import REGISTRY, pushed_status
from .kinds import ResourceKind
from .meta import now
from .patches import MERGE_PATCH
from .store import ObjectStore
from .watchcache import WatchEvent

__all__ = [
    "REGISTRY",
    "BuildController",
    "BuildLog",
    "BuildOutcome",
    "instantiate",
    "record_push",
]

GROUP = ("build.openshift.io", "v1")
ACTIVE_PHASES = frozenset({"New", "Pending", "Running"})
CANCELLED_REASON = "CancelledBuild"
CANCELLED_MESSAGE = "The build was cancelled by the user."
MANUAL_TRIGGER = "Manually triggered"
CONFIG_TRIGGER = "Build configuration change"
CONFIG_ONLY = ("triggers", "runPolicy", "successfulBuildsHistoryLimit", "failedBuildsHistoryLimit")


@dataclass
class BuildOutcome:
    success: bool
    #: output written at the end (a behaviour may also write to its log as it goes)
    log: str = ""
    message: str = ""
    reason: str = "GenericBuildFailed"


class BuildLog:
    """A build's output as it is written; followers wake on every write and at the end."""

    def __init__(self) -> None:
        self.text = ""
        self.started = False
        self.closed = False
        self._changed = asyncio.Event()

    def write(self, text: str) -> None:
        self.text += text
        self._wake()

    def close(self) -> None:
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def follow(self) -> AsyncGenerator[str, None]:
        """Everything written so far, then each new write, until the build ends."""
        sent = 0
        while True:
            changed = self._changed
            if len(self.text) > sent:
                chunk, sent = self.text[sent:], len(self.text)
                yield chunk
            elif self.closed:
                return
            else:
                await changed.wait()


BuildBehaviour = Callable[[dict[str, Any], BuildLog], Awaitable[BuildOutcome]]


def succeed_after(seconds: float = 0.0) -> BuildBehaviour:
    async def behaviour(build: dict[str, Any], log: BuildLog) -> BuildOutcome:
        await asyncio.sleep(seconds)  # the simulated build time
        target = build["spec"]["output"]["to"]["name"]
        return BuildOutcome(True, f"Building {target}\nPush successful\n")

    return behaviour


def fail_after(seconds: float = 0.0, log: str = "error: build step failed\n") -> BuildBehaviour:
    async def behaviour(build: dict[str, Any], build_log: BuildLog) -> BuildOutcome:
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


def output_digest(build: dict[str, Any]) -> str:
    """The (fake, deterministic) digest of the image a build pushes."""
    return "sha256:" + hashlib.sha256(build["metadata"]["uid"].encode()).hexdigest()


def record_push(
    store: ObjectStore, streams: ResourceKind, namespace: str, name: str, tag: str, digest: str
) -> str | None:
    """What the internal registry does on a push of ``digest`` to ``<name>:<tag>`` (a Build's
    output, a PipelineRun's buildah push): the tag in the stream's ``status.tags``; the new
    image's reference, None if there is no such stream."""
    try:
        stream = store.get(streams, namespace, name)
    except ApiError:
        return None
    status, reference = pushed_status(stream, namespace, tag, digest, now())
    store.patch(streams, namespace, name, {"status": status}, MERGE_PATCH, subresource="status")
    return reference


def _kind(store: ObjectStore, plural: str) -> ResourceKind:
    found = store.registry.lookup(*GROUP, plural)
    if found is None:
        raise LookupError(f"{plural}.{GROUP[0]} is not registered")
    return found


def config_kind(store: ObjectStore) -> ResourceKind:
    return _kind(store, "buildconfigs")


def instantiate(
    store: ObjectStore,
    namespace: str,
    name: str,
    request: Any = None,
    *,
    binary: dict[str, Any] | None = None,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The next Build of a BuildConfig, as the API server makes it for ``instantiate`` (and,
    with ``binary``, for ``instantiatebinary``: see `binaryuploads`)."""
    request = {} if request is None else request
    if not isinstance(request, dict):
        raise errors.bad_request("the body of an instantiate request must be a BuildRequest")
    if request.get("kind") not in (None, "BuildRequest"):
        raise errors.bad_request(f"expected a BuildRequest, not a {request.get('kind')}")
    asked = (request.get("metadata") or {}).get("name")
    if asked and asked != name:
        raise errors.bad_request(
            f"the name of the BuildRequest ({asked}) does not match the name on the URL ({name})"
        )
    configs, builds = _kind(store, "buildconfigs"), _kind(store, "builds")
    config = store.get(configs, namespace, name)
    number = int((config.get("status") or {}).get("lastVersion") or 0) + 1
    store.patch(configs, namespace, name, {"status": {"lastVersion": number}}, MERGE_PATCH)
    spec = {k: v for k, v in (config.get("spec") or {}).items() if k not in CONFIG_ONLY}
    spec["triggeredBy"] = request.get("triggeredBy") or [{"message": MANUAL_TRIGGER}]
    if binary is not None:
        spec["source"] = {**(spec.get("source") or {}), "binary": binary}
    body = {
        "metadata": {
            "name": f"{name}-{number}",
            # a Build carries its BuildConfig's labels, as in OpenShift
            "labels": {
                **(config["metadata"].get("labels") or {}),
                "buildconfig": name,
                "openshift.io/build-config.name": name,
            },
            "annotations": {
                "openshift.io/build-config.name": name,
                "openshift.io/build.number": str(number),
                **(annotations or {}),
            },
            "ownerReferences": [
                {
                    "apiVersion": config["apiVersion"],
                    "kind": "BuildConfig",
                    "name": name,
                    "uid": config["metadata"]["uid"],
                    "controller": True,
                }
            ],
        },
        "spec": spec,
    }
    return store.create(builds, namespace, body)


class BuildController(Controller):
    """Runs builds through their phases, cancels them on request and publishes their outputs."""

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
        self.logs: dict[str, BuildLog] = {}  # build uid -> its log
        self._running: dict[str, asyncio.Task[Any]] = {}  # build uid -> its work

    def on_event(self, kind: ResourceKind, event: WatchEvent) -> None:
        obj = event.obj
        uid = obj["metadata"]["uid"]
        if event.type == "DELETED":
            if kind is self.builds:  # deleting a build deletes its pod: the work stops
                self._stop_work(uid)
                log = self.logs.pop(uid, None)
                if log is not None:
                    log.close()
            return
        if kind is self.configs:
            triggers = (obj.get("spec") or {}).get("triggers") or []
            never_built = not (obj.get("status") or {}).get("lastVersion")
            if event.type == "ADDED" and never_built and {"type": "ConfigChange"} in triggers:
                md, request = obj["metadata"], {"triggeredBy": [{"message": CONFIG_TRIGGER}]}
                instantiate(self.store, md["namespace"], md["name"], request)
            return
        status = obj.get("status") or {}
        phase = status.get("phase", "New")
        if status.get("cancelled") and phase in ACTIVE_PHASES:
            self._cancel(obj)
        elif phase == "New" and uid not in self._running:
            self.logs.setdefault(uid, BuildLog())
            self._running[uid] = self.spawn(self._run(obj))

    async def stop(self) -> None:
        for log in self.logs.values():  # followers of unfinished builds end with the cluster
            log.close()
        await super().stop()

    def instantiate(self, namespace: str, name: str) -> dict[str, Any]:
        """Start the next build of a BuildConfig (what ``oc start-build`` asks for)."""
        return instantiate(self.store, namespace, name)

    def _stop_work(self, uid: str) -> None:
        task = self._running.pop(uid, None)
        if task is not None:
            task.cancel()

    def _cancel(self, build: dict[str, Any]) -> None:
        """What the real controller does for status.cancelled: stop the pod, then Cancelled."""
        md = build["metadata"]
        self._stop_work(md["uid"])
        status = {
            "phase": "Cancelled",
            "reason": CANCELLED_REASON,
            "message": CANCELLED_MESSAGE,
            "completionTimestamp": now(),
        }
        self.merge_status(self.builds, build, status)
        message = f"Build {md['namespace']}/{md['name']} has been cancelled"
        self.record_event(build, "BuildCancelled", message)
        log = self.logs.get(md["uid"])
        if log is not None:
            log.close()

    async def read_log(self, obj: dict[str, Any]) -> str | None:
        if obj.get("kind") != "Build":
            return None
        log = self.logs.get(obj["metadata"]["uid"])
        return log.text if log is not None and (log.started or log.text) else None

    def follow_log(self, obj: dict[str, Any]) -> AsyncGenerator[str, None] | None:
        if obj.get("kind") != "Build":
            return None
        log = self.logs.get(obj["metadata"]["uid"])
        return log.follow() if log is not None else None

    def _current(self, build: dict[str, Any]) -> dict[str, Any] | None:
        md = build["metadata"]
        try:
            current = self.store.get(self.builds, md["namespace"], md["name"])
        except ApiError:
            return None
        return current if current["metadata"]["uid"] == md["uid"] else None

    async def _run(self, build: dict[str, Any]) -> None:
        uid = build["metadata"]["uid"]
        try:
            while (current := self._current(build)) is not None:
                if (current.get("status") or {}).get("phase", "New") != "New":
                    return  # already run (a late event of its New days) or cancelled
                if self._output_ready(current):
                    await self._execute(current)
                    return
                await asyncio.sleep(self.retry_interval)  # waiting for the output stream
        finally:
            if self._running.get(uid) is asyncio.current_task():
                del self._running[uid]

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
        md = build["metadata"]
        log = self.logs.setdefault(md["uid"], BuildLog())
        self.merge_status(self.builds, build, {"phase": "Pending", "reason": None, "message": None})
        self.merge_status(self.builds, build, {"phase": "Running", "startTimestamp": now()})
        log.started = True
        self.record_event(
            build, "BuildStarted", f"Build {md['namespace']}/{md['name']} is now running"
        )
        outcome = await self.behaviour(build, log)
        if outcome.log:
            log.write(outcome.log)
        status: dict[str, Any] = {"completionTimestamp": now()}
        if outcome.success:
            status["phase"] = "Complete"
            reference = self._publish(build)
            if reference:
                status["outputDockerImageReference"] = reference.split("@")[0]
                status["output"] = {"to": {"imageDigest": reference.split("@")[1]}}
            self.record_event(build, "BuildCompleted", f"Build {md['name']} completed successfully")
        else:
            status.update(phase="Failed", reason=outcome.reason, message=outcome.message)
            status["logSnippet"] = log.text[-1000:]
            self.record_event(build, "BuildFailed", f"Build {md['name']} failed", "Warning")
        log.close()
        if self._current(build) is not None:
            self.merge_status(self.builds, build, status)

    def _publish(self, build: dict[str, Any]) -> str | None:
        """Add the build's output tag to its ImageStream; the new image reference."""
        target = output_tag(build)
        if target is None:
            return None
        stream_name, tag = target
        namespace, digest = build["metadata"]["namespace"], output_digest(build)
        return record_push(self.store, self.streams, namespace, stream_name, tag, digest)
