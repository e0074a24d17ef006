"""The headers every answer of the service carries, and what counts as a browser navigation.

Unless the hub runs with ``c.JupyterHub.subdomain_host``, every user's own server is
same-origin with the hub and so with this service: a page a user serves could frame the
panel, or script requests to it with the cookies of whoever opens that page. The headers
stop the framing (``frame-ancestors 'none'``, ``X-Frame-Options``), scripts from anywhere
but the service's own files (``script-src 'self'``) and content sniffing; a script on the
same origin can still call the API with ``fetch`` (the XSRF token, see `base`, is what
stops it writing), which only ``subdomain_host`` prevents (docs/builder.md).
"""

from __future__ import annotations

from tornado import httputil, web

#: the panel loads its scripts and styles from the service and the hub (same origin); the
#: hub's stylesheet (Bootstrap) draws its form icons from data: URIs
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class SecurityHeaders(web.RequestHandler):
    """Mixin: `SECURITY_HEADERS` on every answer, errors and redirects included (tornado
    sets the default headers again when it clears a response for an error page)."""

    def set_default_headers(self) -> None:
        super().set_default_headers()
        for name, value in SECURITY_HEADERS.items():
            self.set_header(name, value)


class StaticFiles(SecurityHeaders, web.StaticFileHandler):
    """The panel's scripts and styles, with the headers."""


class Redirect(SecurityHeaders, web.RedirectHandler):
    """``/services/<name>`` to ``/services/<name>/``, with the headers."""


def is_navigation(request: httputil.HTTPServerRequest) -> bool:
    """Whether the request is a top-level browser navigation (a page to render, or to send
    to log in), not a script's ``fetch``/XHR/EventSource or a frame.

    Browsers send ``Sec-Fetch-Mode``/``Sec-Fetch-Dest``; older clients only ``Accept`` or
    ``X-Requested-With``. A request with none of them (curl, requests) counts as a navigation.
    """
    headers = request.headers
    if headers.get("X-Requested-With"):
        return False
    if headers.get("Sec-Fetch-Mode", "navigate") != "navigate":
        return False
    if headers.get("Sec-Fetch-Dest", "document") != "document":
        return False
    accept = headers.get("Accept", "")
    return not accept or "text/html" in accept or "*/*" in accept
