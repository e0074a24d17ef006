"""A Kubernetes API server on loopback, for tests and dry runs: a test double, never production.

It speaks the Kubernetes REST protocol closely enough for ``kubernetes_asyncio`` and
KubeSpawner (discovery, CRUD, list/watch with selectors and resourceVersion resume, patches,
status subresource, finalizers, cascading deletion) from an in-memory store. There is no
authentication (any token is accepted), no persistence, no admission and no OpenAPI.

    server = ApiServer()
    await server.start()          # binds 127.0.0.1 on a free port
    ...  server.url, server.store, server.faults, server.counters
    await server.stop()
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application, RequestHandler

from . import builds, discovery, openapi
from .errors import ApiError
from .faults import FaultInjector, RequestCounters
from .handlers import JSONHandler, ResourceHandler
from .kinds import KindRegistry
from .store import ObjectStore

log = logging.getLogger(__name__)
#: answers a POST to a subresource: (namespace, name, body) -> the created object
Action = Callable[[str, str, Any], dict[str, Any]]


class _JSONHandler(JSONHandler):
    def initialize(self, server: ApiServer) -> None:
        self.server = server

    def count(self) -> None:
        self.server.counters.record("get", self.request.path)


class VersionHandler(_JSONHandler):
    def get(self) -> None:
        self.count()
        self.send_json(discovery.version_info())


class HealthHandler(_JSONHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "text/plain")
        self.finish("ok")


class CoreDiscoveryHandler(_JSONHandler):
    def get(self) -> None:
        self.count()
        self.send_json(discovery.api_versions(f"127.0.0.1:{self.server.port}"))


class CoreResourcesHandler(_JSONHandler):
    def get(self) -> None:
        self.count()
        self.send_json(discovery.resource_list(self.server.registry, "v1"))


class GroupsHandler(_JSONHandler):
    def get(self) -> None:
        self.count()
        self.send_json(discovery.api_groups(self.server.registry))


class GroupHandler(_JSONHandler):
    def get(self, group: str, version: str | None = None) -> None:
        self.count()
        if version is None:
            doc = discovery.api_group(self.server.registry, group)
        else:
            doc = discovery.resource_list(self.server.registry, f"{group}/{version}")
        if doc is None:
            self.send_error_status(
                ApiError(404, "NotFound", "the server could not find the requested resource", {})
            )
        else:
            self.send_json(doc)


class OpenAPIHandler(_JSONHandler):
    def get(self, path: str | None = None) -> None:
        self.count()
        registry = self.server.registry
        doc = openapi.index(registry) if not path else openapi.document_for_path(registry, path)
        if doc is None:
            self.send_error_status(
                ApiError(404, "NotFound", "the server could not find the requested resource", {})
            )
        else:
            self.send_json(doc)


class ApiServer:
    """The simulated API server: an HTTP listener over an ``ObjectStore``.

    ``faults`` and ``counters`` are for tests and benchmarks; ``store`` is how in-process
    controllers (kubelet, volume binder, ...) read and write objects.
    """

    def __init__(
        self,
        *,
        registry: KindRegistry | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        history: int = 1000,
        seed: int | None = None,
    ) -> None:
        self.registry = registry or KindRegistry()
        self.store = ObjectStore(self.registry, history=history, seed=seed)
        self.faults = FaultInjector(seed)
        self.counters = RequestCounters()
        self.host = host
        self.port = port
        self._http: HTTPServer | None = None
        # Where ``pods/<name>/log`` and ``builds/<name>/log`` come from (controllers register),
        # and who streams them for ``?follow=true``.
        self.log_readers: list[Callable[[dict[str, Any]], Awaitable[str | None]]] = []
        self.log_followers: list[Callable[[dict[str, Any]], AsyncGenerator[str, None] | None]] = []
        # POST subresources the server itself answers: (group, plural, subresource) -> action
        self.actions: dict[tuple[str, str, str], Action] = {
            ("build.openshift.io", "buildconfigs", "instantiate"): self._instantiate,
        }

    def _instantiate(self, namespace: str, name: str, body: Any) -> dict[str, Any]:
        return builds.instantiate(self.store, namespace, name, body)

    def follow_log(self, obj: dict[str, Any]) -> AsyncGenerator[str, None] | None:
        """A live log stream of a pod or build, if a controller offers one."""
        for follower in self.log_followers:
            stream = follower(obj)
            if stream is not None:
                return stream
        return None

    async def read_log(self, obj: dict[str, Any]) -> str | None:
        """The log of a pod or build, from the first reader that has one."""
        for reader in self.log_readers:
            text = await reader(obj)
            if text is not None:
                return text
        return None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def application(self) -> Application:
        args = {"server": self}
        return Application(
            [
                (r"/version/?", VersionHandler, args),
                (r"/(?:healthz|readyz|livez)/?", HealthHandler, args),
                (r"/openapi/v3/?", OpenAPIHandler, args),
                (r"/openapi/v3/(.+)", OpenAPIHandler, args),
                (r"/api/?", CoreDiscoveryHandler, args),
                (r"/api/v1/?", CoreResourcesHandler, args),
                (r"/apis/?", GroupsHandler, args),
                (r"/apis/([^/]+)/?", GroupHandler, args),
                (r"/apis/([^/]+)/([^/]+)/?", GroupHandler, args),
                (r"/api/()(v1)/(.+)", ResourceHandler, args),
                (r"/apis/([^/]+)/([^/]+)/(.+)", ResourceHandler, args),
            ],
            log_function=_log_request,
        )

    async def start(self) -> ApiServer:
        if self._http is not None:
            return self
        sockets = bind_sockets(self.port, self.host, family=socket.AF_INET)
        self.port = sockets[0].getsockname()[1]
        self._http = HTTPServer(self.application(), idle_connection_timeout=3600)
        self._http.add_sockets(sockets)
        log.info("simulated Kubernetes API server listening on %s", self.url)
        return self

    async def stop(self) -> None:
        """Stop listening, end every watch and close all connections."""
        if self._http is None:
            return
        self._http.stop()
        self.store.close_watches()
        await asyncio.sleep(0)  # let watch handlers see the end of their streams
        await self._http.close_all_connections()
        self._http = None

    async def __aenter__(self) -> ApiServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def _log_request(handler: RequestHandler) -> None:
    request = handler.request
    log.debug("%s %s %s", handler.get_status(), request.method, request.uri)
