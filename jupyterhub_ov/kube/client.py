"""Async Kubernetes I/O for the OpenShift build backend: thin, retried, and waiting by watch.

Every request goes through `kube.retry.with_retries` (429 and 5xx are retried with backoff
and Retry-After); 404 and 409 mean what they mean for each operation (gone; exists or
changed). Waiting on an object is a watch from the resourceVersion last seen, restarted when
the server ends it and re-read when the version expired (410): changes are seen as they
happen, never by polling. Objects are plain dicts in the API's own field names.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from kubernetes_asyncio import client, config, watch
from kubernetes_asyncio.client.exceptions import ApiException

from .retry import retry_after, retryable, with_retries

Log = logging.Logger | logging.LoggerAdapter[Any]
Api = tuple[str, str, str]  # (group, version, plural) of a custom resource
#: seconds the server keeps one watch request open before we start the next
WATCH_SECONDS = 300
#: tries of a read-modify-write that keeps meeting concurrent changes (409 Conflict)
UPDATE_TRIES = 20
BUILD_PATH = "/apis/build.openshift.io/v1/namespaces/{namespace}"


class Gone(Exception):
    """The object waited on was deleted."""


class KubeIO:
    """The API calls of the backend, in one namespace."""

    def __init__(self, api: client.ApiClient, namespace: str, *, timeout: float, log: Log):
        self.api = api
        self.namespace = namespace
        self.timeout = timeout
        self.log = log
        self.custom = client.CustomObjectsApi(api)
        self.core = client.CoreV1Api(api)

    async def call(self, func: Callable[..., Awaitable[Any]], *args: Any, what: str) -> Any:
        return await with_retries(
            lambda: func(*args), what=what, timeout=self.timeout, log=self.log
        )

    # -- custom objects --------------------------------------------------------------------

    async def get(self, api: Api, name: str) -> dict[str, Any] | None:
        """The object, or None if there is none."""
        read = self.custom.get_namespaced_custom_object
        try:
            found: dict[str, Any] = await self.call(
                read, *api[:2], self.namespace, api[2], name, what=f"read {api[2]}/{name}"
            )
        except ApiException as e:
            if e.status == 404:
                return None
            raise
        return found

    async def list(self, api: Api, label_selector: str) -> list[dict[str, Any]]:
        listing = functools.partial(
            self.custom.list_namespaced_custom_object, label_selector=label_selector
        )
        found = await self.call(
            listing, *api[:2], self.namespace, api[2], what=f"list {api[2]} ({label_selector})"
        )
        items: list[dict[str, Any]] = found.get("items") or []
        return items

    async def ensure(self, api: Api, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The object named in ``body``: created (True), or the existing one (False)."""
        name = body["metadata"]["name"]
        create = self.custom.create_namespaced_custom_object
        try:
            created = await self.call(
                create, *api[:2], self.namespace, api[2], body, what=f"create {api[2]}/{name}"
            )
            return created, True
        except ApiException as e:
            if e.status != 409:
                raise
        existing = await self.get(api, name)
        if existing is None:  # deleted between our create and read: try once more
            return await self.ensure(api, body)
        return existing, False

    async def update(
        self, api: Api, name: str, change: Callable[[dict[str, Any]], bool]
    ) -> dict[str, Any] | None:
        """Read, ``change`` in place (False: nothing to do), replace; again on 409 Conflict.

        Optimistic concurrency (the read's resourceVersion) keeps concurrent writers of the
        same stream — other builds, the import controller — from losing each other's changes.
        None if the object does not exist.
        """
        replace = self.custom.replace_namespaced_custom_object
        for _ in range(UPDATE_TRIES):
            current = await self.get(api, name)
            if current is None or not change(current):
                return current
            try:
                replaced: dict[str, Any] = await self.call(
                    replace, *api[:2], self.namespace, api[2], name, current, what=f"update {name}"
                )
                return replaced
            except ApiException as e:
                if e.status == 404:
                    return None
                if e.status != 409:
                    raise
                self.log.debug("%s/%s changed meanwhile; updating again", api[2], name)
        raise RuntimeError(f"{api[2]}/{name} kept changing; gave up after {UPDATE_TRIES} tries")

    async def delete(self, api: Api, name: str) -> None:
        remove = self.custom.delete_namespaced_custom_object
        try:
            await self.call(
                remove, *api[:2], self.namespace, api[2], name, what=f"delete {api[2]}/{name}"
            )
        except ApiException as e:
            if e.status != 404:
                raise

    async def wait_for(
        self, api: Api, name: str, done: Callable[[dict[str, Any]], bool]
    ) -> dict[str, Any]:
        """The object once ``done(object)``; Gone if it is (or gets) deleted."""

        async def read() -> dict[str, Any]:
            found = await self.get(api, name)
            if found is None:
                raise Gone(f"{api[2]}/{name} does not exist")
            return found

        listing = self.custom.list_namespaced_custom_object
        return await self._watch(read, listing, (*api[:2], self.namespace, api[2]), name, done)

    async def _watch(
        self,
        read: Callable[[], Awaitable[dict[str, Any]]],
        listing: Callable[..., Awaitable[Any]],
        args: tuple[Any, ...],
        name: str,
        done: Callable[[dict[str, Any]], bool],
    ) -> dict[str, Any]:
        current = await read()
        while not done(current):
            version = current["metadata"].get("resourceVersion")
            try:
                async with watch.Watch() as stream:
                    async for event in stream.stream(
                        listing,
                        *args,
                        field_selector=f"metadata.name={name}",
                        resource_version=version,
                        timeout_seconds=WATCH_SECONDS,
                    ):
                        if event["type"] == "DELETED":
                            raise Gone(f"{name} was deleted")
                        if event["type"] in ("ADDED", "MODIFIED"):
                            current = event["raw_object"]
                            if done(current):
                                return current
            except ApiException as e:
                if e.status != 410 and not retryable(e):
                    raise
                # our version is too old (410) or the server hiccuped: read afresh
                await asyncio.sleep(retry_after(e) or (0 if e.status == 410 else 1))
                current = await read()
            except (TimeoutError, aiohttp.ClientError) as e:
                self.log.warning("Watch of %s broke (%s); watching again", name, e)
                await asyncio.sleep(1)  # a broken connection: do not spin
                current = await read()
        return current

    # -- builds ----------------------------------------------------------------------------

    async def instantiate(self, config: str, body: dict[str, Any]) -> dict[str, Any]:
        """``POST buildconfigs/<config>/instantiate``: the Build it started."""

        async def post() -> Any:
            return await self.api.call_api(
                f"{BUILD_PATH}/buildconfigs/{{name}}/instantiate",
                "POST",
                path_params={"namespace": self.namespace, "name": config},
                header_params={"Accept": "application/json", "Content-Type": "application/json"},
                body=body,
                response_types_map={200: "object", 201: "object"},
                auth_settings=["BearerToken"],
                _return_http_data_only=True,
            )

        build: dict[str, Any] = await self.call(post, what=f"instantiate {config}")
        return build

    async def follow_build_log(self, name: str, line: Callable[[str], Awaitable[None]]) -> int:
        """Stream ``builds/<name>/log?follow=true`` line by line; the number of lines."""
        response = await self.call(self._open_log, name, what=f"read the log of {name}")
        count = 0
        try:
            if response.status != 200:
                self.log.info("No log for build %s (%s)", name, response.status)
                return 0
            async for raw in response.content:
                await line(raw.decode(errors="replace").rstrip("\r\n"))
                count += 1
        finally:
            response.release()
        return count

    async def _open_log(self, name: str) -> Any:
        return await self.api.call_api(
            f"{BUILD_PATH}/builds/{{name}}/log",
            "GET",
            path_params={"namespace": self.namespace, "name": name},
            query_params=[("follow", "true")],
            header_params={"Accept": "text/plain"},
            auth_settings=["BearerToken"],
            _preload_content=False,
        )

    # -- pods ------------------------------------------------------------------------------

    async def recreate_pod(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create the pod; one left by an earlier attempt is deleted first."""
        name = body["metadata"]["name"]
        for _ in range(UPDATE_TRIES):
            try:
                created = await self.call(
                    self.core.create_namespaced_pod, self.namespace, body, what=f"create pod {name}"
                )
                result: dict[str, Any] = self.api.sanitize_for_serialization(created)
                return result
            except ApiException as e:
                if e.status != 409:
                    raise
            self.log.info("Replacing pod %s left by an earlier attempt", name)
            await self.delete_pod(name)
            await self._pod_gone(name)
        raise RuntimeError(f"pod {name} could not be created: one of that name keeps existing")

    async def _pod_gone(self, name: str) -> None:
        """Return once the pod is deleted (a terminating pod still holds its name)."""
        try:
            await self.wait_pod(name, lambda pod: False)
        except Gone:
            return

    async def delete_pod(self, name: str) -> None:
        try:
            await self.call(
                self.core.delete_namespaced_pod,
                name,
                self.namespace,
                what=f"delete pod {name}",
            )
        except ApiException as e:
            if e.status != 404:
                raise

    async def wait_pod(self, name: str, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        async def read() -> dict[str, Any]:
            try:
                pod = await self.call(
                    self.core.read_namespaced_pod, name, self.namespace, what=f"read pod {name}"
                )
            except ApiException as e:
                if e.status == 404:
                    raise Gone(f"pod {name} does not exist") from None
                raise
            found: dict[str, Any] = self.api.sanitize_for_serialization(pod)
            return found

        listing = self.core.list_namespaced_pod
        return await self._watch(read, listing, (self.namespace,), name, done)

    async def pod_log(self, name: str) -> str:
        log: str = await self.call(
            self.core.read_namespaced_pod_log, name, self.namespace, what=f"read log of {name}"
        )
        return log


# -- connecting ---------------------------------------------------------------------------------

SERVICE_ACCOUNT_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"


def _read(path: str) -> str:
    with open(path) as f:
        return f.read().strip()


def _find_kubeconfig(kubeconfig: str) -> str:
    """The kubeconfig to use: the given one, $KUBECONFIG, ~/.kube/config; "" for in-cluster."""
    if kubeconfig or os.environ.get("KUBECONFIG"):
        return kubeconfig or os.environ["KUBECONFIG"]
    default = os.path.expanduser("~/.kube/config")
    return default if os.path.exists(default) else ""


async def connect(kubeconfig: str = "", namespace: str = "") -> tuple[client.ApiClient, str]:
    """A client from a kubeconfig (see `_find_kubeconfig`), else from in-cluster config.

    The namespace is ``namespace``, else the kubeconfig context's, else the service
    account's, else ``default``.
    """
    configuration = client.Configuration()
    path = await asyncio.to_thread(_find_kubeconfig, kubeconfig)
    if path:
        await config.load_kube_config(config_file=path, client_configuration=configuration)
        if not namespace:
            _, active = await asyncio.to_thread(config.list_kube_config_contexts, path)
            namespace = ((active or {}).get("context") or {}).get("namespace") or ""
    else:
        await asyncio.to_thread(config.load_incluster_config, client_configuration=configuration)
        if not namespace and await asyncio.to_thread(os.path.exists, SERVICE_ACCOUNT_NAMESPACE):
            namespace = await asyncio.to_thread(_read, SERVICE_ACCOUNT_NAMESPACE)
    return client.ApiClient(configuration), namespace or "default"
