"""The router's rules, pure: Routes and Ingresses → (host, path) → Service port, and statuses.

What the OpenShift router (HAProxy) and an ingress controller compute from the objects, here
without I/O so it is table-tested: a Route without ``spec.host`` is given
``<name>-<namespace>.<ROUTER_DOMAIN>`` on creation (the API server's host allocation); of
two Routes claiming one host and path the older is admitted (created in the same second: the
one admitted already), the newer is not (``HostAlreadyClaimed``); an edge Route serves
HTTPS, and plain HTTP according to ``tls.insecureEdgeTerminationPolicy`` (``Redirect``: 302
to https, ``Allow``: served, else refused); a Route without TLS serves HTTP only. Ingress
rules are served on both ports, and the hosts of its ``spec.tls`` are redirected to https
(308, as ingress-nginx does). Paths: Route paths and Ingress ``Prefix`` paths match whole
segments (``ImplementationSpecific`` as ``Prefix``), ``Exact`` the whole path; the longest
match wins, Routes before Ingresses. Part of the cluster simulator, a test double (see
``jupyterhub_ov_sim``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ROUTER_DOMAIN = "apps.sim.test"
ROUTER_NAME = "default"
ROUTER_CANONICAL_HOSTNAME = f"router-{ROUTER_NAME}.{ROUTER_DOMAIN}"


@dataclass(frozen=True)
class Backend:
    namespace: str
    service: str
    port: str | int  # a Service port's name or number (a Route: its targetPort too)


@dataclass(frozen=True)
class Rule:
    host: str  # "" matches every host; "*.example.com" one label of it
    path: str  # "" or "/" matches every path
    exact: bool
    backend: Backend
    https: bool  # served on the HTTPS port
    http: str  # on the HTTP port: "serve", "redirect" or "refuse"
    redirect_code: int = 302
    route: bool = True  # a Route's rule (else an Ingress's)


def default_host(route: dict[str, Any]) -> None:
    """On creation: a Route without ``spec.host`` gets the router domain's name for it."""
    spec, md = route.setdefault("spec", {}), route["metadata"]
    if not spec.get("host"):
        spec["host"] = f"{md['name']}-{md.get('namespace') or 'default'}.{ROUTER_DOMAIN}"


def keep_host(new: dict[str, Any], old: dict[str, Any]) -> None:
    """On update: an update that leaves the host out keeps the one the Route has."""
    spec = new.setdefault("spec", {})
    if not spec.get("host") and (old.get("spec") or {}).get("host"):
        spec["host"] = old["spec"]["host"]


def route_rule(route: dict[str, Any]) -> Rule:
    md, spec = route["metadata"], route.get("spec") or {}
    tls = spec.get("tls") or {}
    edge = tls.get("termination") == "edge"
    policy = tls.get("insecureEdgeTerminationPolicy") or "None"
    http = "serve" if not edge or policy == "Allow" else "refuse"
    if edge and policy == "Redirect":
        http = "redirect"
    port = ((spec.get("port") or {}).get("targetPort")) or ""
    return Rule(
        host=(spec.get("host") or "").lower(),
        path=spec.get("path") or "",
        exact=False,
        backend=Backend(md.get("namespace", ""), (spec.get("to") or {}).get("name", ""), port),
        https=edge,
        http=http,
    )


def ingress_rules(ingress: dict[str, Any]) -> list[Rule]:
    md, spec = ingress["metadata"], ingress.get("spec") or {}
    namespace = md.get("namespace", "")
    secured = {host.lower() for tls in spec.get("tls") or [] for host in tls.get("hosts") or []}
    rules = []
    for entry in spec.get("rules") or []:
        host = (entry.get("host") or "").lower()
        for path in (entry.get("http") or {}).get("paths") or []:
            service = (path.get("backend") or {}).get("service") or {}
            port = service.get("port") or {}
            backend = Backend(
                namespace, service.get("name", ""), port.get("name") or port.get("number") or ""
            )
            rules.append(
                Rule(
                    host=host,
                    path=path.get("path") or "",
                    exact=path.get("pathType") == "Exact",
                    backend=backend,
                    https=True,
                    http="redirect" if host in secured else "serve",
                    redirect_code=308,
                    route=False,
                )
            )
    return rules


