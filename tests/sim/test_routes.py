"""The router's pure rules (``routes``) and its request heads, table by table."""

from __future__ import annotations

from typing import Any

import pytest
from jupyterhub_ov_sim import routes
from jupyterhub_ov_sim.router import answer, forward_head, host_name, parse_head


def route(name: str, tls: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "metadata": {"name": name, "namespace": "team", "creationTimestamp": spec.pop("at", "")},
        "spec": {"to": {"kind": "Service", "name": "web"}, "port": {"targetPort": "http"}, **spec},
    }
    if tls is not None:
        body["spec"]["tls"] = tls
    return body


@pytest.mark.parametrize(
    ("tls", "https", "http"),
    [
        (None, False, "serve"),
        ({"termination": "edge"}, True, "refuse"),
        ({"termination": "edge", "insecureEdgeTerminationPolicy": "None"}, True, "refuse"),
        ({"termination": "edge", "insecureEdgeTerminationPolicy": "Allow"}, True, "serve"),
        ({"termination": "edge", "insecureEdgeTerminationPolicy": "Redirect"}, True, "redirect"),
    ],
)
def test_a_routes_tls_decides_its_ports(tls: dict | None, https: bool, http: str) -> None:
    rule = routes.route_rule(route("web", tls, host="Web.Example.com", path="/hub"))
    assert (rule.https, rule.http, rule.redirect_code) == (https, http, 302)
    assert (rule.host, rule.path) == ("web.example.com", "/hub")
    assert rule.backend == routes.Backend("team", "web", "http")


def test_a_route_without_a_host_gets_one_of_the_router_domain_and_keeps_it() -> None:
    made = route("hub")
    routes.default_host(made)
    assert made["spec"]["host"] == "hub-team.apps.sim.test"
    given = route("hub", host="hub.example.com")
    routes.default_host(given)
    assert given["spec"]["host"] == "hub.example.com"
    update = route("hub")
    routes.keep_host(update, made)
    assert update["spec"]["host"] == "hub-team.apps.sim.test"


def ingress(tls_hosts: list[str]) -> dict[str, Any]:
    def path(value: str, kind: str, service: str, port: dict) -> dict:
        return {
            "path": value,
            "pathType": kind,
            "backend": {"service": {"name": service, "port": port}},
        }

    return {
        "metadata": {"name": "front", "namespace": "team"},
        "spec": {
            "rules": [
                {
                    "host": "hub.example.com",
                    "http": {
                        "paths": [
                            path("/", "Prefix", "hub", {"name": "http"}),
                            path("/api", "Prefix", "api", {"number": 8081}),
                            path("/exact", "Exact", "exact", {"number": 1}),
                        ]
                    },
                },
                {
                    "host": "*.example.com",
                    "http": {"paths": [path("/", "ImplementationSpecific", "any", {})]},
                },
                {"http": {"paths": [path("/", "Prefix", "fallback", {"number": 2})]}},
            ],
            "tls": [{"hosts": tls_hosts, "secretName": "front-tls"}],
        },
    }


@pytest.mark.parametrize(
    ("host", "path", "service"),
    [
        ("hub.example.com", "/", "hub"),
        ("HUB.example.com", "/hub/login?next=/api", "hub"),
        ("hub.example.com", "/api", "api"),
        ("hub.example.com", "/api/users", "api"),
        ("hub.example.com", "/apis", "hub"),  # Prefix matches whole segments
        ("hub.example.com", "/exact", "exact"),
        ("hub.example.com", "/exact/more", "hub"),
        ("other.example.com", "/x", "any"),  # the wildcard: one label
        ("a.b.example.com", "/x", "fallback"),
        ("elsewhere.org", "/", "fallback"),
    ],
)
def test_ingress_rules_match_the_most_specific_host_and_longest_path(
    host: str, path: str, service: str
) -> None:
    rule = routes.match(routes.ingress_rules(ingress([])), host, path)
    assert rule is not None and rule.backend.service == service


def test_an_ingress_redirects_its_tls_hosts_with_308() -> None:
    rules = routes.ingress_rules(ingress(["hub.example.com"]))
    by_host = {(r.host, r.path): r for r in rules}
    assert by_host[("hub.example.com", "/")].http == "redirect"
    assert by_host[("hub.example.com", "/")].redirect_code == 308
    assert by_host[("*.example.com", "/")].http == "serve"
    assert routes.tls_hosts(ingress(["hub.example.com"])) == [("hub.example.com", "front-tls")]
    assert by_host[("hub.example.com", "/api")].backend == routes.Backend("team", "api", 8081)


