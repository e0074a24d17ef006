"""Cluster ``Notebook`` resources (``intel.com/v1alpha1``) reconciled into the build service.

What the OpenVINO Toolkit Operator's notebook controller does, on the `NotebookController`:
an admin ``oc apply``\\ s a ``Notebook`` and the ``openvino-notebook`` image is built and
offered; how it went is written back to the resource's status subresource
(`status.status_for`: commit, dates, image, tags, ``Ready``/``Building``/``Degraded``
conditions, ``observedGeneration``).

One list + watch over all namespaces (KubeSpawner's reflector machinery, so that a resource in
the wrong namespace is answered too) marks changed resources; a single worker reconciles them
one at a time, level-triggered — from the cached resource and the controller's record, never
from the event:

- outside ``required_namespace``, or with neither operator Deployment present: the operator's
  exact message in the status (and the log), and nothing is built — the controller is not
  called. The Deployments are read only when a resource would be applied;
- otherwise `NotebookController.apply` (a no-op for parameters already applied); invalid
  parameters put the problems in the status, nothing is built;
- a resource that is gone: `NotebookController.delete` for the record it made (images and
  builds stay). Records of resources deleted while the service was down go at start.

The controller's record changes (`NotebookController.subscribe`) mark the resource again. A
status is patched only when it differs from the one last written or seen, so neither the
watch events of our own patches nor resyncs write anything. Every call is retried on 429/5xx
(`with_retries`, jupyterhub's exponential backoff); a resource whose reconcile still failed
is tried again at the next resync (a relist, every ``resync_seconds``), which also rechecks
resources waiting for an operator. A watch that gives up is started anew with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from jupyterhub.utils import exponential_backoff
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException
from traitlets import Float, Int, Unicode
from traitlets.config import LoggingConfigurable

from jupyterhub_ov.builds.manager import utcnow
from jupyterhub_ov.builds.model.spec import InvalidBuildRequest
from jupyterhub_ov.errors import NotFound
from jupyterhub_ov.kube.client import connect
from jupyterhub_ov.kube.reflectors import CustomObjectReflector
from jupyterhub_ov.kube.retry import with_retries

from . import model as openvino
from . import status
from .controller import NotebookController
from .record import NotebookRecord

MERGE_PATCH = "application/merge-patch+json"
Present = Callable[[], Awaitable[list[tuple[str, str]]]]


class NotebookReflector(CustomObjectReflector):
    """``Notebook`` resources in all namespaces."""

    group, version, plural = openvino.GROUP, openvino.VERSION, openvino.PLURAL
    kind = openvino.PLURAL
    list_method_name = f"list_{openvino.PLURAL}"
    omit_namespace = True


class NotebookReconciler(LoggingConfigurable):
    """The build service's watch of the cluster's `Notebook` resources
    (`intel.com/v1alpha1`, all namespaces), on with the openshift backend and
    `OpenVINONotebooks.watch_cluster`: each becomes an OpenVINO notebook image through the
    `NotebookController`, and the outcome is written to its status. What it does and the
    rights it needs:
    [docs/builder.md](builder.md#openvino-notebook-images-from-notebook-resources-openshift).
    """

    kubeconfig = Unicode(
        "",
        config=True,
        help="""Kubeconfig file to use. Empty: the OpenShiftBuildBackend's kubeconfig (the
        build service passes it on), and if that is empty too: $KUBECONFIG, else
        ~/.kube/config, else the in-cluster configuration.""",
    )
    resync_seconds = Int(
        30,
        config=True,
        help="""Seconds between full relists of the Notebook resources: a Notebook waiting for
        an operator Deployment, or whose reconcile failed, is tried again this often.""",
    )
    api_timeout = Float(
        60,
        config=True,
        help="""Seconds one Kubernetes API call is retried on 429 and 5xx answers before it
        fails (the Notebook is then tried again at the next resync).""",
    )
    restart_timeout = Float(
        600,
        config=True,
        help="""Seconds of failed attempts to start the watch (backing off up to a minute
        apart) before an error is logged; it keeps trying.""",
    )

    def __init__(
        self, *, controller: NotebookController, required_namespace: str, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.controller = controller
        self.required_namespace = required_namespace
        self.reflector: NotebookReflector | None = None
        #: set once the first list is in the cache
        self.ready = asyncio.Event()
        self._api: client.ApiClient | None = None
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        #: key → (uid, status) last written: our own patch may not be in the cache yet
        self._written: dict[str, tuple[str, dict[str, Any]]] = {}
        self._tasks: list[asyncio.Task[None]] = []

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect and start watching (in the background: a missing CRD or right is logged
        and retried, it does not stop the service)."""
        self._api, _ = await connect(self.kubeconfig)
        self.controller.subscribe(self._record_changed)
        self._tasks = [
            asyncio.create_task(self._watch(), name="notebook-watch"),
            asyncio.create_task(self._work(), name="notebook-reconcile"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.reflector is not None:
            await self.reflector.stop()
        if self._api is not None:
            await self._api.close()

    # -- what needs a look -----------------------------------------------------------------

    def mark(self, key: str) -> None:
        self._dirty.add(key)
        self._wake.set()

    async def _record_changed(self, record: NotebookRecord) -> None:
        if record.namespace == self.required_namespace:
            self.mark(f"{record.namespace}/{record.name}")

    async def _watch(self) -> None:
        """Run the reflector; start a new one when it gives up (KubeSpawner's reflector
        retries a broken watch itself for about a minute)."""
        while True:
            gave_up = asyncio.Event()
            reflector = await self._start_reflector(gave_up)
            self.reflector = reflector
            # records whose resource was deleted while nobody watched
            for record in self.controller.list():
                if record.namespace == self.required_namespace:
                    self.mark(f"{record.namespace}/{record.name}")
            self.ready.set()
            await gave_up.wait()
            self.log.error("The Notebook watch gave up; starting it again")
            await reflector.stop()

    async def _start_reflector(self, gave_up: asyncio.Event) -> NotebookReflector:
        started: list[NotebookReflector] = []

        async def attempt() -> bool:
            reflector = NotebookReflector(
                parent=self,
                api_client=self._api,
                on_change=self.mark,
                on_failure=gave_up.set,
                timeout_seconds=self.resync_seconds,
                restart_seconds=self.resync_seconds,
            )
            try:
                await reflector.start()
            except Exception as e:
                self.log.warning(
                    "Cannot watch %s.%s resources (is the CRD installed, and are the rights of"
                    " deploy/builder-notebooks-rbac.yaml granted?): %s",
                    openvino.PLURAL,
                    openvino.GROUP,
                    e,
                )
                return False
            started.append(reflector)
            return True

        while True:
            try:
                await exponential_backoff(
                    attempt,
                    "The Notebook watch could not start",
                    start_wait=1,
                    max_wait=60,
                    timeout=self.restart_timeout,
                )
                return started[0]
            except TimeoutError as e:  # not the builtin one before Python 3.11
                self.log.error("%s for %g s; still trying", e, self.restart_timeout)

    async def _work(self) -> None:
        """Reconcile marked resources one at a time; a batch reads the operators at most once.
        Nothing before the first list: a resource missing from an empty cache is not gone."""
        await self.ready.wait()
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._dirty = sorted(self._dirty), set()
            present = _once(self._operators)
            for key in batch:
                try:
                    await self.reconcile(key, present)
                except (TimeoutError, ApiException, aiohttp.ClientError) as e:
                    self.log.warning("Notebook %s: %s; trying again at the next resync", key, e)
                except Exception:
                    self.log.exception("Notebook %s: reconcile failed; trying again later", key)

    # -- one resource ----------------------------------------------------------------------

    async def reconcile(self, key: str, present: Present) -> None:
        namespace, _, name = key.partition("/")
        resource = self.reflector.resources.get(key) if self.reflector else None
        record = self._record(name)
        ours = record if record is not None and record.namespace == namespace else None
        if resource is None:
            self._written.pop(key, None)
            if ours is not None:
                with contextlib.suppress(NotFound):
                    await self.controller.delete(name)
                self.log.info("Notebook %s was deleted: its images stay", key)
            return
        problem, shown = await self._apply(namespace, name, resource, ours, present)
        meta = resource["metadata"]
        current = self._current_status(key, resource)
        desired = status.status_for(
            shown, problem=problem, generation=meta.get("generation"), previous=current, at=utcnow()
        )
        patch = status.status_patch(current, desired)
        if patch is None:
            return
        if problem is not None and problem.reason == status.PRECONDITION_FAILED:
            self.log.warning("Notebook %s: %s", key, problem.message)
        elif problem is not None:  # the problems quote the spec: they stay in the status
            self.log.warning("Notebook %s: invalid parameters, nothing is built", key)
        written = await self._patch_status(namespace, name, patch)
        if written is not None:
            self._written[key] = (meta["uid"], written.get("status") or {})

    async def _apply(
        self,
        namespace: str,
        name: str,
        resource: dict[str, Any],
        ours: NotebookRecord | None,
        present: Present,
    ) -> tuple[status.Problem | None, NotebookRecord | None]:
        """Apply the resource if it may be; the problem if not, and the record to show."""
        if namespace != self.required_namespace:  # a same-named record here is another's
            message = openvino.wrong_namespace(self.required_namespace)
            return status.Problem(status.PRECONDITION_FAILED, message), None
        spec = resource.get("spec")
        try:
            params = openvino.parse_params(name, spec, policy=self.controller.policy)
        except InvalidBuildRequest as e:
            return status.Problem(status.INVALID_PARAMETERS, "; ".join(e.problems)), ours
        if ours is not None and ours.params == params:
            return None, ours  # applied already: nothing to check, nothing to build
        problem = openvino.precondition_problem(
            namespace, await present(), required_namespace=self.required_namespace
        )
        if problem is not None:
            return status.Problem(status.PRECONDITION_FAILED, problem), ours
        creator = status.resource_creator(namespace, name)
        record = await self.controller.apply(name, spec, creator=creator, namespace=namespace)
        self.log.info("Notebook %s/%s applied: %s", namespace, name, params.to_json())
        return None, record

    def _record(self, name: str) -> NotebookRecord | None:
        try:
            return self.controller.get(name)
        except NotFound:
            return None

    def _current_status(self, key: str, resource: dict[str, Any]) -> dict[str, Any]:
        written = self._written.get(key)
        if written is not None and written[0] == resource["metadata"]["uid"]:
            return written[1]
        current: dict[str, Any] = resource.get("status") or {}
        return current

    # -- API calls -------------------------------------------------------------------------

    async def _call(self, call: Callable[[], Awaitable[Any]], what: str) -> Any:
        return await with_retries(call, what=what, timeout=self.api_timeout, log=self.log)

    async def _operators(self) -> list[tuple[str, str]]:
        """The (namespace, name) of the operator Deployments that exist."""
        apps = client.AppsV1Api(self._api)

        async def exists(namespace: str, name: str) -> bool:
            try:
                await self._call(
                    lambda: apps.read_namespaced_deployment(name, namespace),
                    f"read deployment {namespace}/{name}",
                )
            except ApiException as e:
                if e.status == 404:
                    return False
                raise
            return True

        wanted = openvino.OPERATOR_DEPLOYMENTS
        found = await asyncio.gather(*(exists(*where) for where in wanted))
        return [where for where, there in zip(wanted, found, strict=True) if there]

    async def _patch_status(
        self, namespace: str, name: str, patch: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The resource after the patch; None if it is gone."""
        custom = client.CustomObjectsApi(self._api)
        g, v, p = openvino.GROUP, openvino.VERSION, openvino.PLURAL
        try:
            patched: dict[str, Any] = await self._call(
                # the client picks JSON patch for a dict body unless told; its stubs hide
                # the option
                lambda: custom.patch_namespaced_custom_object_status(  # type: ignore[call-arg]
                    g, v, namespace, p, name, patch, _content_type=MERGE_PATCH
                ),
                f"patch the status of notebook {namespace}/{name}",
            )
        except ApiException as e:
            if e.status == 404:
                return None
            raise
        return patched


def _once(read: Present) -> Present:
    """``read`` called at most once, on first use (a batch shares one look at the operators)."""
    result: list[list[tuple[str, str]]] = []

    async def cached() -> list[tuple[str, str]]:
        if not result:
            result.append(await read())
        return result[0]

    return cached
