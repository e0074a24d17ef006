"""The admin panel's shell: server-rendered pages (Jinja2) on which features' sections and
scripts sit, the login callback, and the page for any unknown path.

The pages carry what the scripts need in ``data-`` attributes: the API's URL, the XSRF
token (browser requests through the API need it, see `base`), and whether the user may
change anything (the buttons are shown only then; the API checks again in any case). The
shell's ``static/panel.js`` gives the features' scripts what they share (``window.OVPanel``).

Only a top-level navigation without a session is sent to log in. A script's request
(``fetch``, EventSource, a frame) gets a JSON 403 instead: following the redirect it would
run the whole OAuth exchange, and without the XSRF cookie come back unauthenticated and
start again, minting a hub token on every round.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, select_autoescape
from jupyterhub.services.auth import HubOAuthCallbackHandler
from tornado import web

from ..scopes import READ_SCOPE
from .base import ApiError, BaseHandler, ServiceContext
from .security import SecurityHeaders, is_navigation

if TYPE_CHECKING:
    from ..feature import Feature

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


def templates(features: Sequence[Feature]) -> Environment:
    """The shell's templates, and each feature's as ``<name>/<file>``."""
    by_feature = {f.name: FileSystemLoader(str(f.directory() / "templates")) for f in features}
    return Environment(
        loader=ChoiceLoader([FileSystemLoader(str(TEMPLATES)), PrefixLoader(by_feature)]),
        autoescape=select_autoescape(["html"]),
        enable_async=False,
    )


def static_url(prefix: str, path: str, feature: Feature | None = None) -> str:
    """The versioned URL (``?v=<hash>``) of a file of the shell's ``static/`` directory, or
    of a feature's (served below ``static/<feature>/``)."""
    directory, below = (
        (STATIC, "") if feature is None else (feature.directory() / "static", f"{feature.name}/")
    )
    settings = {"static_path": str(directory), "static_url_prefix": f"{prefix}static/{below}"}
    return web.StaticFileHandler.make_static_url(settings, path)


class PageHandler(BaseHandler):
    template = ""

    def namespace(self) -> dict[str, Any]:
        prefix = self.ctx.prefix
        return {
            "prefix": prefix,
            "hub_prefix": self.ctx.hub_prefix,
            "api_url": f"{prefix}api/",
            "static": lambda path: static_url(prefix, path),
            "xsrf_token": self.xsrf_token.decode("ascii"),
            "user": self.user_name,
            "can_write": self.can_write,
            # a feature's section may check its own scopes
            "has_scope": self.has_scope,
        }

    def render_page(self, **extra: Any) -> None:
        template = self.ctx.templates.get_template(self.template)
        html = template.render(**self.namespace(), **extra)
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
        page = self.ctx.templates.get_template("error.html")
        self.finish(page.render(**ns, status=status_code, message=message))


class PanelPage(PageHandler):
    """The panel's home page: each feature's section, in the order of the features."""

    template = "panel.html"

    async def get(self) -> None:
        if not self.require_page():
            return
        sections: list[str] = []
        scripts: list[str] = []
        names: dict[str, Any] = {}  # the sections' variables (each feature names its own)
        for feature in self.ctx.features:
            section = feature.panel()
            if section is None:
                continue
            sections.append(f"{feature.name}/{section.template}")
            prefix = self.ctx.prefix
            scripts += [static_url(prefix, path, feature) for path in section.scripts]
            names.update(feature.panel_namespace())
        self.render_page(sections=sections, scripts=scripts, **names)


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
