"""The router: Routes and Ingresses applied with kubectl, served over verified TLS to a pod.

A tiny HTTP + websocket server runs as a Deployment's pod behind a Service; a Route (edge
TLS, redirecting plain HTTP) and an Ingress (its TLS Secret signed by the simulator's CA)
point at it. Clients resolve every host name to the router's address and trust the
simulator's CA only.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from typing import Any

import aiohttp
import pytest
from jupyterhub_ov_sim.cluster import SimulatedCluster
from jupyterhub_ov_sim.router import Router
from kubernetes_asyncio import client

from .helpers import Kubectl, watch_until
from .routing import RouterResolver, client_context, routed_session
from .test_deployments import converged
from .workloads import PY, service

#: answers plain requests with what it received, echoes websocket messages
ECHO = """
import asyncio, json, sys
from websockets.asyncio.server import serve
async def echo(ws):
    async for message in ws:
        await ws.send("echo:" + message)
def answer(connection, request):
    if request.headers.get("Upgrade", "").lower() != "websocket":
        headers = {k.lower(): v for k, v in request.headers.raw_items()}
        body = {"path": request.path, "headers": headers}
        return connection.respond(200, json.dumps(body))
async def main():
    async with serve(echo, sys.argv[2], int(sys.argv[1]), process_request=answer) as server:
        await server.serve_forever()
asyncio.run(main())
"""
ROUTE_HOST = "web-default.apps.sim.test"
INGRESS_HOST = "web.example.test"


def echo_deployment() -> dict[str, Any]:
    container = {
        "name": "web",
        "image": "sim/echo:1",
        "command": [PY, "-c", ECHO, "8080", "0.0.0.0"],
        "ports": [{"name": "http", "containerPort": 8080}],
        "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 1},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [container]},
            },
        },
    }


def route(name: str, host: str = "") -> dict[str, Any]:
    spec: dict[str, Any] = {
        "to": {"kind": "Service", "name": "web"},
        "port": {"targetPort": "http"},
        "tls": {"termination": "edge", "insecureEdgeTerminationPolicy": "Redirect"},
    }
    if host:
        spec["host"] = host
    return {
        "apiVersion": "route.openshift.io/v1",
        "kind": "Route",
        "metadata": {"name": name},
        "spec": spec,
    }


def ingress() -> dict[str, Any]:
    backend = {"service": {"name": "web", "port": {"number": 9000}}}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web"},
        "spec": {
            "rules": [
                {
                    "host": INGRESS_HOST,
                    "http": {"paths": [{"path": "/app", "pathType": "Prefix", "backend": backend}]},
                }
            ],
            "tls": [{"hosts": [INGRESS_HOST], "secretName": "web-tls"}],
        },
    }


def admitted(obj: dict[str, Any]) -> bool:
    entries = (obj.get("status") or {}).get("ingress") or [{}]
    return bool(entries[0].get("conditions"))


@pytest.fixture
async def web(
    sim_cluster: SimulatedCluster, kubectl: Kubectl, api_client: client.ApiClient
) -> Router:
    """The echo server behind the Service ``web`` (port 9000), ready; the cluster's router."""
    await kubectl("apply", "-f", "-", stdin=json.dumps(echo_deployment()))
    await kubectl("apply", "-f", "-", stdin=json.dumps(service()))
    apps = client.AppsV1Api(api_client)
    await watch_until(
        apps.list_namespaced_deployment, "default", name="web", predicate=converged(1)
    )
    assert sim_cluster.router is not None
    return sim_cluster.router


def session(router: Router) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(
        resolver=RouterResolver(router.address), ssl=client_context(router.ca_file)
    )
    return aiohttp.ClientSession(connector=connector)


async def test_an_edge_route_is_admitted_and_served_over_tls(
    web: Router, kubectl: Kubectl, custom: client.CustomObjectsApi
) -> None:
    assert "route.route.openshift.io/web created" in await kubectl(
        "apply", "-f", "-", stdin=json.dumps(route("web"))
    )
    found = await watch_until(
        custom.list_namespaced_custom_object, "route.openshift.io", "v1", "default", "routes",
        name="web", predicate=admitted,
    )  # fmt: skip
    assert found["spec"]["host"] == ROUTE_HOST
    (entry,) = found["status"]["ingress"]
    assert entry["host"] == ROUTE_HOST and entry["routerName"] == "default"
    assert entry["routerCanonicalHostname"] == "router-default.apps.sim.test"
    (condition,) = entry["conditions"]
    assert condition["type"] == "Admitted" and condition["status"] == "True"
    assert condition["lastTransitionTime"]

    async with session(web) as http:
        async with http.get(f"{web.https_url(ROUTE_HOST)}/some/path?q=1") as answer:
            assert answer.status == 200
            seen = json.loads(await answer.text())
        assert seen["path"] == "/some/path?q=1"
        assert seen["headers"]["host"] == ROUTE_HOST
        assert seen["headers"]["x-forwarded-proto"] == "https"
        assert seen["headers"]["connection"] == "close"
        # plain HTTP is redirected (insecureEdgeTerminationPolicy: Redirect)
        async with http.get(f"{web.http_url(ROUTE_HOST)}/lab?x=1", allow_redirects=False) as plain:
            assert plain.status == 302
            assert plain.headers["Location"] == f"{web.https_url(ROUTE_HOST)}/lab?x=1"
        # the websocket upgrade passes through the router, both ways
        async with http.ws_connect(f"{web.https_url(ROUTE_HOST).replace('https', 'wss')}/ws") as ws:
            for text in ("one", "two"):
                await ws.send_str(text)
                assert (await ws.receive_str()) == f"echo:{text}"
        async with http.get(f"{web.https_url('nothing.apps.sim.test')}/") as missing:
            assert missing.status == 503


