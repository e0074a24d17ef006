"""The image builds feature: the REST API of builds (``api/builds``), their live events, the
panel's list with its "New build" form, and the page of one build followed live.

The builds themselves are the build engine's (`jupyterhub_ov.builds`): this feature is its
web side. api.py and events.py (handlers), schemas.py and openapi.py (the API's
description), pages.py, templates/ and static/builds.js (the panel).
"""

from __future__ import annotations

from typing import Any

from jupyterhub_ov.builds.model.spec import BUILD_TYPES
from jupyterhub_ov.service.feature import Feature, PanelSection, Route

from . import api, events, openapi, pages


class ImageBuilds(Feature):
    """Image builds in the panel and the REST API (``api/builds``)."""

    name = "builds"

    def routes(self) -> list[Route]:
        build = openapi.BUILD_ID
        return [
            Route("/api/builds", api.BuildsHandler),
            Route("/api/builds/{id}", api.BuildHandler, build),
            Route("/api/builds/{id}/log", api.LogHandler, build),
            Route("/api/builds/{id}/events", events.EventsHandler, build),
            Route("/api/builds/{id}/cancel", api.CancelHandler, build),
            Route("/api/builds/{id}/retry", api.RetryHandler, build),
            Route("/builds/{id}", pages.BuildPage, build),
        ]

    def openapi_paths(self) -> dict[str, Any]:
        return openapi.PATHS

    def openapi_schemas(self) -> dict[str, Any]:
        return openapi.SCHEMAS

    def panel(self) -> PanelSection:
        return PanelSection("section.html", scripts=("builds.js",))

    def panel_namespace(self) -> dict[str, Any]:
        return {"build_types": BUILD_TYPES}
