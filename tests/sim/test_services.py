"""Services through real clients: a cluster IP, endpoints of the ready pods only, a forwarder
on the cluster IP, and the Service variables a later pod gets and reaches the Service by."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import aiohttp
from kubernetes_asyncio import client
from kubernetes_asyncio.client import ApiException

from .conftest import Cluster
from .helpers import Kubectl, status_of, watch_until
from .test_deployments import converged
from .workloads import PY, deployment, pod, ready, service, web_container

CLIENT = """
import os, urllib.request
host, port = os.environ["WEB_SERVICE_HOST"], os.environ["WEB_SERVICE_PORT"]
print("via", host, port, os.environ["WEB_SERVICE_PORT_HTTP"], os.environ["WEB_PORT"])
print("answer", urllib.request.urlopen(f"http://{host}:{port}/", timeout=5).read().decode())
"""


def ips(addresses: list[dict[str, Any]] | None) -> set[str]:
    return {a["ip"] for a in addresses or []}


async def test_service_endpoints_forwarding_and_variables(
    cluster: Cluster, kubectl: Kubectl, api_client: client.ApiClient
) -> None:
    core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
    discovery = client.DiscoveryV1Api(api_client)
    await kubectl("apply", "-f", "-", stdin=json.dumps(deployment(2)))
    await watch_until(
        apps.list_namespaced_deployment, "default", name="web", predicate=converged(2)
    )
    # selected too, but never ready: it must not get traffic
    laggard = pod("laggard", web_container(env={"NOT_READY": "1"}), {"app": "web"})
    await core.create_namespaced_pod("default", laggard)
    await watch_until(
        core.list_namespaced_pod,
        "default",
        name="laggard",
        predicate=lambda p: p["status"].get("phase") == "Running",
    )
    assert "service/web created" in await kubectl("apply", "-f", "-", stdin=json.dumps(service()))
    svc = await kubectl.json("get", "service", "web")
    cluster_ip = svc["spec"]["clusterIP"]
    assert ipaddress.ip_address(cluster_ip) in ipaddress.ip_network("127.96.0.0/16")
    assert svc["spec"]["clusterIPs"] == [cluster_ip] and svc["spec"]["type"] == "ClusterIP"

    web_pods = (await core.list_namespaced_pod("default", label_selector="app=web")).items
    backing = {p.status.pod_ip: p.metadata.name for p in web_pods if p.metadata.name != "laggard"}
    laggard_ip = next(p.status.pod_ip for p in web_pods if p.metadata.name == "laggard")
    assert len(backing) == 2

    def listed(ep: dict[str, Any]) -> bool:
        [subset] = ep.get("subsets") or [{}]
        return ips(subset.get("addresses")) == set(backing) and ips(
            subset.get("notReadyAddresses")
        ) == {laggard_ip}

    endpoints = await watch_until(
        core.list_namespaced_endpoints, "default", name="web", predicate=listed
    )
    assert endpoints["subsets"][0]["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    slices = await discovery.list_namespaced_endpoint_slice(
        "default", label_selector="kubernetes.io/service-name=web"
    )
    [endpoint_slice] = slices.items
    assert endpoint_slice.metadata.owner_references[0].uid == svc["metadata"]["uid"]
    readiness = {e.addresses[0]: e.conditions.ready for e in endpoint_slice.endpoints}
    assert readiness == {**dict.fromkeys(backing, True), laggard_ip: False}

    # the forwarder on <clusterIP>:9000 answers from the ready pods, in turn
    async with aiohttp.ClientSession() as http:
        answers = []
        for _ in range(4):
            async with http.get(f"http://{cluster_ip}:9000/") as response:
                answers.append(await response.text())
    assert set(answers) == set(backing.values())

    # a pod started now gets the Service's variables and reaches it through them
    caller = pod("caller", {"name": "c", "image": "sim/python", "command": [PY, "-c", CLIENT]})
    await core.create_namespaced_pod("default", caller)
    await watch_until(
        core.list_namespaced_pod,
        "default",
        name="caller",
        predicate=lambda p: p["status"].get("phase") in ("Succeeded", "Failed"),
    )
    output = (await core.read_namespaced_pod_log("caller", "default")).splitlines()
    assert output[0] == f"via {cluster_ip} 9000 9000 tcp://{cluster_ip}:9000"
    assert output[1].removeprefix("answer ") in backing.values()

    # deleting the Service stops its forwarder and removes its endpoints
    await kubectl("delete", "service", "web")
    assert "NotFound" in await kubectl("get", "endpoints", "web", ok=False)
    assert (await discovery.list_namespaced_endpoint_slice("default")).items == []
    async with aiohttp.ClientSession() as http:
        try:
            async with http.get(f"http://{cluster_ip}:9000/"):
                raise AssertionError("the forwarder still listens")
        except aiohttp.ClientConnectorError:
            pass


async def test_readiness_follows_the_probe(
    cluster: Cluster, core: client.CoreV1Api, tmp_path: Any
) -> None:
    flag = tmp_path / "unready"
    await core.create_namespaced_pod(
        "default", pod("flaky", web_container(env={"UNREADY_FILE": str(flag)}))
    )
    await watch_until(core.list_namespaced_pod, "default", name="flaky", predicate=ready)
    flag.touch()
    await watch_until(
        core.list_namespaced_pod, "default", name="flaky", predicate=lambda p: not ready(p)
    )
    flag.unlink()
    await watch_until(core.list_namespaced_pod, "default", name="flaky", predicate=ready)


async def test_cluster_ip_rules(cluster: Cluster, core: client.CoreV1Api) -> None:
    outside = service()
    outside["spec"]["clusterIP"] = "10.96.0.10"
    try:
        await core.create_namespaced_service("default", outside)
        raise AssertionError("a cluster IP outside the Service network was accepted")
    except ApiException as error:
        assert error.status == 422
        assert "provided IP is not in the valid range" in status_of(error)["message"]
    headless = service()
    headless["spec"]["clusterIP"] = "None"
    created = await core.create_namespaced_service("default", headless)
    assert created.spec.cluster_ip == "None"
    chosen = service()
    chosen["metadata"]["name"] = "chosen"
    chosen["spec"]["clusterIP"] = "127.96.250.7"
    created = await core.create_namespaced_service("default", chosen)
    assert created.spec.cluster_ip == "127.96.250.7"
    created.spec.cluster_ip = "127.96.250.8"
    try:
        await core.replace_namespaced_service("chosen", "default", created)
        raise AssertionError("the cluster IP changed")
    except ApiException as error:
        assert error.status == 422
