"""The service's own API routes: the OpenAPI document, and 404 for any other API path."""

from __future__ import annotations

from typing import Any

from .base import ApiError, BaseHandler


class OpenAPIHandler(BaseHandler):
    """The OpenAPI document, readable without authentication (it holds no data)."""

    identified = False

    def initialize(self, context: Any, document: dict[str, Any]) -> None:  # type: ignore[override]
        super().initialize(context)
        self.document = document

    def get(self) -> None:
        self.write_json(self.document)


class NotFoundHandler(BaseHandler):
    async def admit(self) -> None:
        raise ApiError(404, f"No such API path: {self.request.path}")
