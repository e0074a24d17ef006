"""Clients that reach the simulator's router by host name, verifying TLS against its CA.

Every Route and Ingress host lives on the router's one address, as a wildcard DNS record of
a real cluster would put them: ``RouterResolver`` resolves every name to it for aiohttp, and
``routed_session`` gives requests a session whose connections for ``hosts`` go there (TLS
with the host's name for SNI and for checking the certificate; the ``Host`` header as sent).
"""

from __future__ import annotations

import socket
import ssl
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from aiohttp.abc import AbstractResolver, ResolveResult
from requests.adapters import HTTPAdapter


class RouterResolver(AbstractResolver):
    """Resolves every host name to the router's address (as ``*.apps`` DNS would)."""

    def __init__(self, address: str) -> None:
        self.address = address

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            {
                "hostname": host, "host": self.address, "port": port,
                "family": socket.AF_INET, "proto": 0, "flags": socket.AI_NUMERICHOST,
            }
        ]  # fmt: skip

    async def close(self) -> None:
        pass


def client_context(ca_file: Path) -> ssl.SSLContext:
    """Trusts the simulator's CA only (and checks host names)."""
    return ssl.create_default_context(cafile=str(ca_file))


class _RouterAdapter(HTTPAdapter):
    """Connects to the router's address whatever the URL's host; TLS still checks that host."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def get_connection_with_tls_context(
        self, request: Any, verify: Any, proxies: Any = None, cert: Any = None
    ) -> Any:
        host_params, pool_kwargs = self.build_connection_pool_key_attributes(request, verify, cert)
        if host_params["scheme"] == "https":
            pool_kwargs["server_hostname"] = host_params["host"]
            pool_kwargs["assert_hostname"] = host_params["host"]
        host_params["host"] = self.address
        return self.poolmanager.connection_from_host(**host_params, pool_kwargs=pool_kwargs)

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        request.headers["Host"] = urlsplit(request.url).netloc
        return super().send(request, *args, **kwargs)


def routed_session(address: str, ca_file: Path, hosts: list[str]) -> requests.Session:
    """A requests session reaching ``hosts`` through the router, trusting its CA only."""
    session = requests.Session()
    session.verify = str(ca_file)
    session.trust_env = False  # else $REQUESTS_CA_BUNDLE replaces verify, $HTTPS_PROXY is used
    adapter = _RouterAdapter(address)
    for host in hosts:
        session.mount(f"https://{host}", adapter)
        session.mount(f"http://{host}", adapter)
    return session
