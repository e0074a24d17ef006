# The client annotates bodies as models and hides _content_type; it accepts dicts and both.
# mypy: disable-error-code="arg-type, call-arg"
"""List + watch: event streams, resume from a resourceVersion, 410 Expired, timeouts."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from jupyterhub_ov_sim.apiserver import ApiServer
from kubernetes_asyncio import client, watch
from kubernetes_asyncio.client import ApiException

from .conftest import WatchCollector
from .helpers import RawHTTP


def cm(name: str, **labels: str) -> dict:
    return {"metadata": {"name": name, "labels": labels}, "data": {}}


async def test_watch_from_a_list_version_sees_every_change(
    core: client.CoreV1Api, collect_events: WatchCollector
) -> None:
    rv = (await core.list_namespaced_config_map("default")).metadata.resource_version
    await core.create_namespaced_config_map("default", cm("a"))
    await core.patch_namespaced_config_map("a", "default", {"data": {"k": "v"}})
    await core.delete_namespaced_config_map("a", "default")
    events = await collect_events(
        core.list_namespaced_config_map, "default", count=3, resource_version=rv
    )
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    assert events[1]["object"].data == {"k": "v"}
    versions = [int(e["raw_object"]["metadata"]["resourceVersion"]) for e in events]
    assert versions == sorted(versions) and versions[0] > int(rv)


async def test_watch_without_version_starts_with_current_objects(
    core: client.CoreV1Api, collect_events: WatchCollector
) -> None:
    await core.create_namespaced_config_map("default", cm("x"))
    await core.create_namespaced_config_map("default", cm("y"))
    events = await collect_events(core.list_namespaced_config_map, "default", count=2)
    assert [(e["type"], e["object"].metadata.name) for e in events] == [
        ("ADDED", "x"),
        ("ADDED", "y"),
    ]


async def test_live_events_reach_an_open_watch(core: client.CoreV1Api) -> None:
    await core.create_namespaced_config_map("default", cm("first"))
    seen: list[tuple[str, str]] = []
    async with watch.Watch() as stream, asyncio.timeout(10):
        async for event in stream.stream(core.list_namespaced_config_map, "default"):
            seen.append((event["type"], event["object"].metadata.name))
            if len(seen) == 1:  # the stream is open: change things while it runs
                await core.create_namespaced_config_map("default", cm("second"))
                await core.delete_namespaced_config_map("first", "default")
            if len(seen) == 3:
                break
    assert seen == [("ADDED", "first"), ("ADDED", "second"), ("DELETED", "first")]


async def test_resume_from_the_middle(
    core: client.CoreV1Api, collect_events: WatchCollector
) -> None:
    versions = []
    for name in ("a", "b", "c"):
        created = await core.create_namespaced_config_map("default", cm(name))
        versions.append(created.metadata.resource_version)
    events = await collect_events(
        core.list_namespaced_config_map, "default", count=2, resource_version=versions[0]
    )
    assert [e["object"].metadata.name for e in events] == ["b", "c"]


async def test_too_old_version_is_410_expired() -> None:
    async with ApiServer(history=3) as server:
        async with client.ApiClient(client.Configuration(host=server.url)) as api:
            core = client.CoreV1Api(api)
            first = await core.create_namespaced_config_map("default", cm("c0"))
            for i in range(1, 5):
                await core.create_namespaced_config_map("default", cm(f"c{i}"))
            with pytest.raises(ApiException) as caught:
                async with watch.Watch() as stream:
                    async for _ in stream.stream(
                        core.list_namespaced_config_map,
                        "default",
                        resource_version=first.metadata.resource_version,
                        timeout_seconds=5,
                    ):
                        pass
            assert caught.value.status == 410
            assert "Expired: too old resource version" in str(caught.value.reason)
            # the newest versions are still retained, so resuming from them works
            listed = await core.list_namespaced_config_map("default")
            assert len(listed.items) == 5


async def test_410_arrives_as_an_error_event() -> None:
    async with ApiServer(history=1) as server, aiohttp.ClientSession() as session:
        raw = RawHTTP(session, server.url)
        for i in range(3):
            await raw.request("POST", "/api/v1/namespaces/default/secrets", body=cm(f"s{i}"))
        status, body, _ = await raw.request(
            "GET", "/api/v1/namespaces/default/secrets?watch=1&resourceVersion=1", parse=False
        )
    assert status == 200
    event = json.loads(body)
    assert event["type"] == "ERROR"
    assert event["object"]["reason"] == "Expired"
    assert event["object"]["code"] == 410
    assert event["object"]["message"].startswith("too old resource version: 1 (")


@pytest.mark.parametrize("flag", ["true", "True", "1"])
async def test_watch_flag_spellings(raw: RawHTTP, flag: str) -> None:
    await raw.request("POST", "/api/v1/namespaces/default/configmaps", body=cm("w"))
    status, body, headers = await raw.request(
        "GET",
        f"/api/v1/namespaces/default/configmaps?watch={flag}&timeoutSeconds=0.05",
        parse=False,
    )
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert body.startswith('{"type":"ADDED","object":{')
    assert body.count("\n") == 1


async def test_timeout_seconds_ends_the_stream(core: client.CoreV1Api) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    events = []
    async with watch.Watch() as stream, asyncio.timeout(5):
        async for event in stream.stream(
            core.list_namespaced_config_map, "default", timeout_seconds=1
        ):
            events.append(event)
    assert events == []
    assert 0.9 <= loop.time() - started < 4


async def test_selector_transitions_become_added_and_deleted(
    core: client.CoreV1Api, collect_events: WatchCollector
) -> None:
    rv = (await core.list_namespaced_config_map("default")).metadata.resource_version
    await core.create_namespaced_config_map("default", cm("m", app="hub"))
    await core.patch_namespaced_config_map("m", "default", {"metadata": {"labels": {"app": "no"}}})
    await core.patch_namespaced_config_map("m", "default", {"data": {"ignored": "1"}})
    await core.patch_namespaced_config_map("m", "default", {"metadata": {"labels": {"app": "hub"}}})
    events = await collect_events(
        core.list_namespaced_config_map,
        "default",
        count=3,
        resource_version=rv,
        label_selector="app=hub",
    )
    assert [e["type"] for e in events] == ["ADDED", "DELETED", "ADDED"]


async def test_watch_is_scoped_to_its_namespace_and_kind(
    core: client.CoreV1Api, collect_events: WatchCollector
) -> None:
    await core.create_namespace({"metadata": {"name": "other"}})
    rv = (await core.list_namespaced_config_map("default")).metadata.resource_version
    await core.create_namespaced_config_map("other", cm("elsewhere"))
    await core.create_namespaced_secret("default", cm("a-secret"))
    await core.create_namespaced_config_map("default", cm("here"))
    events = await collect_events(
        core.list_namespaced_config_map, "default", count=1, resource_version=rv
    )
    assert events[0]["object"].metadata.name == "here"


async def test_custom_object_watch(
    custom: client.CustomObjectsApi, collect_events: WatchCollector
) -> None:
    group, version, plural = "tekton.dev", "v1", "pipelineruns"
    body = {"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "metadata": {"name": "run"}}
    created = await custom.create_namespaced_custom_object(group, version, "default", plural, body)
    events = await collect_events(
        custom.list_namespaced_custom_object, group, version, "default", plural, count=1
    )
    assert events[0]["type"] == "ADDED"
    assert events[0]["object"]["metadata"]["uid"] == created["metadata"]["uid"]


async def test_stopping_the_server_ends_open_watches(
    core: client.CoreV1Api, sim_server: ApiServer
) -> None:
    await core.create_namespaced_config_map("default", cm("first"))
    seen = []
    async with watch.Watch() as stream, asyncio.timeout(10):
        async for event in stream.stream(
            core.list_namespaced_config_map, "default", timeout_seconds=60
        ):
            seen.append(event["type"])
            sim_server.store.close_watches()
    assert seen == ["ADDED"]
    assert not any(log.subscribers for log in sim_server.store._logs.values())


async def test_watch_list_ends_initial_events_with_a_bookmark(raw: RawHTTP) -> None:
    """client-go's WatchList (kubectl wait, informers) waits for this bookmark."""
    for name in ("a", "b"):
        await raw.request("POST", "/api/v1/namespaces/default/configmaps", body=cm(name))
    status, body, _ = await raw.request(
        "GET",
        "/api/v1/namespaces/default/configmaps?watch=1&sendInitialEvents=true"
        "&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=0.05",
        parse=False,
    )
    assert status == 200
    events = [json.loads(line) for line in body.splitlines()]
    assert [(e["type"], e["object"]["metadata"].get("name")) for e in events] == [
        ("ADDED", "a"),
        ("ADDED", "b"),
        ("BOOKMARK", None),
    ]
    bookmark = events[-1]["object"]
    assert bookmark["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert int(bookmark["metadata"]["resourceVersion"]) >= int(
        events[1]["object"]["metadata"]["resourceVersion"]
    )
