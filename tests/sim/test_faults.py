# The client annotates bodies as models and hides _content_type; it accepts dicts and both.
# mypy: disable-error-code="arg-type, call-arg"
"""Fault injection reaching a real client as HTTP errors, and request counters."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from jupyterhub_ov_sim.apiserver import ApiServer
from jupyterhub_ov_sim.faults import FaultInjector, FaultRule
from kubernetes_asyncio import client, watch
from kubernetes_asyncio.client import ApiException

from .helpers import status_of


async def test_latency_delays_only_matching_requests(
    sim_server: ApiServer, core: client.CoreV1Api
) -> None:
    sim_server.faults.add(verb="list", resource="configmaps", latency=0.3)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await core.list_namespaced_config_map("default")
    assert loop.time() - started >= 0.3
    rule = sim_server.faults.rules[0]
    await core.list_namespaced_secret("default")
    await core.create_namespaced_config_map("default", {"metadata": {"name": "c"}})
    assert rule.matched == 1


@pytest.mark.parametrize(("code", "reason"), [(500, "InternalError"), (503, "ServiceUnavailable")])
async def test_server_errors(
    sim_server: ApiServer, core: client.CoreV1Api, code: int, reason: str
) -> None:
    sim_server.faults.add(verb="create", resource="pods", error_rate=1.0, error_code=code)
    with pytest.raises(ApiException) as caught:
        await core.create_namespaced_pod(
            "default", {"metadata": {"name": "p"}, "spec": {"containers": []}}
        )
    body = status_of(caught.value)
    assert (caught.value.status, body["kind"], body["reason"], body["code"]) == (
        code,
        "Status",
        reason,
        code,
    )
    assert (await core.list_namespaced_pod("default")).items == []  # the request did nothing


async def test_throttling_sends_retry_after(sim_server: ApiServer, core: client.CoreV1Api) -> None:
    sim_server.faults.add(resource="secrets", throttle_rate=1.0, retry_after=7)
    with pytest.raises(ApiException) as caught:
        await core.list_namespaced_secret("default")
    assert caught.value.status == 429
    assert caught.value.headers is not None
    assert caught.value.headers["Retry-After"] == "7"
    body = status_of(caught.value)
    assert (body["reason"], body["details"]["retryAfterSeconds"]) == ("TooManyRequests", 7)


async def test_times_limits_a_rule(sim_server: ApiServer, core: client.CoreV1Api) -> None:
    sim_server.faults.add(
        verb="get", resource="namespaces", error_rate=1.0, error_code=503, times=2
    )
    outcomes = []
    for _ in range(4):
        try:
            await core.read_namespace("default")
            outcomes.append(200)
        except ApiException as error:
            outcomes.append(error.status)
    assert outcomes == [503, 503, 200, 200]


async def test_subresources_are_targeted_separately(
    sim_server: ApiServer, core: client.CoreV1Api
) -> None:
    await core.create_namespaced_pod(
        "default", {"metadata": {"name": "p"}, "spec": {"containers": []}}
    )
    sim_server.faults.add(verb="patch", resource="pods/status", error_rate=1.0)
    await core.patch_namespaced_pod("p", "default", {"metadata": {"labels": {"a": "b"}}})
    with pytest.raises(ApiException) as caught:
        await core.patch_namespaced_pod_status("p", "default", {"status": {"phase": "Running"}})
    assert caught.value.status == 500


async def test_dropped_watch_breaks_the_client_stream(
    sim_server: ApiServer, core: client.CoreV1Api
) -> None:
    await core.create_namespaced_config_map("default", {"metadata": {"name": "c"}})
    sim_server.faults.add(verb="watch", resource="configmaps", drop_watch_after=0.2)
    events = []
    with pytest.raises(aiohttp.ClientPayloadError):
        async with watch.Watch() as stream, asyncio.timeout(10):
            async for event in stream.stream(
                core.list_namespaced_config_map, "default", timeout_seconds=30
            ):
                events.append(event["type"])
    assert events == ["ADDED"]  # events before the cut arrive intact
    assert sim_server.faults.watches_cut == 1
    assert not any(log.subscribers for log in sim_server.store._logs.values())


def test_rates_are_seeded_and_roughly_right() -> None:
    def failures(seed: int) -> list[bool]:
        injector = FaultInjector(seed)
        injector.add(FaultRule(error_rate=0.25))
        return [injector.decide("get", "pods").error is not None for _ in range(400)]

    first = failures(7)
    assert first == failures(7)
    assert 60 <= sum(first) <= 140


def test_rule_validation() -> None:
    with pytest.raises(ValueError):
        FaultRule(error_code=404)
    with pytest.raises(ValueError):
        FaultRule(error_rate=1.5)


async def test_counters_match_requests(
    sim_server: ApiServer, api_client: client.ApiClient, core: client.CoreV1Api
) -> None:
    custom = client.CustomObjectsApi(api_client)
    sim_server.faults.add(verb="delete", resource="configmaps", error_rate=1.0, times=1)
    await core.create_namespaced_config_map("default", {"metadata": {"name": "c"}})
    await core.read_namespaced_config_map("c", "default")
    await core.read_namespaced_config_map("c", "default")
    await core.list_namespaced_config_map("default")
    await core.patch_namespaced_config_map("c", "default", {"data": {"a": "b"}})
    with pytest.raises(ApiException):
        await core.delete_namespaced_config_map("c", "default")  # answered by the fault, counted
    await core.delete_namespaced_config_map("c", "default")
    with pytest.raises(ApiException):
        await core.read_namespaced_pod("missing", "default")  # a 404 is still a request
    body = {"apiVersion": "image.openshift.io/v1", "kind": "ImageStream", "metadata": {"name": "s"}}
    await custom.create_namespaced_custom_object(
        "image.openshift.io", "v1", "default", "imagestreams", body
    )
    await custom.patch_namespaced_custom_object_status(
        "image.openshift.io",
        "v1",
        "default",
        "imagestreams",
        "s",
        {"status": {"tags": []}},
        _content_type="application/merge-patch+json",
    )
    async with watch.Watch() as stream:
        async for _ in stream.stream(core.list_namespaced_config_map, "default", timeout_seconds=1):
            pass
    assert sim_server.counters.snapshot() == {
        ("create", "configmaps"): 1,
        ("get", "configmaps"): 2,
        ("list", "configmaps"): 1,
        ("patch", "configmaps"): 1,
        ("delete", "configmaps"): 2,
        ("get", "pods"): 1,
        ("create", "imagestreams"): 1,
        ("patch", "imagestreams/status"): 1,
        ("watch", "configmaps"): 1,
    }
    assert sim_server.counters.total(resource="configmaps") == 8
    assert sim_server.counters.total(verb="get") == 3
    sim_server.counters.reset()
    assert sim_server.counters.snapshot() == {}


async def test_injected_errors_are_counted_by_status(
    sim_server: ApiServer, core: client.CoreV1Api
) -> None:
    sim_server.faults.add(verb="list", resource="secrets", error_rate=1.0, error_code=503, times=2)
    sim_server.faults.add(verb="get", resource="namespaces", throttle_rate=1.0, times=1)
    for call in (core.list_namespaced_secret, core.list_namespaced_secret, core.read_namespace):
        with pytest.raises(ApiException):
            await call("default")
    await core.list_namespaced_secret("default")  # past ``times``: answered, not counted
    assert dict(sim_server.faults.injected) == {503: 2, 429: 1}
