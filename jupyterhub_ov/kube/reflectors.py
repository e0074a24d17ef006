"""Shared watches on custom resources, built on KubeSpawner's reflector machinery.

`shared_reflector` starts a reflector once per (kind, namespace) in ``KubeSpawner.reflectors``
beside KubeSpawner's own pod and event reflectors, so every spawner shares one list + watch
and `KubeSpawner._stop_all_reflectors` stops it; a reflector that gave up is forgotten and
restarted on next use. `CustomObjectReflector` adapts a custom resource (ImageStreams,
ObjectBucketClaims) to the reflector's ``list_<kind>`` convention and lets callers wait for a
cached object to reach a state: woken by the watch event itself, no polling, no API request.
A controller that is no spawner (the build service's Notebook reconciler) can give it its own
``api_client``, watch all namespaces (``omit_namespace``) and hear of every key the watch or
a relist may have changed (``on_change``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from kubernetes_asyncio import client
from kubespawner.reflector import NamespacedResourceReflector
from traitlets import Any as AnyTrait
from traitlets import validate

from .. import metrics
from .retry import with_retries

#: a predicate on a cached object (None: the object is not in the cache)
Condition = Callable[[dict[str, Any] | None], bool]
#: a reflector class started by shared_reflector
R = TypeVar("R", bound=NamespacedResourceReflector)


class _CustomObjectsLister:
    """Gives the reflector the ``list_<kind>(namespace=...)`` method it expects (all
    namespaces when it passes none)."""

    def __init__(self, custom_objects: Any, group: str, version: str, plural: str) -> None:
        self._custom = custom_objects
        self._where = (group, version, plural)
        setattr(self, f"list_{plural}", self._list)

    async def _list(self, namespace: str | None = None, **kwargs: Any) -> Any:
        group, version, plural = self._where
        if namespace is None:
            return await self._custom.list_cluster_custom_object(group, version, plural, **kwargs)
        return await self._custom.list_namespaced_custom_object(
            group, version, namespace, plural, **kwargs
        )


class _Notifying(dict):
    """The reflector's cache: tells its reflector about every key the watch sets or drops."""

    def __init__(self, items: dict[str, Any], changed: Callable[[str], None]) -> None:
        super().__init__(items)
        self._changed = changed

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self._changed(key)

    def pop(self, key: str, *default: Any) -> Any:
        value = super().pop(key, *default)
        self._changed(key)
        return value


class OwnClientReflector(NamespacedResourceReflector):
    """A KubeSpawner reflector that can list and watch with an ApiClient of its own."""

    api_client = AnyTrait(
        None,
        allow_none=True,
        help="""A kubernetes_asyncio ApiClient to list and watch with, instead of
        KubeSpawner's shared client on the default configuration.""",
    )


class CustomObjectReflector(OwnClientReflector):
    """A namespaced custom resource on a shared list + watch.

    Subclasses set ``group``, ``version``, ``plural`` and, as KubeSpawner's reflectors want
    them, ``kind = plural`` and ``list_method_name = "list_" + plural``; a subclass with
    ``omit_namespace = True`` watches all namespaces.
    """

    group: ClassVar[str]
    version: ClassVar[str]
    plural: ClassVar[str]
    api_group_name = "CustomObjectsApi"

    on_change = AnyTrait(
        None,
        allow_none=True,
        help="""Called with the key ("<namespace>/<name>") of every object the watch sets or
        drops, and of every object a relist may have added, changed or dropped (a resync).
        Called synchronously while the cache changes: note the key, read the cache later.""",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._waiters: dict[str, set[asyncio.Event]] = {}
        super().__init__(*args, **kwargs)
        custom = self.api if self.api_client is None else client.CustomObjectsApi(self.api_client)  # type: ignore[has-type]
        self.api = _CustomObjectsLister(custom, self.group, self.version, self.plural)

    @validate("resources")
    def _wrap_cache(self, proposal: Any) -> dict[str, Any]:
        """A relist replaces the whole cache: wake every waiter and tell ``on_change`` of
        every key before or after; keep notifying after."""
        keys = set(getattr(self, "_waiters", {}))
        if self.on_change is not None:
            keys |= set(self._trait_values.get("resources") or ()) | set(proposal.value)
        for key in keys:
            self._changed(key)
        return _Notifying(proposal.value, self._changed)

    def _changed(self, key: str) -> None:
        for event in self._waiters.get(key, ()):
            event.set()
        if self.on_change is not None:
            self.on_change(key)

    async def wait_for(self, namespace: str, name: str, condition: Condition) -> dict[str, Any]:
        """The cached object once ``condition(object)`` holds (callers bound it with a
        timeout). Woken by each watch event on that object, never by a timer."""
        key = f"{namespace}/{name}"
        event = asyncio.Event()
        self._waiters.setdefault(key, set()).add(event)
        try:
            while True:
                event.clear()
                found = self.resources.get(key)
                if condition(found):
                    return found  # type: ignore[return-value]
                await event.wait()
        finally:
            waiting = self._waiters.get(key)
            if waiting is not None:
                waiting.discard(event)
                if not waiting:
                    del self._waiters[key]


async def shared_reflector(
    spawner_class: Any,
    reflector_class: type[R],
    namespace: str,
    *,
    parent: Any,
) -> R:
    """The running reflector of ``reflector_class`` (a reflector with a ``plural`` naming
    what it watches) in ``namespace``, started on first use and shared by every spawner;
    waits for its first list. A first list answered 429 or 5xx is tried again (a new
    reflector) within the parent's ``k8s_api_request_retry_timeout``, rather than failing
    every spawn waiting on it."""
    timeout = float(getattr(parent, "k8s_api_request_retry_timeout", 30))
    return await with_retries(
        lambda: _start_shared(spawner_class, reflector_class, namespace, parent),
        what=f"list {reflector_class.plural}",
        timeout=timeout,
        log=parent.log,
    )


async def _start_shared(
    spawner_class: Any, reflector_class: type[R], namespace: str, parent: Any
) -> R:
    key = (reflector_class.plural, namespace)  # type: ignore[attr-defined]
    reflector = spawner_class.reflectors.get(key)
    if reflector is None:
        # registered before the first await: a concurrent caller finds it and waits on its
        # first list instead of starting a second watch
        reflector = reflector_class(
            parent=parent,
            namespace=namespace,
            on_failure=_forget(spawner_class, key, parent.log),
        )
        spawner_class.reflectors[key] = reflector
        try:
            await reflector.start()
        except Exception:
            if spawner_class.reflectors.get(key) is reflector:
                spawner_class.reflectors.pop(key, None)  # the next caller tries again
            raise
    await reflector.first_load_future
    return reflector


def _forget(spawner_class: Any, key: tuple[str, str], log: Any) -> Callable[[], None]:
    """When KubeSpawner's reflector gives up (about a minute of failed retries), drop it so
    the next use starts a fresh watch instead of serving a stale cache."""

    def on_failure() -> None:
        log.error("The %s watch in %s gave up; restarting it on next use", *key)
        metrics.WATCH_RESTARTS.labels(key[0]).inc()
        spawner_class.reflectors.pop(key, None)

    return on_failure
