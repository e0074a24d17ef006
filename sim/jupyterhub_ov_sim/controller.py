"""A base for the simulator's in-process controllers, and a helper to record core/v1 Events.

Controllers read and write the ``ObjectStore`` directly (no HTTP), so their traffic does not
show up in the API server's request counters: counters measure the clients under test.
Part of the cluster simulator, a test double of Kubernetes (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from typing import Any

from .errors import ApiError
from .kinds import ResourceKind
from .meta import now
from .patches import MERGE_PATCH
from .store import ObjectStore
from .watchcache import Subscription, WatchEvent

log = logging.getLogger(__name__)
_last_event_stamp = 0


def _event_suffix() -> str:
    """Like the real recorder: hex nanoseconds, so event names sort chronologically."""
    global _last_event_stamp
    _last_event_stamp = max(time.time_ns(), _last_event_stamp + 1)
    return f"{_last_event_stamp:016x}"


def _everything(obj: Any) -> bool:
    return True


class Controller:
    """Follows some kinds through the store and reacts to each change in ``on_event``."""

    component = "controller"
    watched: tuple[tuple[str, str, str], ...] = ()  # (group, version, plural)

    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self._subscriptions: list[Subscription] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loops: list[asyncio.Task[None]] = []

    def kind(self, group: str, version: str, plural: str) -> ResourceKind:
        found = self.store.registry.lookup(group, version, plural)
        if found is None:
            raise LookupError(f"{plural}.{group}/{version} is not registered")
        return found

    def get_or_create(
        self, kind: ResourceKind, namespace: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """The object named in ``body``: created, or the one that already exists."""
        try:
            return self.store.create(kind, namespace, body)
        except ApiError as error:
            if error.code != 409:
                raise
            return self.store.get(kind, namespace, body["metadata"]["name"])

    async def start(self) -> None:
        for group, version, plural in self.watched:
            kind = self.kind(group, version, plural)
            initial, subscription = self.store.watch(kind, None, _everything, None)
            self._subscriptions.append(subscription)
            self._loops.append(asyncio.create_task(self._follow(kind, initial, subscription)))

    async def _follow(
        self, kind: ResourceKind, initial: list[WatchEvent], subscription: Subscription
    ) -> None:
        for event in initial:
            self._handle(kind, event)
        while (event_or_end := await subscription.queue.get()) is not None:
            self._handle(kind, event_or_end)

    def _handle(self, kind: ResourceKind, event: WatchEvent) -> None:
        try:
            self.on_event(kind, event)
        except Exception:
            log.exception("%s failed on %s %s", self.component, event.type, kind.plural)

    def on_event(self, kind: ResourceKind, event: WatchEvent) -> None:
        raise NotImplementedError

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run work in the background; failures are logged, never lost silently."""
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s task failed", self.component, exc_info=task.exception())

    async def stop(self) -> None:
        for subscription in self._subscriptions:
            subscription.close()
        for task in [*self._loops, *self._tasks]:
            task.cancel()
        await asyncio.gather(*self._loops, *self._tasks, return_exceptions=True)
        self._subscriptions.clear()
        self._loops.clear()

    # -- helpers for subclasses ------------------------------------------------------------

    def merge_status(
        self, kind: ResourceKind, obj: dict[str, Any], status: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Merge-patch an object's status; None if the object is gone."""
        md = obj["metadata"]
        try:
            return self.store.patch(
                kind,
                md.get("namespace", ""),
                md["name"],
                {"status": status},
                MERGE_PATCH,
                subresource="status" if kind.status_subresource else None,
            )
        except ApiError as error:
            if error.code == 404:
                return None
            raise

    def record_event(
        self, obj: dict[str, Any], reason: str, message: str, type_: str = "Normal"
    ) -> None:
        """Create a core/v1 Event about ``obj``, as controllers and the kubelet do."""
        events = self.kind("", "v1", "events")
        md = obj["metadata"]
        namespace = md.get("namespace") or "default"
        stamp = now()
        body = {
            "metadata": {"name": f"{md['name']}.{_event_suffix()}", "namespace": namespace},
            "involvedObject": {
                "apiVersion": obj.get("apiVersion"),
                "kind": obj.get("kind"),
                "namespace": md.get("namespace"),
                "name": md["name"],
                "uid": md.get("uid"),
                "resourceVersion": md.get("resourceVersion"),
            },
            "reason": reason,
            "message": message,
            "type": type_,
            "source": {"component": self.component},
            "reportingComponent": self.component,
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
        }
        try:
            self.store.create(events, namespace, body)
        except ApiError as error:  # the namespace is terminating or gone: nobody to tell
            log.debug("event %s not recorded: %s", reason, error.message)


class Reconciler(Controller):
    """A controller that reconciles objects by (namespace, name), one at a time.

    ``on_event`` calls ``enqueue``; a burst of events for one object makes one ``reconcile``
    (synchronous: it reads and writes the store between two awaits, so it sees one state).
    """

    def __init__(self, store: ObjectStore) -> None:
        super().__init__(store)
        self._dirty: set[tuple[str, str]] = set()
        self._wake = asyncio.Event()

    async def start(self) -> None:
        await super().start()
        self._loops.append(asyncio.create_task(self._work()))

    def enqueue(self, namespace: str, name: str) -> None:
        self._dirty.add((namespace, name))
        self._wake.set()

    def reconcile(self, namespace: str, name: str) -> None:
        raise NotImplementedError

    def enqueue_owner(self, obj: dict[str, Any], owner_kind: str) -> None:
        """Enqueue the controller owner of ``obj`` if it is of ``owner_kind``."""
        md = obj["metadata"]
        for ref in md.get("ownerReferences") or []:
            if ref.get("controller") and ref.get("kind") == owner_kind:
                self.enqueue(md.get("namespace", ""), ref["name"])

    def live(self, kind: ResourceKind, namespace: str, name: str) -> dict[str, Any] | None:
        """The object, or None when it is gone or being deleted."""
        try:
            obj = self.store.get(kind, namespace, name)
        except ApiError as error:
            if error.code == 404:
                return None
            raise
        return None if obj["metadata"].get("deletionTimestamp") else obj

    async def _work(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            keys, self._dirty = self._dirty, set()
            for namespace, name in sorted(keys):
                try:
                    self.reconcile(namespace, name)
                except ApiError as error:
                    if error.code not in (404, 409):
                        log.error("%s: %s/%s: %s", self.component, namespace, name, error.message)
                    self._dirty.add((namespace, name))  # retried after the next event
                except Exception:
                    log.exception("%s failed on %s/%s", self.component, namespace, name)
            await asyncio.sleep(0)
