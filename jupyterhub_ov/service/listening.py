"""The service's listening socket, bound the moment the process starts.

The hub gives a managed service about ten seconds (ten one-second checks) to answer HTTP and
exits when it does not. Importing the service (tornado, SQLAlchemy, the Kubernetes and S3
clients, every feature) takes seconds of CPU, which a busy node stretches past that limit. A
socket that is already listening holds each check open instead (the connection waits in the
kernel's backlog), until the service, started, answers it. So ``__main__`` binds it first,
with nothing but the standard library imported, and the service takes it when it starts.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

#: the socket bound early, with the address it listens on
_early: tuple[tuple[str, int], socket.socket] | None = None


def address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def bind_early(environ: dict[str, str] | None = None) -> None:
    """Bind $JUPYTERHUB_SERVICE_URL's address, if set, for `take`. A failure (a busy port)
    is left for the service's own bind to report."""
    global _early
    url = (os.environ if environ is None else environ).get("JUPYTERHUB_SERVICE_URL")
    if not url:
        return
    where = address(url)
    try:
        sock = socket.create_server(where, backlog=128)
    except OSError:
        return
    sock.setblocking(False)
    _early = (where, sock)


def take(url: str) -> socket.socket | None:
    """The socket bound early for ``url``'s address, once; one bound elsewhere is closed
    (the service was configured to listen elsewhere)."""
    global _early
    if _early is None:
        return None
    (where, sock), _early = _early, None
    if where == address(url):
        return sock
    sock.close()
    return None
