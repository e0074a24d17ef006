"""The build service's web side: REST API, server-sent events, the admin panel."""

from __future__ import annotations

from typing import Any

from tornado import web

from ..features.builds import api, events
from ..features.notebooks import handlers as notebooks
from . import pages
from .base import ServiceContext
from .openapi import ID_PATTERNS, document
from .security import Redirect, StaticFiles

#: (path below the service prefix, handler) of the REST API, as the OpenAPI document names
#: them; ``{id}`` is a build's id or a notebook's name (`ID_PATTERNS`), anything else is
#: no route (404)
API_ROUTES: list[tuple[str, type[web.RequestHandler]]] = [
    ("/api/builds", api.BuildsHandler),
    ("/api/builds/{id}", api.BuildHandler),
    ("/api/builds/{id}/log", api.LogHandler),
    ("/api/builds/{id}/events", events.EventsHandler),
    ("/api/builds/{id}/cancel", api.CancelHandler),
    ("/api/builds/{id}/retry", api.RetryHandler),
    ("/api/notebooks", notebooks.NotebooksHandler),
    ("/api/notebooks/{id}", notebooks.NotebookHandler),
    ("/api/notebooks/{id}/check", notebooks.CheckHandler),
    ("/api/openapi.json", api.OpenAPIHandler),
]


def _pattern(prefix: str, path: str) -> str:
    """The route's regular expression: ``/api/builds/{id}`` matches only real build ids."""
    kind = "notebooks" if path.startswith("/api/notebooks/") else "builds"
    segment = f"({ID_PATTERNS[kind]})"
    return prefix.rstrip("/") + path.replace(".", r"\.").replace("{id}", segment)


def make_application(context: ServiceContext, *, version: str, **settings: Any) -> web.Application:
    prefix = context.prefix
    doc = document(prefix=prefix, hub_prefix=context.hub_prefix, version=version)
    ctx = {"context": context}
    with_doc = {**ctx, "document": doc}
    handlers: list[Any] = [
        (_pattern(prefix, path), handler, with_doc if handler is api.OpenAPIHandler else ctx)
        for path, handler in API_ROUTES
    ]
    handlers += [
        (prefix + "api/.*", api.NotFoundHandler, ctx),
        (prefix, pages.BuildsPage, ctx),
        (prefix.rstrip("/"), Redirect, {"url": prefix}),
        (_pattern(prefix, "/builds/{id}"), pages.BuildPage, ctx),
        (_pattern(prefix, "/oauth_callback"), pages.OAuthCallbackHandler, ctx),
    ]
    return web.Application(
        handlers,
        static_path=str(pages.STATIC),
        static_url_prefix=f"{prefix}static/",
        static_handler_class=StaticFiles,
        default_handler_class=pages.NotFoundPage,
        default_handler_args=ctx,
        **settings,
    )
