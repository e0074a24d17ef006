"""The admin panel: server-rendered pages (Jinja2) driven by ``static/panel.js``.

The pages carry what the script needs in ``data-`` attributes: the API's URL, the XSRF
token (browser requests through the API need it, see `base`), and whether the user may
change anything (the buttons are shown only then; the API checks again in any case).

Only a top-level navigation without a session is sent to log in. A script's request
(``fetch``, EventSource, a frame) gets a JSON 403 instead: following the redirect it would
run the whole OAuth exchange, and without the XSRF cookie come back unauthenticated and
start again, minting a hub token on every round.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from jupyterhub.services.auth import HubOAuthCallbackHandler
from tornado import web

from jupyterhub_ov.builds.model.spec import BUILD_TYPES

from ..features.notebooks import model as openvino
from ..scopes import READ_SCOPE
from .base import ApiError, BaseHandler, ServiceContext
from .security import SecurityHeaders, is_navigation

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

_jinja = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=select_autoescape(["html"]),
    enable_async=False,
)


class PageHandler(BaseHandler):
    template = ""

    def namespace(self) -> dict[str, Any]:
        prefix = self.ctx.prefix
        return {
            "prefix": prefix,
            "hub_prefix": self.ctx.hub_prefix,
            "api_url": f"{prefix}api/",
            "static": lambda path: self.static_url(path),
            "xsrf_token": self.xsrf_token.decode("ascii"),
            "user": self.user_name,
            "can_write": self.can_write,
            "build_types": BUILD_TYPES,
        }

    def render_page(self, **extra: Any) -> None:
        html = _jinja.get_template(self.template).render(**self.namespace(), **extra)
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.finish(html)

    def require_page(self) -> bool:
        """Send a browser without a session to log in; False when the page must not render."""
        if not self.current_user:
            if not is_navigation(self.request):
                raise ApiError(403, "Not authenticated: open the page in the browser to log in.")
            self.redirect(self.get_login_url())
            return False
        if not self.has_scope(READ_SCOPE):
            raise web.HTTPError(403, f"{self.user_name} may not see image builds ({READ_SCOPE}).")
        return True

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        if not is_navigation(self.request):
            super().write_error(status_code, **kwargs)  # JSON, as the API's errors
            return
        error = kwargs.get("exc_info", (None, None, None))[1]
        message = self._reason
        if isinstance(error, web.HTTPError) and error.log_message:
            message = error.log_message % error.args if error.args else error.log_message
        ns = self.namespace() if hasattr(self, "ctx") else {}
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.finish(
            _jinja.get_template("error.html").render(**ns, status=status_code, message=message)
        )


class BuildsPage(PageHandler):
    template = "builds.html"

    async def get(self) -> None:
        if self.require_page():
            self.render_page(
                notebooks=self.ctx.notebooks is not None,
                # the operator's defaults, as the "Create Notebook" form's initial values
                notebook_defaults=openvino.NotebookParams(name=""),
            )


class BuildPage(PageHandler):
    template = "build.html"

    async def get(self, build_id: str) -> None:
        if self.require_page():
            self.render_page(build_id=build_id)


class NotFoundPage(PageHandler):
    """Any other path below the prefix (a malformed build id included)."""

    async def admit(self) -> None:
        raise web.HTTPError(404, f"No page {self.request.path}")


class OAuthCallbackHandler(SecurityHeaders, HubOAuthCallbackHandler):
    """JupyterHub's OAuth callback, with the user looked up without blocking the loop.

    Only a navigation completes the exchange (which mints a hub token): a script that
    followed redirects here is refused, so a loop of them mints nothing.
    """

    def initialize(self, context: ServiceContext) -> None:
        self.hub_auth = context.hub_auth

    async def prepare(self) -> None:
        if not is_navigation(self.request):
            raise web.HTTPError(403, "The OAuth callback is for browser navigations only.")
        self.current_user = await self.hub_auth.get_user(self, sync=False) or None
