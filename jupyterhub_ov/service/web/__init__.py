"""The service's web side: the routes of its features, the panel's shell, the OpenAPI
document, and the service's own routes (login callback, unknown paths)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from tornado import web

from ..feature import Feature, Route
from ..openapi import document
from . import api, pages
from .base import ServiceContext
from .security import Redirect, StaticFiles


def pattern(prefix: str, route: Route) -> str:
    """The route's regular expression: ``{id}`` matches only what ``route.id_pattern`` says."""
    path = re.escape(route.path).replace(r"\{id\}", "{id}")
    if "{id}" in path:
        if not route.id_pattern:
            raise ValueError(f"{route.path}: a route with {{id}} needs its id_pattern")
        path = path.replace("{id}", f"({route.id_pattern})")
    return prefix.rstrip("/") + path


def feature_routes(features: Sequence[Feature]) -> list[tuple[Feature, Route]]:
    """Every feature's routes; two features claiming one path is an error at start."""
    seen: dict[str, str] = {}
    routes = []
    for feature in features:
        for route in feature.routes():
            if route.path in seen:
                raise ValueError(
                    f"{route.path} is routed by both {seen[route.path]} and {feature.name}"
                )
            seen[route.path] = feature.name
            routes.append((feature, route))
    return routes


def make_application(context: ServiceContext, *, version: str, **settings: Any) -> web.Application:
    prefix = context.prefix
    features = context.features
    doc = document(prefix=prefix, hub_prefix=context.hub_prefix, version=version, features=features)
    ctx = {"context": context}
    handlers: list[Any] = [
        (pattern(prefix, route), route.handler, {**ctx, "feature": feature})
        for feature, route in feature_routes(features)
    ]
    handlers += [
        (prefix + r"api/openapi\.json", api.OpenAPIHandler, {**ctx, "document": doc}),
        (prefix + "api/.*", api.NotFoundHandler, ctx),
        (prefix + "metrics", api.MetricsHandler, ctx),
        (prefix, pages.PanelPage, ctx),
        (prefix.rstrip("/"), Redirect, {"url": prefix}),
        (prefix + "oauth_callback", pages.OAuthCallbackHandler, ctx),
    ]
    # static files: each feature's below its name, then the shell's (see `pages.static_url`)
    handlers += [
        (f"{prefix}static/{f.name}/(.*)", StaticFiles, {"path": str(f.directory() / "static")})
        for f in features
        if (f.directory() / "static").is_dir()
    ]
    handlers.append((f"{prefix}static/(.*)", StaticFiles, {"path": str(pages.STATIC)}))
    return web.Application(
        handlers,
        default_handler_class=pages.NotFoundPage,
        default_handler_args=ctx,
        **settings,
    )
