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

from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from jupyterhub_ov.builds.manager import utcnow
from jupyterhub_ov.builds.model.spec import InvalidBuildRequest
from jupyterhub_ov.errors import NotFound
from jupyterhub_ov.kube.reconciler import Reconciler
from jupyterhub_ov.kube.reflectors import CustomObjectReflector

from . import model as openvino
from . import status
from .controller import NotebookController
from .record import NotebookRecord

Present = Callable[[], Awaitable[list[tuple[str, str]]]]


class NotebookReflector(CustomObjectReflector):
    """``Notebook`` resources in all namespaces."""

    group, version, plural = openvino.GROUP, openvino.VERSION, openvino.PLURAL
    kind = openvino.PLURAL
    list_method_name = f"list_{openvino.PLURAL}"
    omit_namespace = True


class NotebookReconciler(Reconciler):
    """The build service's watch of the cluster's `Notebook` resources
    (`intel.com/v1alpha1`, all namespaces), on with the openshift backend and
    `OpenVINONotebooks.watch_cluster`: each becomes an OpenVINO notebook image through the
    `NotebookController`, and the outcome is written to its status. What it does and the
    rights it needs:
    [docs/builder.md](builder.md#openvino-notebook-images-from-notebook-resources-openshift).
    """

    kind, group, version, plural = "Notebook", openvino.GROUP, openvino.VERSION, openvino.PLURAL
    rbac = "deploy/builder-notebooks-rbac.yaml"

    def __init__(
        self,
        *,
        controller: NotebookController,
        required_namespace: str,
        all_namespaces: bool = True,
        require_operator: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.controller = controller
        self.required_namespace = required_namespace
        #: False: only ``required_namespace`` is watched (a Role there is enough)
        self.all_namespaces = all_namespaces
        #: False: no operator Deployment is needed (nor read)
        self.require_operator = require_operator
        self.reflector: NotebookReflector | None = None
        #: the operators present, read at most once per batch (`begin_batch`)
        self._present: Present = self._operators

    async def start(self) -> None:
        self.controller.subscribe(self._record_changed)
        await super().start()

    async def start_watches(self, gave_up: asyncio.Event) -> None:
        scope: dict[str, Any] = {}
        if not self.all_namespaces:  # one namespace: the namespaced list and watch
            scope = {"omit_namespace": False, "namespace": self.required_namespace}
        self.reflector = await self.start_reflector(NotebookReflector, self.mark, gave_up, **scope)
        # records whose resource was deleted while nobody watched
        for record in self.controller.list():
            if record.namespace == self.required_namespace:
                self.mark(f"{record.namespace}/{record.name}")

    async def stop_watches(self) -> None:
        if self.reflector is not None:
            await self.reflector.stop()

    def begin_batch(self) -> None:
        """A batch reads the operators at most once."""
        self._present = _once(self._operators)

    async def _record_changed(self, record: NotebookRecord) -> None:
        if record.namespace == self.required_namespace:
            self.mark(f"{record.namespace}/{record.name}")

    # -- one resource ----------------------------------------------------------------------

    async def reconcile(self, key: str) -> None:
        namespace, _, name = key.partition("/")
        resource = self.reflector.resources.get(key) if self.reflector else None
        record = self._record(name)
        ours = record if record is not None and record.namespace == namespace else None
        if resource is None:
            self.forget(key)
            if ours is not None:
                with contextlib.suppress(NotFound):
                    await self.controller.delete(name)
                self.log.info("Notebook %s was deleted: its images stay", key)
            return
        problem, shown = await self._apply(namespace, name, resource, ours, self._present)
        meta = resource["metadata"]
        current = self.current_status(key, resource)
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
        await self.write_status(key, resource, patch)

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
        problem = None
        if self.require_operator:
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

    # -- API calls -------------------------------------------------------------------------

    async def _operators(self) -> list[tuple[str, str]]:
        """The (namespace, name) of the operator Deployments that exist."""
        apps = client.AppsV1Api(self._api)

        async def exists(namespace: str, name: str) -> bool:
            try:
                await self.call(
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


def _once(read: Present) -> Present:
    """``read`` called at most once, on first use (a batch shares one look at the operators)."""
    result: list[list[tuple[str, str]]] = []

    async def cached() -> list[tuple[str, str]]:
        if not result:
            result.append(await read())
        return result[0]

    return cached
