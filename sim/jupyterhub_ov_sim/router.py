"""The simulator's router: Routes and Ingresses served on one loopback address.

What the OpenShift router or an ingress controller does, here as two asyncio servers on an
address of the Service network (``Router.address``, e.g. 127.96.7.1; reserved from the
cluster-IP pool, so no Service ever gets it): HTTPS on port 443 and HTTP on port 80 (when
not root: free ports, ``Router.https_port``/``http_port``). Every host name of every Route
and Ingress is served there, dispatched by the request's ``Host`` header (and TLS by SNI),
so a client resolves all of them to ``Router.address`` (``curl --resolve``, Chromium's
``--host-resolver-rules``, a test's own adapter). TLS ends at the router (edge): the
certificate is the Route's ``spec.tls.certificate``, the Ingress's ``spec.tls`` Secret
(``tls.crt``/``tls.key``), or the default one signed by the simulator's CA
(``routercerts``; clients trust ``Router.ca_file``); the request then goes, plain HTTP, to
the Service's ``clusterIP:port`` (the Service forwarder; a real router goes to the
endpoints). The rules are ``routes``'s. Each connection carries one request (the router
asks the backend to close after it), except an ``Upgrade`` (websockets), which stays a
tunnel until either side closes. The router writes each Route's ``status.ingress``
(``Admitted``) and each Ingress's ``status.loadBalancer``. Part of the cluster simulator.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import hashlib
import logging
import os
import ssl
from pathlib import Path
from typing import Any

from . import routes
from .controller import Reconciler
from .errors import ApiError
from .forwarder import _pipe
from .kinds import ResourceKind
from .meta import now
from .routercerts import RouterCA, server_context
from .store import ObjectStore
from .watchcache import WatchEvent

log = logging.getLogger(__name__)
_DROPPED = {"connection", "keep-alive", "forwarded", "proxy-connection"}
_REASONS = {302: "Found", 308: "Permanent Redirect", 400: "Bad Request", 503: "Service Unavailable"}


def parse_head(head: bytes) -> tuple[str, str, list[tuple[str, str]]] | None:
    """(method, target, headers) of an HTTP/1.x request head; None if it is not one."""
    try:
        lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
        method, target, version = lines[0].split(" ")
    except ValueError:
        return None
    if not version.startswith("HTTP/1."):
        return None
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            return None
        headers.append((name.strip(), value.strip()))
    return method, target, headers


def header(headers: list[tuple[str, str]], name: str) -> str:
    return next((value for key, value in headers if key.lower() == name), "")


def host_name(value: str) -> str:
    """The host of a ``Host`` header, without its port."""
    name, sep, port = value.rpartition(":")
    return name if sep and port.isdigit() and not value.endswith("]") else value


def forward_head(
    method: str, target: str, headers: list[tuple[str, str]], *, client: str, proto: str, port: int
) -> bytes:
    """The head sent to the backend: X-Forwarded-* as the router sets them, one request only."""
    upgrade = "upgrade" in header(headers, "connection").lower() and header(headers, "upgrade")
    host = header(headers, "host")
    kept = [
        (k, v)
        for k, v in headers
        if k.lower() not in _DROPPED and not k.lower().startswith("x-forwarded-")
    ]
    kept += [
        ("Connection", "Upgrade" if upgrade else "close"),
        ("X-Forwarded-Host", host),
        ("X-Forwarded-Port", str(port)),
        ("X-Forwarded-Proto", proto),
        ("X-Forwarded-For", client),
        ("Forwarded", f"for={client};host={host};proto={proto}"),
    ]
    lines = [f"{method} {target} HTTP/1.1", *(f"{k}: {v}" for k, v in kept), "", ""]
    return "\r\n".join(lines).encode("latin-1")


def answer(code: int, location: str = "") -> bytes:
    body = f"{code} {_REASONS[code]}\n".encode()
    lines = [f"HTTP/1.1 {code} {_REASONS[code]}", "Content-Type: text/plain"]
    lines += [f"Location: {location}"] if location else []
    lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
    return "\r\n".join(lines).encode() + body


class Router(Reconciler):
    component = "router"
    watched = (
        ("route.openshift.io", "v1", "routes"),
        ("networking.k8s.io", "v1", "ingresses"),
        ("", "v1", "secrets"),
    )

    def __init__(
        self, store: ObjectStore, directory: Path, http_port: int | None = None,
        https_port: int | None = None,
    ) -> None:  # fmt: skip
        """Ports: None is 80 and 443 as root, else a free one."""
        super().__init__(store)
        self.directory = directory
        root = os.geteuid() == 0
        self.http_port = (80 if root else 0) if http_port is None else http_port
        self.https_port = (443 if root else 0) if https_port is None else https_port
        self.route_kind = self.kind("route.openshift.io", "v1", "routes")
        self.ingress_kind = self.kind("networking.k8s.io", "v1", "ingresses")
        self.service_kind = self.kind("", "v1", "services")
        self.secret_kind = self.kind("", "v1", "secrets")
        self.address = ""
        self.rules: list[routes.Rule] = []
        self._contexts: dict[str, ssl.SSLContext] = {}  # host → its certificate's context
        self._cache: dict[str, ssl.SSLContext] = {}  # certificate digest → context
        self._servers: list[asyncio.Server] = []
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def ca_file(self) -> Path:
        return self.ca.ca_file

    def https_url(self, host: str) -> str:
        suffix = "" if self.https_port == 443 else f":{self.https_port}"
        return f"https://{host}{suffix}"

    def http_url(self, host: str) -> str:
        suffix = "" if self.http_port == 80 else f":{self.http_port}"
        return f"http://{host}{suffix}"

    async def start(self) -> None:
        self.ca = await asyncio.to_thread(RouterCA, self.directory)
        self._default = await asyncio.to_thread(self.ca.default_context)
        self._default.sni_callback = self._pick_certificate
        self.address = self.store.service_ips.allocate()
        for port, tls in ((self.http_port, None), (self.https_port, self._default)):
            handler = functools.partial(self._serve, secure=tls is not None)
            server = await asyncio.start_server(handler, self.address, port, ssl=tls)
            self._servers.append(server)
        self.http_port = self._servers[0].sockets[0].getsockname()[1]
        self.https_port = self._servers[1].sockets[0].getsockname()[1]
        await super().start()

    async def stop(self) -> None:
        await super().stop()
        for server in self._servers:
            server.close()
        for writer in list(self._writers):
            writer.close()
        for server in self._servers:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), 2)
        self._servers.clear()
        if self.address:
            self.store.service_ips.release(self.address)

    # -- the rules and the statuses --------------------------------------------------------

    def on_event(self, kind: ResourceKind, event: WatchEvent) -> None:
        self.enqueue("", "")  # every object takes part in every other's rules: all at once

    def reconcile(self, namespace: str, name: str) -> None:
        rules: list[routes.Rule] = []
        contexts: dict[str, ssl.SSLContext] = {}
        found, _ = self.store.list_objects(self.route_kind, None)
        verdicts = routes.admitted(found)
        for route in found:
            md = route["metadata"]
            holder = verdicts[(md.get("namespace", ""), md["name"])]
            status = routes.route_status(route, holder, now(), route.get("status"))
            if status != (route.get("status") or {}):
                self.merge_status(self.route_kind, route, status)
            if holder:
                continue
            rules.append(routes.route_rule(route))
            tls = (route.get("spec") or {}).get("tls") or {}
            if tls.get("certificate") and tls.get("key"):
                chain = tls["certificate"] + "\n" + (tls.get("caCertificate") or "")
                context = self._context(chain.encode(), tls["key"].encode())
                if context is not None:
                    contexts[route["spec"]["host"].lower()] = context
        ingresses, _ = self.store.list_objects(self.ingress_kind, None)
        for ingress in ingresses:
            rules += routes.ingress_rules(ingress)
            for host, secret in routes.tls_hosts(ingress):
                if context := self._secret_context(
                    ingress["metadata"].get("namespace", ""), secret
                ):
                    contexts[host] = context
            status = {"loadBalancer": {"ingress": [{"ip": self.address}]}}
            if (ingress.get("status") or {}) != status:
                self.merge_status(self.ingress_kind, ingress, status)
        self.rules, self._contexts = rules, contexts

    def _secret_context(self, namespace: str, name: str) -> ssl.SSLContext | None:
        try:
            data = self.store.get(self.secret_kind, namespace, name).get("data") or {}
            cert, key = (base64.b64decode(data[k]) for k in ("tls.crt", "tls.key"))
        except (ApiError, KeyError, ValueError):
            return None  # no usable Secret: the host is served with the default certificate
        return self._context(cert, key)

    def _context(self, cert: bytes, key: bytes) -> ssl.SSLContext | None:
        digest = hashlib.sha256(cert + b"\0" + key).hexdigest()
        if digest not in self._cache:
            try:
                self._cache[digest] = server_context(cert, key, self.directory / f"{digest}.pem")
            except (ssl.SSLError, ValueError) as error:
                log.warning("router: a certificate or key is not usable: %s", error)
                return None
        return self._cache[digest]

    def _pick_certificate(self, sslobj: ssl.SSLObject, name: str | None, _: Any) -> None:
        host = (name or "").lower()
        wildcard = "*." + host.partition(".")[2]
        context = self._contexts.get(host) or self._contexts.get(wildcard)
        if context is not None:
            sslobj.context = context

    # -- the traffic -----------------------------------------------------------------------

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, secure: bool
    ) -> None:
        self._writers.add(writer)
        upstream: asyncio.StreamWriter | None = None
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            upstream = await self._dispatch(head, reader, writer, secure)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            pass
        except (ConnectionError, OSError, ssl.SSLError):
            pass
        finally:
            for w in (writer, upstream):
                if w is not None:
                    self._writers.discard(w)
                    w.close()
                    with contextlib.suppress(ConnectionError, OSError, ssl.SSLError):
                        await w.wait_closed()

    async def _dispatch(
        self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, secure: bool
    ) -> asyncio.StreamWriter | None:
        request = parse_head(head)
        if request is None:
            writer.write(answer(400))
            return None
        method, target, headers = request
        host = host_name(header(headers, "host"))
        served = [r for r in self.rules if (r.https if secure else r.http != "refuse")]
        rule = routes.match(served, host, target)
        if rule is not None and not secure and rule.http == "redirect":
            writer.write(answer(rule.redirect_code, self.https_url(host) + target))
            return None
        connection = await self._connect(rule.backend) if rule is not None else None
        if connection is None:
            writer.write(answer(503))
            return None
        up_reader, up_writer = connection
        self._writers.add(up_writer)
        peer = writer.get_extra_info("peername") or ("", 0)
        port = self.https_port if secure else self.http_port
        proto = "https" if secure else "http"
        up_writer.write(
            forward_head(method, target, headers, client=peer[0], proto=proto, port=port)
        )
        going = asyncio.create_task(_pipe(reader, up_writer))
        try:
            await _pipe(up_reader, writer)  # the backend's answer ends the exchange
        finally:
            going.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await going
        return up_writer

    async def _connect(
        self, backend: routes.Backend
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        try:
            service = self.store.get(self.service_kind, backend.namespace, backend.service)
        except ApiError:
            return None
        port = routes.service_port(service, backend.port)
        ip = (service.get("spec") or {}).get("clusterIP")
        if port is None or not ip or ip == "None":
            return None
        try:
            return await asyncio.wait_for(asyncio.open_connection(ip, port), 5)
        except (TimeoutError, OSError):
            return None
