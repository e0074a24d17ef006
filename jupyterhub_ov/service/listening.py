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

#: the sockets bound so far, by (host, port)
_bound: dict[tuple[str, int], socket.socket] = {}


def address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def bind_early(environ: dict[str, str] | None = None) -> None:
    """Bind $JUPYTERHUB_SERVICE_URL's address, if set, for `take`. A failure (a busy port)
    is left for the service's own bind to report."""
    url = (os.environ if environ is None else environ).get("JUPYTERHUB_SERVICE_URL")
    if not url:
        return
    host, port = address(url)
    try:
        sock = socket.create_server((host, port), backlog=128)
    except OSError:
        return
    sock.setblocking(False)
    _bound[(host, port)] = sock


def take(url: str) -> socket.socket | None:
    """The socket bound early for ``url``'s address, once; others are closed (the service
    was configured to listen elsewhere)."""
    sock = _bound.pop(address(url), None)
    for other in _bound.values():
        other.close()
    _bound.clear()
    return sock
