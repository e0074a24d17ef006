"""The build service's web side: REST API, server-sent events, the admin panel."""

from __future__ import annotations

from typing import Any

from tornado import web

from . import api, events, notebooks, pages
from .base import ServiceContext
from .openapi import document

#: (path below the service prefix, handler) of the REST API, as the OpenAPI document names
#: them; ``{id}`` is one path segment
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
    return prefix.rstrip("/") + path.replace("{id}", "([^/]+)").replace(".", r"\.")


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
        (prefix.rstrip("/"), web.RedirectHandler, {"url": prefix}),
        (_pattern(prefix, "/builds/{id}"), pages.BuildPage, ctx),
        (_pattern(prefix, "/oauth_callback"), pages.OAuthCallbackHandler, ctx),
    ]
    return web.Application(
        handlers,
        static_path=str(pages.STATIC),
        static_url_prefix=f"{prefix}static/",
        **settings,
    )
