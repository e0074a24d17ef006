"""The REST API: thin handlers over `BuildManager` (the OpenAPI document describes them)."""

from __future__ import annotations

from tornado import web

from jupyterhub_ov.builds.model.phases import Phase
from jupyterhub_ov.builds.model.spec import image_name
from jupyterhub_ov.service.web.base import ApiError, BaseHandler, domain_errors

LIST_LIMIT_DEFAULT = 50
LIST_LIMIT_MAX = 500


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


class BuildsHandler(BaseHandler):
    """``GET``: list builds; ``POST``: request a build (CustomNBImage-shaped JSON body,
    admitted and streamed by `BaseHandler`)."""

    body_name = "build request"

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

    async def post(self) -> None:
        self.require_write()
        body = self.json_body()
        with domain_errors("build"):
            record, created = await self.manager.submit(body, creator=self.user_name)
        self.set_header("Location", f"{self.ctx.prefix}api/builds/{record.id}")
        self.write_json(record.to_json(), 201 if created else 200)


class BuildHandler(BaseHandler):
    async def get(self, build_id: str) -> None:
        self.require_read()
        with domain_errors("build"):
            record = await self.manager.get(build_id)
        self.write_json(record.to_json())

    async def delete(self, build_id: str) -> None:
        self.require_write()
        self.take_no_body()
        with domain_errors("build"):
            await self.manager.delete(build_id)
        self.set_status(204)
        self.finish()


class LogHandler(BaseHandler):
    async def get(self, build_id: str) -> None:
        self.require_read()
        with domain_errors("build"):
            text = await self.manager.log_text(build_id)
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.finish(text)


class CancelHandler(BaseHandler):
    async def post(self, build_id: str) -> None:
        self.require_write()
        self.take_no_body()
        with domain_errors("build"):
            record = await self.manager.cancel(build_id, by=self.user_name)
        self.write_json(record.to_json())


class RetryHandler(BaseHandler):
    async def post(self, build_id: str) -> None:
        self.require_write()
        self.take_no_body()
        with domain_errors("build"):
            record, created = await self.manager.retry(build_id, by=self.user_name)
        self.set_header("Location", f"{self.ctx.prefix}api/builds/{record.id}")
        self.write_json(record.to_json(), 201 if created else 200)
