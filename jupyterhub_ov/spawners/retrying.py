"""KubeSpawner whose own API calls survive throttling and server hiccups.

KubeSpawner 7 retries its PVC and pod requests only on client timeouts and 409: one 429 or
5xx from the API server fails the spawn with the raw API error, leaves a pod behind when it
was the stop's delete, or a user's PVC when it was the user deletion's (JupyterHub then
deletes the user regardless). And a failed first list of a shared reflector (pods, events)
stays registered: every later spawn of that hub waits on a reflector that never watches, until
``start_timeout``. Here those calls retry 429 and 5xx (honouring ``Retry-After``) within
``k8s_api_request_retry_timeout``, and a reflector whose start failed or whose watch gave up
is replaced on next use. The faultstorm scenario of the reliability campaign found these.
"""

from __future__ import annotations

from typing import Any

from kubernetes_asyncio.client.exceptions import ApiException
from kubespawner import KubeSpawner

from ..kube.retry import again_later, with_retries


def broken(reflector: Any) -> bool:
    """The reflector's first list failed, or its watch ended for good (gave up)."""
    loaded = reflector.first_load_future
    if not loaded.done():
        return False
    if loaded.cancelled() or loaded.exception() is not None:
        return True
    task = reflector.watch_task
    return task is not None and task.done()


class RetryingKubeSpawner(KubeSpawner):
    """KubeSpawner with its create/delete requests and reflector starts retried."""

    async def _retried(self, call: Any, what: str) -> bool:
        try:
            return bool(await call())
        except ApiException as e:
            return await again_later(e, what=what, log=self.log)

    async def _make_create_pvc_request(self, pvc: Any, request_timeout: float) -> Any:
        parent = super()._make_create_pvc_request
        return await self._retried(
            lambda: parent(pvc, request_timeout), f"create pvc {pvc.metadata.name}"
        )

    async def _make_create_pod_request(self, pod: Any, request_timeout: float) -> Any:
        parent = super()._make_create_pod_request
        return await self._retried(
            lambda: parent(pod, request_timeout), f"create pod {pod.metadata.name}"
        )

    async def _make_delete_pod_request(self, pod_name: str, *args: Any) -> Any:
        parent = super()._make_delete_pod_request
        return await self._retried(lambda: parent(pod_name, *args), f"delete pod {pod_name}")

    async def _make_delete_pvc_request(self, pvc_name: str, request_timeout: float) -> Any:
        parent = super()._make_delete_pvc_request
        return await self._retried(
            lambda: parent(pvc_name, request_timeout), f"delete pvc {pvc_name}"
        )

    async def _start_reflector(
        self, kind: str, reflector_class: Any, replace: bool = False, **kwargs: Any
    ) -> Any:
        parent = super()._start_reflector
        key = self._get_reflector_key(kind)

        async def start() -> Any:
            found = self.__class__.reflectors.get(key)
            if found is not None and broken(found):
                # dropped before any await: the next caller starts one, the others wait on it
                self.log.warning("The %s reflector failed; starting a new one", kind)
                self.__class__.reflectors.pop(key, None)
            return await parent(kind, reflector_class, replace=replace, **kwargs)

        timeout = self.k8s_api_request_retry_timeout
        return await with_retries(
            start, what=f"start the {kind} reflector", timeout=timeout, log=self.log
        )
