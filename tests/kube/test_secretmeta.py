"""The connection Secrets' watch against the simulator over HTTP: metadata only, always.

The simulator answers ``Accept: ...;as=PartialObjectMetadata[List]`` as the real API server
does (sim/partialmeta.py), and counts which shape each request asked for: the proof that
the reflector never asks for a Secret's data."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from jupyterhub_ov_sim.apiserver import ApiServer
from kubernetes_asyncio import client
from kubespawner.clients import shared_client

from jupyterhub_ov.kube.secretmeta import ACCEPT_ITEM, ACCEPT_LIST, ConnectionReflector

from ..sim.helpers import eventually

CANARY = "c2VjcmV0LWNhbmFyeQ=="  # base64 of "secret-canary"


def secret(name: str, labelled: bool = True) -> dict:
    labels = {"opendatahub.io/dashboard": "true"} if labelled else {}
    return {
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {"openshift.io/display-name": name.title()},
        },
        "data": {"AWS_SECRET_ACCESS_KEY": CANARY},
    }


@pytest.fixture
async def core(sim_api_client: client.ApiClient) -> AsyncIterator[client.CoreV1Api]:
    yield client.CoreV1Api(sim_api_client)
    # the base class made KubeSpawner's shared client too (unused here): close it
    await shared_client("CoreV1Api").api_client.close()


async def test_the_watch_sees_labelled_secrets_and_never_their_data(
    sim_server: ApiServer, sim_api_client: client.ApiClient, core: client.CoreV1Api
) -> None:
    await core.create_namespaced_secret("default", secret("first"))
    await core.create_namespaced_secret("default", secret("unlabelled", labelled=False))
    counters = sim_server.counters
    counters.reset()
    reflector = ConnectionReflector(
        api_client=sim_api_client, namespace="default", timeout_seconds=1
    )
    await reflector.start()
    try:
        assert [m["name"] for m in reflector.metadata()] == ["first"]
        await core.create_namespaced_secret("default", secret("second"))
        await eventually(lambda: "default/second" in reflector.resources)
        second = reflector.resources["default/second"]
        assert second == {"metadata": second["metadata"]}
        assert second["metadata"]["annotations"]["openshift.io/display-name"] == "Second"
        await core.delete_namespaced_secret("first", "default")
        await eventually(lambda: "default/first" not in reflector.resources)
        await eventually(lambda: counters.get("watch", "secrets") >= 2)  # watches restarted
    finally:
        await reflector.stop()
    assert CANARY not in json.dumps(dict(reflector.resources))
    assert counters.shaped("list", "secrets", "PartialObjectMetadataList") >= 1
    assert counters.shaped("watch", "secrets", "PartialObjectMetadata") >= 2
    for verb in ("get", "list", "watch"):
        assert counters.shaped(verb, "secrets", None) == 0, verb


async def test_the_simulator_answers_metadata_only_as_the_api_server_does(
    sim_server: ApiServer, core: client.CoreV1Api
) -> None:
    await core.create_namespaced_secret("default", secret("one"))
    base = f"{sim_server.url}/api/v1/namespaces/default/secrets"
    async with aiohttp.ClientSession() as http:
        async with http.get(base, headers={"Accept": ACCEPT_LIST}) as r:
            listed = await r.json()
        async with http.get(f"{base}/one", headers={"Accept": ACCEPT_ITEM}) as r:
            one = await r.json()
        watch = {"watch": "true", "timeoutSeconds": "1"}
        async with http.get(base, params=watch, headers={"Accept": ACCEPT_ITEM}) as r:
            event = json.loads((await r.content.readline()).decode())
        async with http.get(base, params=watch, headers={"Accept": ACCEPT_LIST}) as r:
            wrong = (r.status, await r.json())
        async with http.get(base, headers={"Accept": f"{ACCEPT_ITEM}, application/json"}) as r:
            whole = await r.json()
    assert listed["kind"] == "PartialObjectMetadataList"
    assert listed["items"] == [one] and one["kind"] == "PartialObjectMetadata"
    assert one["apiVersion"] == "meta.k8s.io/v1" and one["metadata"]["name"] == "one"
    assert set(one) == {"kind", "apiVersion", "metadata"}
    assert event["type"] == "ADDED" and event["object"] == one
    assert wrong[0] == 406 and wrong[1]["reason"] == "NotAcceptable"
    # a list that offers plain JSON besides the item form gets whole objects
    assert whole["kind"] == "SecretList" and whole["items"][0]["data"]
