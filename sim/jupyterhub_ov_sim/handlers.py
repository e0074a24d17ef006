"""The REST handler for resources: CRUD, list, watch streams, counters and injected faults.

Part of the cluster simulator, a test double of Kubernetes (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Callable
from typing import Any, Protocol

from tornado.iostream import StreamClosedError
from tornado.web import RequestHandler

from . import admission, binaryuploads, errors, partialmeta, protobuf, scale, wire
from .errors import ApiError
from .faults import Fault, FaultInjector, RequestCounters
from .kinds import KindRegistry
from .paths import Target, is_true, parse_target, verb_for
from .selectors import object_matcher
from .store import ObjectStore
from .watchcache import Subscription, WatchEvent


class Served(Protocol):
    """What the handlers serve from: the API server (``apiserver.ApiServer``) is one.

    A protocol here, so the server module imports the handlers and not the other way round.
    """

    registry: KindRegistry
    store: ObjectStore
    faults: FaultInjector
    counters: RequestCounters
    #: POST subresources the server answers: (group, plural, subresource) -> action
    actions: dict[tuple[str, str, str], Callable[[str, str, Any], dict[str, Any]]]

    def follow_log(self, obj: dict[str, Any]) -> AsyncGenerator[str, None] | None: ...

    async def read_log(self, obj: dict[str, Any]) -> str | None: ...


class JSONHandler(RequestHandler):
    """JSON answers and Kubernetes Status errors, for every handler of the API server."""

    def send_json(self, body: Any, code: int = 200) -> None:
        self.set_status(code)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    def send_error_status(self, error: ApiError) -> None:
        for header, value in error.headers.items():
            self.set_header(header, value)
        self.send_json(error.status(), error.code)


class ResourceHandler(JSONHandler):
    """Serves ``/api/v1/...`` and ``/apis/<group>/<version>/...`` for every registered kind."""

    def initialize(self, server: Served) -> None:
        self.server = server
        self.target: Target | None = None
        self.verb = ""
        self.fault = Fault()
        self.subscription: Subscription | None = None
        #: partialmeta.ITEM or .LIST when the client asked for metadata only
        self.shape: str | None = None

    # -- plumbing --------------------------------------------------------------------------

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None))[1]
        error = exc if isinstance(exc, ApiError) else errors.internal_error(str(exc or status_code))
        self.send_error_status(error)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if not isinstance(value, ApiError):
            super().log_exception(typ, value, tb)

    def query(self, name: str) -> str | None:
        return self.get_query_argument(name, None)

    def body_json(self) -> Any:
        if not self.request.body:
            return {}
        media = self.request.headers.get("Content-Type", "application/json").split(";")[0]
        if media.strip() == protobuf.MEDIA_TYPE and self._builtin():
            return self._protobuf_body()
        if "json" not in media and "yaml" not in media:
            # protobuf for a custom kind is refused so by the real server too
            raise errors.unsupported_media_type(media)
        try:
            return json.loads(self.request.body)
        except ValueError as exc:
            raise errors.bad_request(f"invalid JSON in request body: {exc}") from exc

    def _builtin(self) -> bool:
        return self.target is not None and self.target.kind.builtin

    def _protobuf_body(self) -> dict[str, Any]:
        """What ``kubectl create <kind>`` sends for built-in kinds, as the JSON object."""
        assert self.target is not None
        kind = self.target.kind
        try:
            body = protobuf.decode_object(self.request.body)
        except protobuf.UnsupportedKind:
            raise errors.unsupported_media_type(protobuf.MEDIA_TYPE) from None
        except protobuf.ProtobufError as problem:
            raise errors.bad_request(f"invalid protobuf in request body: {problem}") from None
        if (body["apiVersion"], body["kind"]) != (kind.api_version, kind.kind):
            raise errors.bad_request(
                f"the body is a {body['apiVersion']} {body['kind']},"
                f" not a {kind.api_version} {kind.kind}"
            )
        return body

    def _accepts_json(self) -> bool:
        """Whether the client takes a JSON answer (kubectl offers protobuf, then JSON)."""
        accept = self.request.headers.get("Accept", "")
        offered = [part.split(";")[0].strip() for part in accept.split(",") if part.strip()]
        if protobuf.MEDIA_TYPE not in offered:
            return True  # JSON clients, log readers (text/plain), no Accept at all
        return any("json" in media or "yaml" in media or media.endswith("*") for media in offered)

    @property
    def dry_run(self) -> bool:
        return self.query("dryRun") == "All"

    async def prepare(self) -> None:
        group, version, path = self.path_args
        try:
            self.target = parse_target(self.server.registry, group, version, path)
            self.verb = verb_for(
                self.request.method or "", self.target, is_true(self.query("watch"))
            )
        except ApiError as error:
            self.send_error_status(error)
            return
        if not self._accepts_json():  # this server answers JSON only
            self.send_error_status(errors.not_acceptable(self.request.headers["Accept"]))
            return
        if self.verb in ("get", "list", "watch") and self.target.subresource is None:
            try:
                self.shape = partialmeta.wanted(self.request.headers.get("Accept", ""), self.verb)
            except ApiError as error:
                self.send_error_status(error)
                return
        self.server.counters.record(self.verb, self.target.resource, shape=self.shape)
        self.fault = self.server.faults.decide(self.verb, self.target.resource)
        if self.fault.latency:
            await asyncio.sleep(self.fault.latency)  # injected latency, not synchronisation
        if self.fault.error is not None:
            self.send_error_status(self.fault.error)

    def _parts(self) -> tuple[Target, str, str]:
        assert self.target is not None
        return self.target, self.target.namespace or "", self.target.name or ""

    def _matcher(self) -> Any:
        assert self.target is not None
        return object_matcher(
            self.query("labelSelector"),
            self.query("fieldSelector"),
            self.target.kind.field_selectors,
        )

    # -- verbs -----------------------------------------------------------------------------

    async def get(self, *args: str) -> None:
        target, namespace, name = self._parts()
        store = self.server.store
        if target.subresource == "log":
            await self._object_log(store.get(target.kind, namespace, name))
        elif target.subresource == "scale":
            self.send_json(scale.read(store, target.kind, namespace, name))
        elif self.verb == "get":
            obj = store.get(target.kind, namespace, name)
            self.send_json(partialmeta.item(obj) if self.shape else obj)
        elif self.verb == "list":
            items, rv = store.list_objects(target.kind, target.namespace, self._matcher())
            body = (
                partialmeta.list_body(items, rv)
                if self.shape
                else wire.list_body(target, items, rv)
            )
            self.send_json(body)
        else:
            await self._watch()

    def post(self, *args: str) -> None:
        target, namespace, name = self._parts()
        if target.subresource == "instantiatebinary":  # the body is the upload, not JSON
            upload = binaryuploads.Upload(self.request.body, self.query("asFile") or "")
            self.send_json(
                binaryuploads.instantiate_binary(self.server.store, namespace, name, upload), 201
            )
            return
        body = self.body_json()
        if target.subresource is not None:
            kind = target.kind
            action = self.server.actions.get((kind.group, kind.plural, target.subresource))
            if action is None:
                raise errors.bad_request(f"{target.resource} cannot be created")
            self.send_json(action(namespace, name, body), 201)
            return
        if not isinstance(body, dict):
            raise errors.bad_request("the body of a create must be an object")
        store = self.server.store
        created = store.create(target.kind, namespace, body, dry_run=self.dry_run)
        if created.get("kind") == "Pod":  # admitted: what the namespace's warn level says
            for warning in admission.warnings(store.namespace_of(namespace), created):
                self.add_header("Warning", admission.warning_header(warning))
        self.send_json(created, 201)

    def put(self, *args: str) -> None:
        target, namespace, name = self._parts()
        body = self.body_json()
        if not isinstance(body, dict):
            raise errors.bad_request("the body of an update must be an object")
        if target.subresource == "scale":
            parts = (self.server.store, target.kind, namespace, name, body)
            self.send_json(scale.update(*parts, dry_run=self.dry_run))
            return
        updated = self.server.store.update(
            target.kind, namespace, name, body, subresource=target.subresource, dry_run=self.dry_run
        )
        self.send_json(updated)

    def patch(self, *args: str) -> None:
        target, namespace, name = self._parts()
        content_type = self.request.headers.get("Content-Type", "application/json")
        if target.subresource == "scale":
            parts = (self.server.store, target.kind, namespace, name, self.body_json())
            self.send_json(scale.patch(*parts, content_type, dry_run=self.dry_run))
            return
        patched = self.server.store.patch(
            target.kind,
            namespace,
            name,
            self.body_json(),
            content_type,
            subresource=target.subresource,
            dry_run=self.dry_run,
        )
        self.send_json(patched)

    def _delete_options(self) -> dict[str, Any]:
        options = self.body_json() or {}
        if not isinstance(options, dict):
            raise errors.bad_request("DeleteOptions must be an object")
        if policy := self.query("propagationPolicy"):
            options["propagationPolicy"] = policy
        return options

    def delete(self, *args: str) -> None:
        target, namespace, name = self._parts()
        store = self.server.store
        if self.verb == "deletecollection":
            items = store.delete_collection(
                target.kind, target.namespace, self._matcher(), self._delete_options()
            )
            self.send_json(wire.list_body(target, items, store.resource_version))
            return
        obj, removed = store.delete(target.kind, namespace, name, self._delete_options())
        if removed and not target.kind.returns_deleted_object:
            self.send_json(errors.success(target.kind, name, obj["metadata"]["uid"]))
        else:
            self.send_json(obj, 200 if removed else 202)

    async def _object_log(self, obj: dict[str, Any]) -> None:
        """``<pods|builds>/<name>/log``: what was captured (no ``follow``; ``tailLines`` works)."""
        name = obj["metadata"]["name"]
        if obj.get("kind") == "Pod":
            names = [c.get("name") for c in (obj.get("spec") or {}).get("containers") or []]
            container = self.query("container") or (names[0] if names else "")
            if container not in names:
                raise errors.bad_request(f"container {container} is not valid for pod {name}")
            waiting = f'container "{container}" in pod "{name}" is waiting to start: '
            waiting += "ContainerCreating"
        else:
            waiting = f"build {name} has no logs yet"
        if is_true(self.query("follow")):
            stream = self.server.follow_log(obj)
            if stream is not None:
                await self._follow(stream)
                return
        text = await self.server.read_log(obj)
        if text is None:
            raise errors.bad_request(waiting)
        tail = self.query("tailLines")
        if tail is not None and tail.isdigit():
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-int(tail) :]) if int(tail) else ""
        self.set_header("Content-Type", "text/plain")
        self.finish(text)

    async def _follow(self, stream: AsyncGenerator[str, None]) -> None:
        """``log?follow=true``: the log so far, then each new part, until it ends."""
        self.set_header("Content-Type", "text/plain")
        try:
            async for chunk in stream:
                self.write(chunk)
                await self.flush()
            self.finish()
        except StreamClosedError:
            pass
        finally:
            await stream.aclose()

    # -- watch -----------------------------------------------------------------------------

    def _watch_deadline(self) -> float:
        return asyncio.get_running_loop().time() + wire.watch_seconds(self.query("timeoutSeconds"))

    def _watch_start(self) -> list[WatchEvent] | None:
        target, _, _ = self._parts()
        raw = self.query("resourceVersion") or "0"
        if not raw.isdigit():
            raise errors.bad_request(f"invalid resourceVersion: {raw}")
        # WatchList (client-go informers, kubectl wait): the current objects, then a bookmark
        send_initial = is_true(self.query("sendInitialEvents"))
        store = self.server.store
        try:
            initial, self.subscription = store.watch(
                target.kind, target.namespace, self._matcher(), 0 if send_initial else int(raw)
            )
            if send_initial:
                initial.append(wire.initial_events_end(target, store.resource_version))
        except ApiError as error:
            if error.code != 410:
                raise
            # The real server answers 200 and reports "too old" as an ERROR event.
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps({"type": "ERROR", "object": error.status()}) + "\n")
            return None
        return initial

    async def _watch(self) -> None:
        deadline = self._watch_deadline()
        initial = self._watch_start()
        if initial is None or self.subscription is None:
            return
        loop = asyncio.get_running_loop()
        drop_at = None
        if self.fault.drop_watch_after is not None:
            drop_at = loop.time() + self.fault.drop_watch_after
        self.set_header("Content-Type", "application/json")
        try:
            self.write("".join(wire.event_line(e, bool(self.shape)) for e in initial))
            await self.flush()
            if await self._stream(self.subscription, min(deadline, drop_at or deadline)):
                self.finish()
            elif drop_at is not None and loop.time() >= drop_at:
                self.server.faults.watches_cut += 1
                self._abort()
            else:
                self.finish()
        except StreamClosedError:
            pass
        finally:
            self.subscription.close()

    async def _stream(self, subscription: Subscription, until: float) -> bool:
        """Forward events until ``until``; True if the store ended the stream first."""
        loop = asyncio.get_running_loop()
        queue = subscription.queue
        while (remaining := until - loop.time()) > 0:
            try:
                batch = [await asyncio.wait_for(queue.get(), remaining)]
            except TimeoutError:
                return False
            while not queue.empty():
                batch.append(queue.get_nowait())
            meta = bool(self.shape)
            lines = [wire.event_line(event, meta) for event in batch if event is not None]
            if lines:
                self.write("".join(lines))
                await self.flush()
            if None in batch:
                return True
        return False

    def _abort(self) -> None:
        """Cut the connection mid-stream (no terminating chunk), as a failing proxy would."""
        stream = self.request.connection.stream  # type: ignore[union-attr]
        stream.close()
        self._finished = True

    def on_connection_close(self) -> None:
        if self.subscription is not None:
            self.subscription.close()
