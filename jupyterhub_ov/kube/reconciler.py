"""What every reconciler of cluster resources shares: the watches, restarted when one gives
up; the keys that need a look, reconciled one at a time once the caches are listed; and the
status patches, remembered (our own patch may not be in the cache yet).

A subclass says which resource it is (`kind`, `group`, `version`, `plural`, `rbac`), starts
and stops its reflectors (`start_watches`, `stop_watches`, with `start_reflector`), and
reconciles one key (`reconcile`), writing the resource's status with `write_status`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, TypeVar

import aiohttp
from jupyterhub.utils import exponential_backoff
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException
from traitlets import Float, Int, Unicode
from traitlets.config import LoggingConfigurable

from .client import connect
from .reflectors import CustomObjectReflector
from .retry import with_retries

MERGE_PATCH = "application/merge-patch+json"
R = TypeVar("R", bound=CustomObjectReflector)


class Reconciler(LoggingConfigurable):
    """The base of the platform service's reconcilers of cluster resources: its options are
    those of `NotebookReconciler`, `ModelServerReconciler` and `CustomNBImageReconciler`, set
    for one as `c.NotebookReconciler.<option>` (and so on), or for all as
    `c.Reconciler.<option>`."""

    kubeconfig = Unicode(
        "",
        config=True,
        help="""Kubeconfig file to use. Empty: the OpenShiftBuildBackend's kubeconfig (the
        service passes it on), and if that is empty too: $KUBECONFIG, else ~/.kube/config,
        else the in-cluster configuration.""",
    )
    resync_seconds = Int(
        30,
        config=True,
        help="""Seconds between full relists of the watched resources: a resource whose
        reconcile failed, or that waits for something (a Notebook for an operator
        Deployment), is tried again this often.""",
    )
    api_timeout = Float(
        60,
        config=True,
        help="""Seconds one Kubernetes API call is retried on 429 and 5xx answers before it
        fails (the resource is then tried again at the next resync).""",
    )
    restart_timeout = Float(
        600,
        config=True,
        help="""Seconds of failed attempts to start a watch (backing off up to a minute
        apart) before an error is logged; it keeps trying.""",
    )

    #: the resource reconciled: its kind (in messages), API group, version and plural
    kind: ClassVar[str] = ""
    group: ClassVar[str] = ""
    version: ClassVar[str] = ""
    plural: ClassVar[str] = ""
    #: the file granting the rights the reconciler needs (named when a watch cannot start)
    rbac: ClassVar[str] = ""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: set once the first lists are in the caches
        self.ready = asyncio.Event()
        self._api: client.ApiClient | None = None
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        #: key → (uid, the resourceVersion patched over, status) last written: our own
        #: patch may not be in the cache yet
        self._written: dict[str, tuple[str, str | None, dict[str, Any]]] = {}
        self._tasks: list[asyncio.Task[None]] = []

    # -- what a subclass says ----------------------------------------------------------------

    async def start_watches(self, gave_up: asyncio.Event) -> None:
        """Start the reflectors (`start_reflector`); ``gave_up`` is set when one gives up."""
        raise NotImplementedError

    async def stop_watches(self) -> None:
        raise NotImplementedError

    def begin_batch(self) -> None:
        """Called before each batch of keys is reconciled (for what a batch may share)."""

    async def reconcile(self, key: str) -> None:
        raise NotImplementedError

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect and start watching (in the background: a missing CRD or right is logged
        and retried, it does not stop the service)."""
        self._api, _ = await connect(self.kubeconfig)
        name = self.kind.lower()
        self._tasks = [
            asyncio.create_task(self._watch(), name=f"{name}-watch"),
            asyncio.create_task(self._work(), name=f"{name}-reconcile"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.stop_watches()
        if self._api is not None:
            await self._api.close()

    # -- what needs a look -----------------------------------------------------------------

    def mark(self, key: str) -> None:
        self._dirty.add(key)
        self._wake.set()

    async def _watch(self) -> None:
        """Run the reflectors; start them anew when one gives up (KubeSpawner's reflector
        retries a broken watch itself for about a minute)."""
        while True:
            gave_up = asyncio.Event()
            await self.start_watches(gave_up)
            self.ready.set()
            await gave_up.wait()
            self.log.error("The %s watch gave up; starting it again", self.kind)
            await self.stop_watches()

    async def start_reflector(
        self,
        cls: type[R],
        on_change: Callable[[str], None],
        gave_up: asyncio.Event,
        **settings: Any,
    ) -> R:
        """A started ``cls`` (with ``settings`` set on it), tried with backoff until it
        starts: a missing CRD or right is logged, and tried again."""
        started: list[R] = []

        async def attempt() -> bool:
            reflector = cls(
                parent=self,
                api_client=self._api,
                on_change=on_change,
                on_failure=gave_up.set,
                timeout_seconds=self.resync_seconds,
                restart_seconds=self.resync_seconds,
            )
            for name, value in settings.items():
                setattr(reflector, name, value)
            try:
                await reflector.start()
            except Exception as e:
                self.log.warning(
                    "Cannot watch %s (is the %s CRD installed, and are the rights of %s"
                    " granted?): %s",
                    cls.plural,
                    self.kind,
                    self.rbac,
                    e,
                )
                return False
            started.append(reflector)
            return True

        while True:
            try:
                await exponential_backoff(
                    attempt,
                    f"The {cls.plural} watch could not start",
                    start_wait=1,
                    max_wait=60,
                    timeout=self.restart_timeout,
                )
                return started[0]
            except TimeoutError as e:
                self.log.error("%s for %g s; still trying", e, self.restart_timeout)

    async def _work(self) -> None:
        """Reconcile marked keys one at a time. Nothing before the first lists: a resource
        missing from an empty cache is not gone."""
        await self.ready.wait()
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._dirty = sorted(self._dirty), set()
            self.begin_batch()
            for key in batch:
                try:
                    await self.reconcile(key)
                except (TimeoutError, ApiException, aiohttp.ClientError) as e:
                    self.log.warning(
                        "%s %s: %s; trying again at the next resync", self.kind, key, e
                    )
                except Exception:
                    self.log.exception(
                        "%s %s: reconcile failed; trying again later", self.kind, key
                    )

    # -- status ----------------------------------------------------------------------------

    def current_status(self, key: str, resource: dict[str, Any]) -> dict[str, Any]:
        """The resource's status as the cache has it, or as we last wrote it while the
        cache still holds the version we wrote over (our patch's event not yet in). Not our
        write once the cache moved on: a status someone else wrote after it (a killed
        predecessor's patch landing late, an edit) is then compared, and corrected."""
        meta = resource["metadata"]
        written = self._written.get(key)
        if written is not None and written[:2] == (meta["uid"], meta.get("resourceVersion")):
            return written[2]
        current: dict[str, Any] = resource.get("status") or {}
        return current

    def forget(self, key: str) -> None:
        """The resource is gone: nothing written is remembered for it."""
        self._written.pop(key, None)

    async def write_status(self, key: str, resource: dict[str, Any], patch: dict[str, Any]) -> None:
        """Merge-patch the resource's status subresource and remember what it holds now."""
        meta = resource["metadata"]
        custom = client.CustomObjectsApi(self._api)
        namespace, name = meta["namespace"], meta["name"]
        g, v, p = self.group, self.version, self.plural
        try:
            patched: dict[str, Any] = await self.call(
                # the client picks JSON patch for a dict body unless told; its stubs hide
                # the option
                lambda: custom.patch_namespaced_custom_object_status(  # type: ignore[call-arg]
                    g, v, namespace, p, name, patch, _content_type=MERGE_PATCH
                ),
                f"patch the status of {self.kind} {namespace}/{name}",
            )
        except ApiException as e:
            if e.status == 404:
                return  # gone meanwhile
            raise
        self._written[key] = (meta["uid"], meta.get("resourceVersion"), patched.get("status") or {})

    async def call(self, call: Callable[[], Awaitable[Any]], what: str) -> Any:
        """``call``, retried on 429 and 5xx answers for up to `api_timeout` seconds."""
        return await with_retries(call, what=what, timeout=self.api_timeout, log=self.log)
