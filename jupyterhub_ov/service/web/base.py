"""What every handler of the build service shares: the hub identity, scopes, JSON errors.

Identity comes from JupyterHub (`jupyterhub.services.auth.HubOAuth`): an API token in the
``Authorization`` header, or the OAuth cookie of a browser session. The user is resolved in
``prepare`` with the non-blocking call (``get_user(sync=False)``): `HubAuthenticated`'s own
``get_current_user`` would block the event loop on a request to the hub.

Cross-site request forgery: HubOAuth accepts the session cookie on a request that changes
something (and on script requests such as ``fetch`` or EventSource) only with the XSRF
token (``X-XSRFToken`` header or ``_xsrf`` argument); without it the request is not
authenticated at all and gets 403. Token-authenticated requests need no XSRF token.

Request bodies: every handler streams its body (`tornado.web.stream_request_body`), so
`prepare` decides from the headers alone, before any of it is read: a request that may
change something must come from an identity with the write scope (403), declare at most
``max_body_size`` bytes (413) and, where the route takes one, a JSON body (415). A refused
request is answered at once; the body is then received and dropped (up to `DRAIN_LIMIT`), so
a proxy in front (the hub's) delivers that answer instead of its own error for a connection
closed mid-upload. A chunked body is counted while it streams and refused once it passes
the limit. Bodies are parsed by `jsonbody.loads` (depth, numbers, duplicate keys).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jinja2 import Environment
from jupyterhub.services.auth import HubOAuth, HubOAuthenticated, check_scopes
from tornado import web

from jupyterhub_ov.builds.manager import BuildManager
from jupyterhub_ov.digits import is_number
from jupyterhub_ov.errors import Conflict, Invalid, NotFound

from ..scopes import READ_SCOPE, WRITE_SCOPE
from . import jsonbody
from .security import SecurityHeaders

if TYPE_CHECKING:
    from ..feature import Feature

#: the methods of the service's routes that change something (and may carry a body)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: a refused body declared up to this size is received and dropped; beyond, the connection
#: is closed unread
DRAIN_LIMIT = 100 * 1024 * 1024


@dataclass
class ServiceContext:
    """The dependencies handlers receive through tornado's ``initialize``."""

    manager: BuildManager
    hub_auth: HubOAuth
    #: the service's URL prefix, ``/services/<name>/``
    prefix: str
    #: the hub's URL prefix, ``/hub/`` (its static files give the panel the hub's look)
    hub_prefix: str
    max_body_size: int
    keepalive_interval: float
    log: logging.Logger | logging.LoggerAdapter[Any]
    #: the panel's templates: the shell's, and each feature's below its name
    templates: Environment
    #: the features running, in the panel's order
    features: Sequence[Feature] = ()


class ApiError(web.HTTPError):
    """An HTTP error with a message for the client and, for invalid specs, the problems."""

    def __init__(self, status: int, message: str, problems: list[str] | None = None) -> None:
        super().__init__(status, message.replace("%", "%%"))
        self.message = message
        self.problems = problems


@contextmanager
def domain_errors(noun: str) -> Iterator[None]:
    """The shared errors (`jupyterhub_ov.errors`) as HTTP statuses; ``noun`` names what
    was not found."""
    try:
        yield
    except NotFound as e:
        raise ApiError(404, f"No {noun} {e.args[0]!r}.") from None
    except Conflict as e:
        raise ApiError(409, str(e)) from None
    except Invalid as e:
        raise ApiError(422, e.summary, e.problems) from None
    except RecursionError:  # jsonschema on nesting `jsonbody` let through
        raise ApiError(400, "The request body is nested too deeply.") from None


def error_body(status: int, reason: str, error: BaseException | None) -> dict[str, Any]:
    """The JSON of an error answer: status, message and, for invalid requests, problems."""
    body: dict[str, Any] = {"status": status, "message": reason}
    if isinstance(error, ApiError):
        body["message"] = error.message
        if error.problems is not None:
            body["problems"] = error.problems
    elif isinstance(error, web.HTTPError) and error.log_message:
        body["message"] = error.log_message % error.args if error.args else error.log_message
    return body


