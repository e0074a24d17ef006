"""A feature that is not ours, plugged in by its import string: it proves a feature brings
its own routes, OpenAPI part, panel section, static files, table, components and traits
without any other feature (or the service) knowing it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column
from traitlets import Unicode

from jupyterhub_ov.database import Base
from jupyterhub_ov.service.feature import Feature, Host, PanelSection, Route
from jupyterhub_ov.service.openapi import READ, errors
from jupyterhub_ov.service.web.base import BaseHandler


class _Greeting(Base):
    __tablename__ = "demo_greetings"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)


class HelloHandler(BaseHandler):
    async def get(self) -> None:
        self.require_read()
        assert isinstance(self.feature, Hello)
        self.write_json({"greeting": self.feature.greeting})


class Hello(Feature):
    """Greets (a test's feature)."""

    name = "hello"
    greeting = Unicode("hello", help="What it says.").tag(config=True)
    record_file = Unicode("", help="Where it notes its start and stop.").tag(config=True)

    def routes(self) -> list[Route]:
        return [Route("/api/hello", HelloHandler)]

    def openapi_paths(self) -> dict[str, Any]:
        ok = {"description": "The greeting", "content": {"application/json": {}}}
        return {
            "/api/hello": {
                "get": {
                    "summary": "A greeting",
                    "security": READ,
                    "responses": {"200": ok, **errors(403)},
                }
            }
        }

    def panel(self) -> PanelSection:
        return PanelSection("section.html", scripts=("hello.js",))

    async def start(self, host: Host) -> None:
        self._note("start")
        host.stack.callback(self._note, "stop")

    def _note(self, what: str) -> None:
        if self.record_file:
            with Path(self.record_file).open("a") as f:
                f.write(what + "\n")
