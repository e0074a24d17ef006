"""The model server: kserve's REST (uvicorn + FastAPI) and gRPC servers on OVMS's ports and
bind addresses, the models' repository polled beside them.

Added to kserve's app: ``GET /v1/config`` (and ``POST /v1/config/reload``, which refreshes
the models now), version routing, limits on request bodies, ``/metrics`` only with
``--metrics_enable``. ``--rest_workers`` is accepted and not used (one process serves);
``--grpc_workers`` sizes the gRPC server's thread pool.

As OVMS, requests are logged at DEBUG only: below it, uvicorn's access log and kserve's
timing middleware (two log lines per request) are left out of the REST path.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Mapping
from concurrent import futures
from dataclasses import replace
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from grpc import aio
from kserve.model_repository import ModelRepository
from kserve.protocol.grpc import grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc
from kserve.protocol.grpc.interceptors import ExceptionToStatusInterceptor, LoggingInterceptor
from kserve.protocol.grpc.server import GRPCServer
from kserve.protocol.grpc.servicer import InferenceServicer
from kserve.protocol.model_repository_extension import ModelRepositoryExtension
from kserve.protocol.rest.server import RESTServer

from jupyterhub_ov.digits import is_number

from . import guard, state
from .config import ConfigError, ServerConfig, parse_config_file
from .repository import Repository
from .serving import REQUESTED_VERSION, OpenVINODataPlane, OpenVINOModel

log = logging.getLogger("jupyterhub_ov.ovms")
APP = "kserve.model_server:app"
MAX_MESSAGE = 64 * 1024 * 1024

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class VersionedServicer(InferenceServicer):  # type: ignore[misc]
    """kserve's gRPC servicer; its ModelMetadata answers the model's versions too (kserve's
    leaves them out; OVMS and the REST answer give them)."""

    async def ModelMetadata(  # noqa: N802 (the gRPC method's name)
        self, request: grpc_predict_v2_pb2.ModelMetadataRequest, context: Any
    ) -> grpc_predict_v2_pb2.ModelMetadataResponse:
        metadata = await self._data_plane.model_metadata(model_name=request.name)
        return grpc_predict_v2_pb2.ModelMetadataResponse(
            name=metadata["name"],
            versions=metadata["versions"],
            platform=metadata["platform"],
            inputs=metadata["inputs"],
            outputs=metadata["outputs"],
        )


class BoundGRPCServer(GRPCServer):  # type: ignore[misc]
    """kserve's gRPC server on ``--grpc_bind_address`` (kserve binds ``[::]`` only)."""

    def __init__(self, address: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._address = address

    async def start(self, max_workers: int) -> None:
        servicer = VersionedServicer(self._data_plane, self._model_repository_extension)
        self._server = aio.server(
            futures.ThreadPoolExecutor(max_workers=max_workers),
            interceptors=(LoggingInterceptor(), ExceptionToStatusInterceptor()),
            options=[
                ("grpc.max_send_message_length", MAX_MESSAGE),
                ("grpc.max_receive_message_length", MAX_MESSAGE),
            ],
        )
        grpc_predict_v2_pb2_grpc.add_GRPCInferenceServiceServicer_to_server(servicer, self._server)
        host = f"[{self._address}]" if ":" in self._address else self._address
        self._server.add_insecure_port(f"{host}:{self._port}")
        log.info("gRPC on %s:%d", host, self._port)
        await self._server.start()
        await self._server.wait_for_termination()


class Guard:
    """ASGI middleware: body limits, ``/versions/{v}`` routing, ``/metrics`` when enabled."""

    def __init__(self, app: Any, metrics: bool = False) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not guard.served(scope["path"]):
            await _answer(send, 404, {"error": f"{scope['path']} is not an OVMS endpoint"})
            return
        if scope["path"] == "/metrics" and not self.metrics:
            await _answer(send, 404, {"error": "metrics are not enabled (--metrics_enable)"})
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        length = headers.get("content-length", "")
        if is_number(length) and int(length) > guard.MAX_BODY:
            await _answer(send, 413, {"error": f"the body is over {guard.MAX_BODY} bytes"})
            return
        body = bytearray()
        if scope["method"] in ("POST", "PUT"):
            more = True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    return  # the client went away
                body += message.get("body", b"")
                more = message.get("more_body", False)
                if len(body) > guard.MAX_BODY:
                    await _answer(send, 413, {"error": f"the body is over {guard.MAX_BODY} bytes"})
                    return
            problem = guard.body_problem(
                bytes(body), headers.get("inference-header-content-length")
            )
            if problem:
                await _answer(send, 400, {"error": problem})
                return
        path, version = guard.split_version(scope["path"])
        scope = {**scope, "path": path, "raw_path": path.encode()}
        if body and "inference-header-content-length" not in headers:
            # a body without the binary extension's header is JSON, whatever its type says
            # (as OVMS reads it; tritonclient sends none): kserve's app wants it typed so
            kept = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-type"]
            scope["headers"] = [*kept, (b"content-type", b"application/json")]
        REQUESTED_VERSION.set(version)
        await self.app(scope, _replay(bytes(body), receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def _answer(send: Send, status: int, doc: Mapping[str, Any]) -> None:
    response = JSONResponse(dict(doc), status_code=status)
    await send({"type": "http.response.start", "status": status, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})


#: the --log_level values at which every request is logged (access log, kserve's timings)
REQUEST_LOG_LEVELS = ("DEBUG", "TRACE")


class _RESTServer(RESTServer):
    """kserve's REST server; its timing middleware only when requests are logged."""

    timings = False

    def _add_middlewares(self, app: FastAPI) -> None:
        if self.timings:
            super()._add_middlewares(app)


class ServeError(Exception):
    """A server could not start (a port taken, ...): the process ends with this message."""


async def _rest(rest: RESTServer, where: str) -> None:
    try:
        await rest.start()
    except SystemExit:  # uvicorn exits when it cannot bind; stop the rest cleanly instead
        raise ServeError(f"the REST server could not start on {where}") from None


def add_routes(app: FastAPI, repository: Repository) -> None:
    """OVMS's ``/v1/config`` (and its reload) on kserve's app."""

    async def config() -> dict[str, Any]:
        return state.config_document(repository.statuses())

    async def reload() -> dict[str, Any]:
        await repository.refresh(force=True)
        return state.config_document(repository.statuses())

    async def invalid(request: Request, error: Exception) -> JSONResponse:
        problems = error.errors() if isinstance(error, RequestValidationError) else []
        where = "; ".join(
            f"{'.'.join(map(str, p.get('loc', ())[1:]))}: {p.get('msg')}" for p in problems[:5]
        )
        return JSONResponse({"error": f"invalid request: {where}"}, status_code=400)

    # OVMS answers 400 to a request it cannot parse (FastAPI's default is 422)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_api_route("/v1/config", config, methods=["GET"])
    app.add_api_route("/v1/config/reload", reload, methods=["POST"])


#: seconds between looks at the config file (OVMS's --config_check_interval default)
CONFIG_CHECK_SECONDS = 1.0


async def watch_config(path: str, repository: Repository, registry: ModelRepository) -> None:
    """Serve what the config file says whenever it changes; a file that cannot be read or
    parsed is logged, and the models stay as they are (as OVMS)."""
    last = await asyncio.to_thread(Path(path).read_bytes)
    while True:
        await asyncio.sleep(CONFIG_CHECK_SECONDS)
        try:
            text = await asyncio.to_thread(Path(path).read_bytes)
        except OSError as e:
            log.error("Cannot read the config file %s: %s", path, e)
            continue
        if text == last:
            continue
        last = text
        try:
            models = parse_config_file(text.decode(errors="replace"), where=path)
        except ConfigError as e:
            log.error("The changed config file is not used: %s", e)
            continue
        removed, added = await repository.reconfigure(models)
        for name in removed:
            registry.models.pop(name, None)
        for name in added:
            registry.update(OpenVINOModel(repository.models[name]))
        log.info("Config file %s: removed %s, added %s", path, removed, added)


def read_models(config: ServerConfig) -> ServerConfig:
    """The config file's models in config mode (ConfigError when it cannot be read)."""
    if not config.config_path:
        return config
    try:
        text = Path(config.config_path).read_text()
    except OSError as e:
        raise ConfigError(f"cannot read the config file {config.config_path}: {e}") from None
    models = parse_config_file(text, where=config.config_path)
    return replace(config, models=models)


async def serve(config: ServerConfig, env: Mapping[str, str] = os.environ) -> None:
    """Serve until SIGTERM/SIGINT (or the REST server stops)."""
    repository = Repository(config.models, env, config.file_system_poll_wait_seconds)
    registry = ModelRepository()
    for versions in repository.models.values():
        registry.update(OpenVINOModel(versions))
    dataplane = OpenVINODataPlane(repository, model_registry=registry)
    extension = ModelRepositoryExtension(model_registry=registry)
    tasks: list[asyncio.Task[Any]] = [asyncio.create_task(repository.poll(), name="poll")]
    if config.config_path:
        watcher = watch_config(config.config_path, repository, registry)
        tasks.append(asyncio.create_task(watcher, name="poll-config"))
    rest: RESTServer | None = None
    if config.rest_port:
        rest = _RESTServer(APP, dataplane, extension, config.rest_port, grace_period=5)
        rest.config.host = config.rest_bind_address
        rest.timings = rest.config.access_log = config.log_level in REQUEST_LOG_LEVELS
        from kserve.model_server import app

        add_routes(app, repository)
        app.add_middleware(Guard, metrics=config.metrics_enable)
        where = f"{config.rest_bind_address}:{config.rest_port}"
        tasks.append(asyncio.create_task(_rest(rest, where), name="rest"))
    grpc = BoundGRPCServer(
        config.grpc_bind_address, config.port, dataplane, extension, kwargs={}, grace_period=5
    )
    tasks.append(asyncio.create_task(grpc.start(max(1, config.grpc_workers)), name="grpc"))
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopped.set)
    waiter = asyncio.create_task(stopped.wait())
    servers = [t for t in tasks if not t.get_name().startswith("poll")]
    done, _ = await asyncio.wait([waiter, *servers], return_when=asyncio.FIRST_COMPLETED)
    log.info("Stopping the model server")
    if rest is not None:  # kserve's RESTServer has no stop of its own: uvicorn's flag
        rest._server.should_exit = True
    await grpc.stop()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await repository.close()
    for task in done:
        if task is not waiter and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