@web.stream_request_body
class BaseHandler(HubOAuthenticated, SecurityHeaders, web.RequestHandler):
    """Identity, scopes and bodies; subclasses call `require` before doing anything."""

    ctx: ServiceContext
    #: what the route's body is, in messages; None: the route takes no body (empty or {})
    body_name: str | None = None
    #: False: the route answers without asking who calls (the OpenAPI document)
    identified = True
    #: the scopes of this route's reads and writes (a feature's routes may have their own)
    read_scope = READ_SCOPE
    write_scope = WRITE_SCOPE
    _body: bytearray
    _refused = False

    def initialize(self, context: ServiceContext, feature: Feature | None = None) -> None:
        self.ctx = context
        #: the feature whose route this is (None for the service's own)
        self.feature = feature
        self.hub_auth = context.hub_auth
        self._body = bytearray()

    @property
    def manager(self) -> BuildManager:
        return self.ctx.manager

    async def prepare(self) -> None:
        try:
            await self.admit()
        except web.HTTPError as error:
            await self._refuse(error)

    async def admit(self) -> None:
        """Decide from the headers alone: method, identity, and for writes scope and body."""
        method = self.request.method or ""
        implemented = getattr(type(self), method.lower(), None)
        if implemented is getattr(web.RequestHandler, method.lower(), None):
            raise ApiError(405, f"{method} is not allowed here.")
        if self.identified:
            user = await self.hub_auth.get_user(self, sync=False)
            self.current_user = user or None
        if method in WRITE_METHODS:
            self.require_write()  # every write of this service needs the write scope
        if self._declared_length() > self.ctx.max_body_size:
            raise ApiError(413, self._too_large())
        if method in WRITE_METHODS:
            if self.body_name is not None:
                self.check_json_content_type(self.body_name)
            # a chunked body has no declared length: `data_received` counts it and answers
            # 413 itself (the server's own limit would only close the connection)
            self.request.connection.set_max_body_size(DRAIN_LIMIT)  # type: ignore[union-attr]

    def _declared_length(self) -> int:
        length = self.request.headers.get("Content-Length", "0").strip()
        if not is_number(length):
            raise ApiError(400, f"Content-Length {length[:20]!r} is not a number.")
        return int(length)

    def _too_large(self) -> str:
        return f"The request body is larger than {self.ctx.max_body_size} bytes."

    async def _refuse(self, error: web.HTTPError) -> None:
        """Answer ``error`` and drop the body as it arrives (see the module's doc).

        The answer is given only once the request is read: one finished earlier makes
        tornado close the connection, which the hub's proxy may be about to reuse (its
        "socket hang up" 503). A body that is coming is answered at once, then drained.
        """
        headers = self.request.headers
        length = headers.get("Content-Length", "0").strip()
        if not is_number(length) or int(length) > DRAIN_LIMIT:
            raise error  # answered; tornado closes the connection with the body unread
        chunked = "chunked" in headers.get("Transfer-Encoding", "").lower()
        coming = int(length) > 0 or chunked
        if coming and headers.get("Expect", "").lower() == "100-continue":
            raise error  # the client waits to send it: answering and closing is enough
        self.request.connection.set_max_body_size(DRAIN_LIMIT)  # type: ignore[union-attr]
        self._refused = True
        self._body = bytearray()
        method = (self.request.method or "").lower()
        if not coming:

            def deferred(*args: Any) -> None:
                raise error

            setattr(self, method, deferred)  # tornado calls it once the request is read
            return
        data = json.dumps(error_body(error.status_code, error.reason or "", error)).encode()
        self.set_status(error.status_code)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Content-Length", str(len(data)))
        self.write(data)
        await self.flush()
        # tornado calls the route's method once the body is in: it only ends the answer
        setattr(self, method, self._end_refused)

    def _end_refused(self, *args: Any) -> None:
        self.finish()

    async def data_received(self, chunk: bytes) -> None:
        if self._refused or self.request.method not in WRITE_METHODS:
            return  # dropped
        self._body.extend(chunk)
        if len(self._body) > self.ctx.max_body_size:
            await self._refuse(ApiError(413, self._too_large()))

    def json_body(self) -> Any:
        """The route's body as JSON; 400 saying why it is not."""
        try:
            return jsonbody.loads(bytes(self._body))
        except jsonbody.BadJSON as e:
            raise ApiError(400, f"The request body is not valid JSON: {e}") from None

    def take_no_body(self) -> None:
        """422 unless the body of a route that takes none is empty (or ``{}``)."""
        if not self._body.strip():
            return
        if self.request.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            raise ApiError(415, "This request takes no body (or {} as application/json).")
        if self.json_body() != {}:
            raise ApiError(422, "This request takes no parameters.", ["the body must be {}"])

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
        return self.has_scope(self.write_scope)

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
        self.require(self.read_scope)

    def require_write(self) -> None:
        self.require(self.write_scope)

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

    def write_json(self, body: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(body))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        error = kwargs.get("exc_info", (None, None, None))[1]
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(error_body(status_code, self._reason, error)))