def test_routes_win_over_ingresses_and_nothing_matches_elsewhere() -> None:
    via_route = routes.route_rule(route("web", host="hub.example.com"))
    rules = [*routes.ingress_rules(ingress([])), via_route]
    assert routes.match(rules, "hub.example.com", "/api") is via_route
    assert routes.match([via_route], "nope.example.com", "/") is None


def test_the_older_route_holds_a_host_and_the_admitted_one_wins_a_tie() -> None:
    old = route("old", host="h.example.com", at="2026-01-01T00:00:00Z")
    new = route("new", host="h.example.com", at="2026-01-02T00:00:00Z")
    other_path = route("api", host="h.example.com", path="/api", at="2026-01-03T00:00:00Z")
    assert routes.admitted([new, old, other_path]) == {
        ("team", "old"): "",
        ("team", "new"): "team/old",
        ("team", "api"): "",
    }
    first, second = (
        route("b", host="t.example.com", at="x"),
        route("a", host="t.example.com", at="x"),
    )
    first["status"] = routes.route_status(first, "", "then")
    assert routes.admitted([first, second])[("team", "a")] == "team/b"


def test_route_status_is_openshifts_and_keeps_its_transition_time() -> None:
    web = route("web", host="h.example.com")
    status = routes.route_status(web, "", "t1")
    assert status == {
        "ingress": [
            {
                "host": "h.example.com",
                "routerName": "default",
                "routerCanonicalHostname": "router-default.apps.sim.test",
                "wildcardPolicy": "None",
                "conditions": [{"type": "Admitted", "status": "True", "lastTransitionTime": "t1"}],
            }
        ]
    }
    assert routes.route_status(web, "", "t2", status) == status
    refused = routes.route_status(web, "team/old", "t3", status)["ingress"][0]["conditions"][0]
    assert refused == {
        "type": "Admitted",
        "status": "False",
        "reason": "HostAlreadyClaimed",
        "message": "route team/old already exposes h.example.com and is older",
        "lastTransitionTime": "t3",
    }


@pytest.mark.parametrize(
    ("wanted", "port"),
    [("http", 80), (80, 80), ("80", 80), ("web", 80), (8081, 8081), ("nope", None)],
)
def test_the_service_port_a_backend_names(wanted: str | int, port: int | None) -> None:
    service = {
        "spec": {
            "ports": [
                {"name": "http", "port": 80, "targetPort": "web"},
                {"name": "api", "port": 8081, "targetPort": 8081},
            ]
        }
    }
    assert routes.service_port(service, wanted) == port


def test_request_heads_are_parsed_and_forwarded_for_one_request() -> None:
    head = (
        b"GET /hub/?a=1 HTTP/1.1\r\nHost: hub.example.com\r\nConnection: keep-alive\r\n"
        b"X-Forwarded-For: 6.6.6.6\r\nCookie: c=1\r\n\r\n"
    )
    method, target, headers = parse_head(head) or ("", "", [])
    assert (method, target) == ("GET", "/hub/?a=1")
    sent = forward_head(method, target, headers, client="127.0.0.1", proto="https", port=443)
    assert sent.decode().split("\r\n") == [
        "GET /hub/?a=1 HTTP/1.1",
        "Host: hub.example.com",
        "Cookie: c=1",
        "Connection: close",
        "X-Forwarded-Host: hub.example.com",
        "X-Forwarded-Port: 443",
        "X-Forwarded-Proto: https",
        "X-Forwarded-For: 127.0.0.1",
        "Forwarded: for=127.0.0.1;host=hub.example.com;proto=https",
        "",
        "",
    ]
    upgrade = parse_head(b"GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
    assert upgrade is not None
    assert b"Connection: Upgrade\r\n" in forward_head(*upgrade, client="c", proto="http", port=80)
    assert parse_head(b"GET /\r\n\r\n") is None
    assert parse_head(b"GET / HTTP/2\r\n\r\n") is None
    assert parse_head(b"GET / HTTP/1.1\r\nno colon\r\n\r\n") is None
    assert answer(302, "https://h/x").startswith(b"HTTP/1.1 302 Found\r\n")
    assert b"Location: https://h/x\r\n" in answer(302, "https://h/x")


@pytest.mark.parametrize(
    ("value", "host"),
    [("hub.example.com", "hub.example.com"), ("hub.example.com:8443", "hub.example.com"),
     ("[::1]:443", "[::1]"), ("[::1]", "[::1]"), ("", "")],
)  # fmt: skip
def test_the_host_header_without_its_port(value: str, host: str) -> None:
    assert host_name(value) == host