async def test_the_router_certificate_is_refused_without_the_simulators_ca(
    web: Router, kubectl: Kubectl
) -> None:
    await kubectl("apply", "-f", "-", stdin=json.dumps(route("web")))
    connector = aiohttp.TCPConnector(
        resolver=RouterResolver(web.address), ssl=ssl.create_default_context()
    )
    async with aiohttp.ClientSession(connector=connector) as http:
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await http.get(f"{web.https_url(ROUTE_HOST)}/")


async def test_a_younger_route_for_a_claimed_host_is_not_admitted(
    web: Router, kubectl: Kubectl, custom: client.CustomObjectsApi
) -> None:
    await kubectl("apply", "-f", "-", stdin=json.dumps(route("web")))
    await kubectl("apply", "-f", "-", stdin=json.dumps(route("copycat", host=ROUTE_HOST)))
    found = await watch_until(
        custom.list_namespaced_custom_object, "route.openshift.io", "v1", "default", "routes",
        name="copycat", predicate=admitted,
    )  # fmt: skip
    (condition,) = found["status"]["ingress"][0]["conditions"]
    assert (condition["status"], condition["reason"]) == ("False", "HostAlreadyClaimed")
    assert "default/web" in condition["message"]


async def test_an_ingress_serves_its_tls_secret_and_redirects_plain_http(
    web: Router, kubectl: Kubectl, tmp_path: Any, api_client: client.ApiClient
) -> None:
    cert, key = web.ca.issue([INGRESS_HOST])
    (tmp_path / "tls.crt").write_bytes(cert)
    (tmp_path / "tls.key").write_bytes(key)
    await kubectl(
        "create",
        "secret",
        "tls",
        "web-tls",
        f"--cert={tmp_path / 'tls.crt'}",
        f"--key={tmp_path / 'tls.key'}",
    )
    assert "ingress.networking.k8s.io/web created" in await kubectl(
        "apply", "-f", "-", stdin=json.dumps(ingress())
    )
    networking = client.NetworkingV1Api(api_client)
    found = await watch_until(
        networking.list_namespaced_ingress, "default", name="web",
        predicate=lambda o: bool((o.get("status") or {}).get("loadBalancer")),
    )  # fmt: skip
    assert found["status"]["loadBalancer"]["ingress"] == [{"ip": web.address}]

    async with session(web) as http:
        async with http.get(f"{web.https_url(INGRESS_HOST)}/app/x") as answer:
            assert answer.status == 200, await answer.text()
            assert json.loads(await answer.text())["path"] == "/app/x"
        _, writer = await asyncio.open_connection(
            web.address,
            web.https_port,
            ssl=client_context(web.ca_file),
            server_hostname=INGRESS_HOST,
        )
        presented = writer.get_extra_info("peercert")
        writer.close()
        assert presented["subjectAltName"] == (
            ("DNS", INGRESS_HOST),
        )  # the Secret's, not the default
        async with http.get(f"{web.https_url(INGRESS_HOST)}/application") as other:
            assert other.status == 503  # Prefix matches whole path segments
        async with http.get(f"{web.http_url(INGRESS_HOST)}/app", allow_redirects=False) as plain:
            assert plain.status == 308
            assert plain.headers["Location"] == f"{web.https_url(INGRESS_HOST)}/app"


async def test_requests_reach_a_route_by_its_host_name(web: Router, kubectl: Kubectl) -> None:
    """tests/sim/routing.py's session for requests (the platform-in-a-box test uses it)."""
    await kubectl("apply", "-f", "-", stdin=json.dumps(route("web")))
    with routed_session(web.address, web.ca_file, [ROUTE_HOST]) as http:
        answer = await asyncio.to_thread(http.get, f"{web.http_url(ROUTE_HOST)}/hub/x?y=1")
    assert answer.status_code == 200 and answer.history[0].status_code == 302
    assert answer.url == f"{web.https_url(ROUTE_HOST)}/hub/x?y=1"
    assert json.loads(answer.text)["headers"]["host"] == ROUTE_HOST
