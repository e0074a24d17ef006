"""The one interface of ModelServer backends: local processes (`local`) or the cluster's
``ModelServer`` resources (`cluster`). The REST API and the panel know only this.

Every backend validates with `model.parse_model_server` (both spec shapes; every problem at
once as `InvalidModelServer`, a subclass of `errors.Invalid`; nothing is created), refuses a
name that is taken or reserved with `errors.Conflict`, and answers `view.ServerView`s.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any

from jupyterhub_ov.errors import Conflict

from ..model import InvalidModelServer, ModelServerSpec, parse_model_server
from ..view import ServerView

#: names no ModelServer may take: the API's own path segments below api/modelservers
RESERVED_NAMES = frozenset({"openapi", "scale", "new", "static"})


def parse(name: Any, spec: Any) -> ModelServerSpec:
    """The typed spec, or Invalid/Conflict: a reserved name is refused like a taken one."""
    parsed = parse_model_server(name, spec)
    if parsed.name in RESERVED_NAMES:
        raise Conflict(f"The name {parsed.name!r} is reserved; choose another.")
    return parsed


def replicas_problem(replicas: Any) -> None:
    """InvalidModelServer unless ``replicas`` is a whole number of 0 or more."""
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
        raise InvalidModelServer([f"replicas {replicas!r} must be a whole number of 0 or more"])


class ModelServerBackend(abc.ABC):
    """Create, read, scale and delete ModelServers; `start` before use, `stop` at the end."""

    #: the view's ``mode``
    mode = ""

    @abc.abstractmethod
    async def start(self) -> None:
        """Connect, and bring back what was running (the local backend's stored servers)."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Release everything started; servers' records stay."""

    @abc.abstractmethod
    async def create(self, name: Any, spec: Any, *, by: str) -> ServerView:
        """A new server ``name`` of raw ``spec`` (either shape), created by user ``by``."""

    @abc.abstractmethod
    async def get(self, name: str) -> ServerView:
        """The server now; `errors.NotFound` if there is none."""

    @abc.abstractmethod
    async def list(self) -> list[ServerView]:
        """Every server, by name."""

    @abc.abstractmethod
    async def delete(self, name: str) -> None:
        """The server and everything made for it; `errors.NotFound` if there is none."""

    @abc.abstractmethod
    async def scale(self, name: str, replicas: int) -> ServerView:
        """The server with ``replicas`` wanted."""


def raw_spec(spec: Any) -> Mapping[str, Any]:
    """The raw spec as stored: {} for an absent one (parse has checked it is an object)."""
    return dict(spec) if isinstance(spec, Mapping) else {}
