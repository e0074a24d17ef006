"""What every handler of the build service shares: the hub identity, scopes, JSON errors.

Identity comes from JupyterHub (`jupyterhub.services.auth.HubOAuth`): an API token in the
``Authorization`` header, or the OAuth cookie of a browser session. The user is resolved in
``prepare`` with the non-blocking call (``get_user(sync=False)``): `HubAuthenticated`'s own
``get_current_user`` would block the event loop on a request to the hub.

Cross-site request forgery: HubOAuth accepts the session cookie on a request that changes
something (and on script requests such as ``fetch`` or EventSource) only with the XSRF
token (``X-XSRFToken`` header or ``_xsrf`` argument); without it the request is not
authenticated at all and gets 403. Token-authenticated requests need no XSRF token.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from jupyterhub.services.auth import HubOAuth, HubOAuthenticated, check_scopes
from tornado import web

from ..manager import BuildManager, Conflict, NotFound
from ..notebooks import NotebookController
from ..scopes import READ_SCOPE, WRITE_SCOPE
from ..spec import InvalidBuildRequest


@dataclass
class ServiceContext:
    """The dependencies handlers receive through tornado's ``initialize``."""

    manager: BuildManager
    #: the OpenVINO notebook images; None where the service does not build them
    notebooks: NotebookController | None
    hub_auth: HubOAuth
    #: the service's URL prefix, ``/services/<name>/``
    prefix: str
    #: the hub's URL prefix, ``/hub/`` (its static files give the panel the hub's look)
    hub_prefix: str
    max_body_size: int
    keepalive_interval: float
    log: logging.Logger | logging.LoggerAdapter[Any]


class ApiError(web.HTTPError):
    """An HTTP error with a message for the client and, for invalid specs, the problems."""

    def __init__(self, status: int, message: str, problems: list[str] | None = None) -> None:
        super().__init__(status, message.replace("%", "%%"))
        self.message = message
        self.problems = problems


@contextmanager
def domain_errors() -> Iterator[None]:
    """The manager's errors as HTTP statuses."""
    try:
        yield
    except NotFound as e:
        raise ApiError(404, f"No build {e.args[0]!r}.") from None
    except Conflict as e:
        raise ApiError(409, str(e)) from None
    except InvalidBuildRequest as e:
        raise ApiError(422, "The build request is invalid.", e.problems) from None


class BaseHandler(HubOAuthenticated, web.RequestHandler):
    """Identity and scopes; subclasses call `require` before doing anything."""

    ctx: ServiceContext

    def initialize(self, context: ServiceContext) -> None:
        self.ctx = context
        self.hub_auth = context.hub_auth

    @property
    def manager(self) -> BuildManager:
        return self.ctx.manager

    async def prepare(self) -> None:
        user = await self.hub_auth.get_user(self, sync=False)
        self.current_user = user or None

    def get_current_user(self) -> Any:
        # set in `prepare`; never the blocking lookup of HubAuthenticated
        return None

    @property
    def user_name(self) -> str:
        return str(self.current_user["name"]) if self.current_user else ""

    def has_scope(self, scope: str) -> bool:
        if not self.current_user:
            return False
        return bool(check_scopes({scope}, set(self.current_user.get("scopes") or ())))

    @property
    def can_write(self) -> bool:
        return self.has_scope(WRITE_SCOPE)

    def require(self, scope: str) -> None:
        """403 unless the request's identity holds ``scope``."""
        if not self.current_user:
            raise ApiError(403, self._unauthenticated_message())
        if not self.has_scope(scope):
            kind = self.current_user.get("kind", "user")
            raise ApiError(403, f"The {kind} {self.user_name!r} lacks the scope {scope}.")

    def _unauthenticated_message(self) -> str:
        if self.request.method not in ("GET", "HEAD", "OPTIONS") and self.get_secure_cookie(
            self.hub_auth.cookie_name
        ):
            return (
                "Not authenticated: a browser request that changes something needs the"
                " XSRF token (X-XSRFToken header or _xsrf argument)."
            )
        return "Not authenticated: send 'Authorization: token <JupyterHub API token>'."

    def require_read(self) -> None:
        self.require(READ_SCOPE)

    def require_write(self) -> None:
        self.require(WRITE_SCOPE)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        # the path only: a query may carry an XSRF token
        if isinstance(value, web.HTTPError):
            self.log.warning("%s %s: %s", self.request.method, self.request.path, value)
        else:
            self.log.error(
                "%s %s failed", self.request.method, self.request.path, exc_info=(typ, value, tb)
            )

    @property
    def log(self) -> Any:
        return self.ctx.log

    def check_json_content_type(self, what: str) -> None:
        """415 unless the body is declared ``application/json``."""
        content_type = self.request.headers.get("Content-Type", "")
        if content_type.split(";")[0].strip().lower() != "application/json":
            raise ApiError(415, f"Send the {what} as Content-Type: application/json.")

    @staticmethod
    def parse_json(raw: bytes) -> Any:
        """The body as JSON; 400 saying why it is not."""
        try:
            return json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ApiError(400, f"The request body is not valid JSON: {e}") from None

    def write_json(self, body: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(body))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        error = kwargs.get("exc_info", (None, None, None))[1]
        body: dict[str, Any] = {"status": status_code, "message": self._reason}
        if isinstance(error, ApiError):
            body["message"] = error.message
            if error.problems is not None:
                body["problems"] = error.problems
        elif isinstance(error, web.HTTPError) and error.log_message:
            body["message"] = error.log_message % error.args if error.args else error.log_message
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(body))
