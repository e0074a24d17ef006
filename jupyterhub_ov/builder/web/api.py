"""The REST API: thin handlers over `BuildManager` (the OpenAPI document describes them)."""

from __future__ import annotations

import json
from typing import Any

from tornado import web

from ..phases import Phase
from ..spec import image_name
from .base import ApiError, BaseHandler, domain_errors

LIST_LIMIT_DEFAULT = 50
LIST_LIMIT_MAX = 500
#: a declared body up to this size is received and discarded after its early 413
DRAIN_LIMIT = 100 * 1024 * 1024


def _int_argument(handler: web.RequestHandler, name: str, default: int, low: int, high: int) -> int:
    raw = handler.get_argument(name, None)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"?{name}={raw!r} is not an integer.") from None
    if not low <= value <= high:
        raise ApiError(400, f"?{name}={value} must be between {low} and {high}.")
    return value


def _phases_argument(handler: web.RequestHandler) -> list[Phase]:
    """``?phase=Building&phase=Preparing`` or ``?phase=Building,Preparing``."""
    wanted: list[Phase] = []
    for raw in handler.get_arguments("phase"):
        for value in filter(None, (v.strip() for v in raw.split(","))):
            try:
                wanted.append(Phase(value))
            except ValueError:
                names = ", ".join(p.value for p in Phase)
                raise ApiError(400, f"?phase={value!r} is not one of {names}.") from None
    return wanted


@web.stream_request_body
class BuildsHandler(BaseHandler):
    """``GET``: list builds; ``POST``: request a build (CustomNBImage-shaped JSON body).

    The body is streamed, never buffered beyond ``max_body_size``. A larger declared length
    gets its 413 at once, before any of the body is read; the rest is then received and
    thrown away, so a proxy in front (the hub's) can deliver that answer instead of its
    own 503 for a closed connection. Beyond `DRAIN_LIMIT` the connection is simply closed.
    """

    _body: bytearray
    _refused = False

    async def get(self) -> None:
        self.require_read()
        limit = _int_argument(self, "limit", LIST_LIMIT_DEFAULT, 1, LIST_LIMIT_MAX)
        offset = _int_argument(self, "offset", 0, 0, 2**31)
        name = self.get_argument("name", "").strip()
        records, total = await self.manager.list_builds(
            limit=limit,
            offset=offset,
            phases=_phases_argument(self),
            name=image_name(name) if name else None,
        )
        body = {"builds": [r.to_json() for r in records], "total": total}
        self.write_json({**body, "limit": limit, "offset": offset})

    async def prepare(self) -> None:
        if self.request.method == "POST":
            self._body = bytearray()
            if await self._refuse_large_body():
                return
            self.check_json_content_type("build request")
        await super().prepare()

    async def _refuse_large_body(self) -> bool:
        limit = self.ctx.max_body_size
        connection = self.request.connection
        length = self.request.headers.get("Content-Length", "")
        if not length or (length.isdigit() and int(length) <= limit):
            connection.set_max_body_size(limit)  # type: ignore[union-attr]
            return False  # a chunked body is cut off by tornado once it passes the limit
        message = f"The request body is larger than {limit} bytes."
        if not length.isdigit() or int(length) > DRAIN_LIMIT:
            raise ApiError(413, message)  # answered, and the connection closed unread
        connection.set_max_body_size(DRAIN_LIMIT)  # type: ignore[union-attr]
        self._refused = True
        body = json.dumps({"status": 413, "message": message}).encode()
        self.set_status(413)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Content-Length", str(len(body)))
        self.write(body)
        await self.flush()  # the answer goes out now; `post` finishes once the body is gone
        return True

    def data_received(self, chunk: bytes) -> None:
        if self.request.method == "POST" and not self._refused:
            self._body.extend(chunk)

    async def post(self) -> None:
        if self._refused:
            self.finish()  # the 413 went out in `prepare`
            return
        self.require_write()
        body = self.parse_json(bytes(self._body))
        with domain_errors():
            record, created = await self.manager.submit(body, creator=self.user_name)
        self.set_header("Location", f"{self.ctx.prefix}api/builds/{record.id}")
        self.write_json(record.to_json(), 201 if created else 200)


class BuildHandler(BaseHandler):
    async def get(self, build_id: str) -> None:
        self.require_read()
        with domain_errors():
            record = await self.manager.get(build_id)
        self.write_json(record.to_json())

    async def delete(self, build_id: str) -> None:
        self.require_write()
        with domain_errors():
            await self.manager.delete(build_id)
        self.set_status(204)
        self.finish()


class LogHandler(BaseHandler):
    async def get(self, build_id: str) -> None:
        self.require_read()
        with domain_errors():
            text = await self.manager.log_text(build_id)
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.finish(text)


class CancelHandler(BaseHandler):
    async def post(self, build_id: str) -> None:
        self.require_write()
        with domain_errors():
            record = await self.manager.cancel(build_id, by=self.user_name)
        self.write_json(record.to_json())


class RetryHandler(BaseHandler):
    async def post(self, build_id: str) -> None:
        self.require_write()
        with domain_errors():
            record, created = await self.manager.retry(build_id, by=self.user_name)
        self.set_header("Location", f"{self.ctx.prefix}api/builds/{record.id}")
        self.write_json(record.to_json(), 201 if created else 200)


class OpenAPIHandler(BaseHandler):
    """The OpenAPI document, readable without authentication (it holds no data)."""

    def initialize(self, context: Any, document: dict[str, Any]) -> None:  # type: ignore[override]
        super().initialize(context)
        self.document = document

    async def prepare(self) -> None:
        pass

    def get(self) -> None:
        self.write_json(self.document)


class NotFoundHandler(BaseHandler):
    async def prepare(self) -> None:
        raise ApiError(404, f"No such API path: {self.request.path}")