def _is_admitted(route: dict[str, Any]) -> bool:
    entries = (route.get("status") or {}).get("ingress") or []
    return any(
        c.get("type") == "Admitted" and c.get("status") == "True"
        for entry in entries
        if entry.get("routerName") == ROUTER_NAME
        for c in entry.get("conditions") or []
    )


def _seniority(route: dict[str, Any]) -> tuple[str, bool, str]:
    """Older first; at the same second the one already admitted, then by name."""
    md = route["metadata"]
    return md.get("creationTimestamp") or "", not _is_admitted(route), md["name"]


def admitted(routes: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    """(namespace, name) of each Route → "" if admitted, else the Route that holds its host."""
    order = sorted(routes, key=_seniority)
    holders: dict[tuple[str, str], str] = {}
    result: dict[tuple[str, str], str] = {}
    for route in order:
        md, rule = route["metadata"], route_rule(route)
        key = (rule.host, rule.path)
        holder = holders.setdefault(key, f"{md.get('namespace', '')}/{md['name']}")
        mine = f"{md.get('namespace', '')}/{md['name']}"
        result[(md.get("namespace", ""), md["name"])] = "" if holder == mine else holder
    return result


def route_status(
    route: dict[str, Any], holder: str, stamp: str, previous: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``status`` as the OpenShift router writes it: one ingress entry with ``Admitted``."""
    condition: dict[str, Any] = {"type": "Admitted", "status": "False" if holder else "True"}
    if holder:
        condition["reason"] = "HostAlreadyClaimed"
        condition["message"] = (
            f"route {holder} already exposes {route['spec']['host']} and is older"
        )
    old = [c for e in (previous or {}).get("ingress") or [] for c in e.get("conditions") or []]
    same = old and {k: v for k, v in old[0].items() if k != "lastTransitionTime"} == condition
    condition["lastTransitionTime"] = old[0].get("lastTransitionTime", stamp) if same else stamp
    entry = {
        "host": route["spec"]["host"],
        "routerName": ROUTER_NAME,
        "routerCanonicalHostname": ROUTER_CANONICAL_HOSTNAME,
        "wildcardPolicy": (route.get("spec") or {}).get("wildcardPolicy") or "None",
        "conditions": [condition],
    }
    return {"ingress": [entry]}


def _host_matches(pattern: str, host: str) -> bool:
    if not pattern or pattern == host:
        return True
    return pattern.startswith("*.") and host.partition(".")[2] == pattern[2:]


def _path_matches(rule: Rule, path: str) -> bool:
    if rule.exact:
        return path == rule.path
    prefix = rule.path.rstrip("/")
    return not prefix or path == prefix or path.startswith(prefix + "/")


def match(rules: list[Rule], host: str, path: str) -> Rule | None:
    """The rule serving ``host`` and ``path``: exact hosts before wildcards, longest path."""
    host, path = host.lower(), path.partition("?")[0] or "/"
    found = [r for r in rules if _host_matches(r.host, host) and _path_matches(r, path)]
    if not found:
        return None
    return max(found, key=lambda r: (r.route, r.host == host, bool(r.host), len(r.path), r.exact))


def service_port(service: dict[str, Any], wanted: str | int) -> int | None:
    """The Service port a Route's targetPort or an Ingress backend's port names."""
    for port in (service.get("spec") or {}).get("ports") or []:
        if wanted in (port.get("name"), port.get("port"), port.get("targetPort")):
            return int(port["port"])
        if isinstance(wanted, str) and wanted.isdigit() and int(wanted) == port.get("port"):
            return int(port["port"])
    return None


def tls_hosts(ingress: dict[str, Any]) -> list[tuple[str, str]]:
    """(host, Secret name) for each host of an Ingress's ``spec.tls``."""
    return [
        (host.lower(), tls.get("secretName") or "")
        for tls in (ingress.get("spec") or {}).get("tls") or []
        for host in tls.get("hosts") or []
    ]
