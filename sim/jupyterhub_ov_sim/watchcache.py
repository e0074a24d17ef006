"""Per-kind bounded event history and live watch subscriptions.

A watch from resourceVersion N replays the retained events newer than N and then streams live
ones; when events newer than N have already been dropped from the bounded history the watch
fails with ``410 Expired``, like the real server's watch cache.
Part of the cluster simulator, a test double of Kubernetes (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from typing import Any

from . import errors
from .selectors import Matcher


@dataclass(frozen=True)
class WatchEvent:
    """A stored change. ``obj`` is a snapshot shared by all readers: never mutate it."""

    resource_version: int
    type: str  # ADDED, MODIFIED or DELETED
    obj: dict[str, Any]
    old: dict[str, Any] | None = None

    @property
    def namespace(self) -> str:
        return str(self.obj.get("metadata", {}).get("namespace", ""))


def filter_event(event: WatchEvent, namespace: str | None, matches: Matcher) -> WatchEvent | None:
    """The event as a filtered watcher sees it; ``None`` if invisible.

    An object that starts or stops matching the selector is reported as ADDED or DELETED.
    """
    if namespace and event.namespace != namespace:
        return None
    now_matches = matches(event.obj)
    if event.type != "MODIFIED" or event.old is None:
        return event if now_matches else None
    was_matching = matches(event.old)
    if now_matches and was_matching:
        return event
    if now_matches:
        return WatchEvent(event.resource_version, "ADDED", event.obj)
    if was_matching:
        return WatchEvent(event.resource_version, "DELETED", event.obj)
    return None


class Subscription:
    """One live watcher: receives events through a queue; ``None`` means the stream ended."""

    def __init__(self, log: EventLog, namespace: str | None, matches: Matcher) -> None:
        self.queue: asyncio.Queue[WatchEvent | None] = asyncio.Queue()
        self._log = log
        self.namespace = namespace
        self.matches = matches

    def offer(self, event: WatchEvent) -> None:
        visible = filter_event(event, self.namespace, self.matches)
        if visible is not None:
            self.queue.put_nowait(visible)

    def close(self) -> None:
        """End the stream (the reader gets ``None``) and stop receiving events."""
        self._log.unsubscribe(self)
        self.queue.put_nowait(None)


class EventLog:
    """The retained events of one kind plus its live subscribers."""

    def __init__(self, capacity: int) -> None:
        self.events: deque[WatchEvent] = deque(maxlen=capacity)
        self.compacted = 0  # newest resourceVersion dropped from the history
        self.subscribers: set[Subscription] = set()

    def append(self, event: WatchEvent) -> None:
        if self.events.maxlen is not None and len(self.events) == self.events.maxlen:
            self.compacted = self.events[0].resource_version
        self.events.append(event)
        for subscriber in list(self.subscribers):
            subscriber.offer(event)

    def since(self, resource_version: int) -> list[WatchEvent]:
        """Retained events newer than ``resource_version``; 410 if some were dropped."""
        if resource_version < self.compacted:
            oldest = self.events[0].resource_version if self.events else self.compacted + 1
            raise errors.expired(resource_version, oldest)
        return [e for e in self.events if e.resource_version > resource_version]

    def subscribe(self, namespace: str | None, matches: Matcher) -> Subscription:
        subscription = Subscription(self, namespace, matches)
        self.subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self.subscribers.discard(subscription)

    def close_all(self) -> None:
        for subscriber in list(self.subscribers):
            subscriber.close()
