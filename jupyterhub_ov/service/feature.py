"""What a feature of the platform service is, and how the service finds one.

A feature is a package with a `Feature` subclass: image builds (`features.builds`), OpenVINO
notebook images (`features.notebooks`), and whatever comes next. It brings its own

- routes (`Route`: REST handlers and pages, below the service prefix),
- OpenAPI paths and schemas (merged into the one document at ``api/openapi.json``),
- panel section (`PanelSection`: a template of its ``templates/`` directory on the panel's
  home page, and scripts of its ``static/`` directory, served at ``static/<name>/``),
- tables (declared on `jupyterhub_ov.database.Base` by its modules),
- components (started in `Feature.start`, stopped through the service's exit stack),
- traits (``c.<FeatureClass>.<trait>``; the feature is made with the service as parent),
- gauges read when the service's metrics are scraped (`Feature.update_metrics`).

The service knows features only through this interface, and a feature never imports another
(import-linter checks both). ``PlatformService.features`` lists the ones to run: short names
of the ``jupyterhub_ov.service_features`` entry points (ours: ``builds``, ``notebooks``) or
import strings of `Feature` subclasses.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from traitlets.config import LoggingConfigurable
from traitlets.utils.importstring import import_item

if TYPE_CHECKING:
    from ..builds.manager import BuildManager
    from ..database import Database

#: the entry point group features are registered in (setup.cfg's ``[options.entry_points]``)
ENTRY_POINTS = "jupyterhub_ov.service_features"


@dataclass(frozen=True)
class Route:
    """One route: ``path`` below the service prefix (``/api/builds/{id}``), its handler, and
    what ``{id}`` matches (anything else is no route: 404)."""

    path: str
    handler: type
    id_pattern: str = ""


@dataclass(frozen=True)
class PanelSection:
    """A feature's part of the panel's home page: ``template`` (in its ``templates/``) is
    rendered with `Feature.panel_namespace`; ``scripts`` (in its ``static/``) are loaded after
    the shell's ``panel.js``, whose ``window.OVPanel`` they use."""

    template: str
    scripts: tuple[str, ...] = ()


@dataclass
class Host:
    """What the service hands its features when they start."""

    #: the build engine (features that build images submit requests to it)
    manager: BuildManager
    #: the service's database (features' tables are created in it)
    database: Database
    #: a started component's stop goes here: the service stops them in reverse order
    stack: contextlib.AsyncExitStack
    log: logging.Logger | logging.LoggerAdapter[Any]


class Feature(LoggingConfigurable):
    """The base of a feature; override what the feature has."""

    #: the feature's short name: its static files' URL segment and its templates' prefix
    name: ClassVar[str] = ""

    @classmethod
    def directory(cls) -> Path:
        """The feature's package directory (its ``templates/`` and ``static/``)."""
        return Path(inspect.getfile(cls)).parent

    def routes(self) -> list[Route]:
        return []

    def openapi_paths(self) -> dict[str, Any]:
        return {}

    def openapi_schemas(self) -> dict[str, Any]:
        return {}

    def panel(self) -> PanelSection | None:
        return None

    def panel_namespace(self) -> dict[str, Any]:
        """Variables of the panel section's template (besides the shell's)."""
        return {}

    async def start(self, host: Host) -> None:
        """Start the feature's components; put each one's stop on ``host.stack``."""

    async def update_metrics(self) -> None:
        """Set the feature's gauges (`jupyterhub_ov.metrics`) before the service's metrics
        are scraped."""


def feature_class(name: str) -> type[Feature]:
    """The `Feature` class of a short name (an entry point) or an import string."""
    found = entry_points(group=ENTRY_POINTS, name=name)
    try:
        cls = next(iter(found)).load() if found else import_item(name)
    except (ImportError, AttributeError, ValueError) as e:
        known = ", ".join(sorted(ep.name for ep in entry_points(group=ENTRY_POINTS)))
        raise ValueError(f"No service feature {name!r} ({e}); known: {known}") from None
    if not (isinstance(cls, type) and issubclass(cls, Feature)):
        raise ValueError(f"{name!r} is not a service feature (a Feature subclass)")
    return cls
