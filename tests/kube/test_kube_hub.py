"""OVKubeSpawner in a real JupyterHub against the simulated OpenShift namespace."""

from __future__ import annotations

import asyncio
import json
import textwrap

import pytest

from ..kernel import run_code
from .conftest import MARKER_IMAGE, KubeSetup, kube_hub

pytestmark = pytest.mark.e2e

PROBE = textwrap.dedent(
    """
    import json, os, boto3
    s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT_URL"])
    bucket = os.environ["BUCKET_NAME"]
    s3.put_object(Bucket=bucket, Key="owner", Body=os.environ["JUPYTERHUB_USER"].encode())
    print(json.dumps({
        "read": s3.get_object(Bucket=bucket, Key="owner")["Body"].read().decode(),
        "bucket": bucket,
        "endpoint": os.environ["S3_ENDPOINT_URL"],
        "image": os.environ["JUPYTERHUB_OV_IMAGE"],
        "marker": os.environ.get("OV_MARKER"),
        "buckets": json.loads(os.environ["JUPYTERHUB_OV_BUCKETS"]),
    }))
    """
)

TRESPASS = textwrap.dedent(
    """
    import os, boto3
    from botocore.exceptions import ClientError
    s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT_URL"])
    try:
        s3.get_object(Bucket={bucket!r}, Key="owner")
        print("ALLOWED")
    except ClientError as e:
        print(e.response["Error"]["Code"])
    """
)


async def probe(kube: KubeSetup, user: str) -> dict:
    return json.loads(await run_code(kube.hub.url, user, kube.hub.token, PROBE))


async def pod_of(kube: KubeSetup, user: str) -> dict:
    pods = await kube.core.list_namespaced_pod(
        "default", label_selector=f"hub.jupyter.org/username={user}", _preload_content=False
    )
    (pod,) = json.loads(await pods.read())["items"]
    return pod


async def test_two_users_get_buckets_by_reference_and_their_image(kube: KubeSetup):
    counters = kube.cluster.server.counters
    # our API calls ride out throttling and server errors
    kube.cluster.server.faults.add(
        verb="create", resource="objectbucketclaims", times=2, throttle_rate=1.0, retry_after=1
    )
    kube.cluster.server.faults.add(
        verb="get", resource="objectbucketclaims", times=1, error_rate=1.0, error_code=503
    )
    await kube.run(kube.hub.start_server, "alice")
    await kube.run(
        kube.hub.start_server, "bob", {"image": "default/marker:2024.1", "size": "large"}
    )
    alice, bob = await probe(kube, "alice"), await probe(kube, "bob")

    assert alice["read"] == "alice" and bob["read"] == "bob"
    assert alice["bucket"] != bob["bucket"]
    assert alice["bucket"].startswith("jupyter-alice-") and bob["bucket"].startswith("jupyter-bob-")
    s3 = kube.cluster.s3
    assert alice["endpoint"] == f"http://{s3.host}:{s3.port}"  # $(BUCKET_HOST):$(BUCKET_PORT)
    assert [b["name"] for b in alice["buckets"]] == [alice["bucket"], "team-shared"]
    assert counters.get("create", "objectbucketclaims") >= 3  # two throttled, then created

    # a bucket an admin granted (NooBaa: account permission) is usable from the notebook
    admin = kube.cluster.buckets
    await asyncio.to_thread(lambda: admin._clients()[0].create_bucket(Bucket="team-shared"))
    await admin.grant("default", "jupyter-bucket-alice", "team-shared")
    shared = await run_code(
        kube.hub.url,
        "alice",
        kube.hub.token,
        "import os, boto3; s3 = boto3.client('s3', endpoint_url=os.environ['S3_ENDPOINT_URL']);"
        "s3.put_object(Bucket='team-shared', Key='k', Body=b'x'); print('shared ok')",
    )
    assert shared.strip() == "shared ok"
    denied = await run_code(
        kube.hub.url, "bob", kube.hub.token, TRESPASS.format(bucket=alice["bucket"])
    )
    assert denied.strip() == "AccessDenied"

    assert alice["image"] == "default/scipy-notebook:latest" and alice["marker"] is None
    assert bob["image"] == "default/marker:2024.1" and bob["marker"] == "marker-notebook"

    # the hub never read a Secret, and no pod spec carries a secret value
    assert counters.get("get", "secrets") == 0 and counters.get("list", "secrets") == 0
    bob_pod = await pod_of(kube, "bob")
    container = bob_pod["spec"]["containers"][0]
    assert container["image"] == MARKER_IMAGE
    assert container["resources"]["limits"] == {"cpu": 2.0, "memory": 4 * 1024**3}  # "large"
    secret = await kube.core.read_namespaced_secret("jupyter-bucket-bob", "default")
    values = {v for v in (secret.data or {}).values()} | {
        __import__("base64").b64decode(v).decode() for v in (secret.data or {}).values()
    }
    spec_text = json.dumps(bob_pod["spec"])
    assert values and not any(v in spec_text for v in values)
    env = {e["name"]: e for e in container["env"]}
    assert env["AWS_SECRET_ACCESS_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "jupyter-bucket-bob",
        "key": "AWS_SECRET_ACCESS_KEY",
    }


async def test_stopping_keeps_volume_and_bucket(kube: KubeSetup):
    await kube.run(kube.hub.start_server, "carol")
    first = await probe(kube, "carol")
    await kube.run(kube.hub.stop_server, "carol")
    claims = await kube.custom.list_namespaced_custom_object(
        "objectbucket.io", "v1alpha1", "default", "objectbucketclaims"
    )
    pvcs = await kube.core.list_namespaced_persistent_volume_claim("default")
    assert [c["metadata"]["name"] for c in claims["items"]] == ["jupyter-bucket-carol"]
    assert [p.metadata.name for p in pvcs.items] == ["claim-carol"]
    await kube.run(kube.hub.start_server, "carol")
    out = await run_code(
        kube.hub.url,
        "carol",
        kube.hub.token,
        "import os, boto3; s3 = boto3.client('s3', endpoint_url=os.environ['S3_ENDPOINT_URL']);"
        "print(os.environ['BUCKET_NAME'], s3.get_object(Bucket=os.environ['BUCKET_NAME'],"
        " Key='owner')['Body'].read().decode())",
    )
    assert out.split() == [first["bucket"], "carol"]


def progress_messages(hub, user: str) -> list[str]:
    """Follow the spawn's progress stream (server-sent events) to its end."""
    r = hub.api("GET", f"/users/{user}/server/progress", stream=True)
    messages = []
    for line in r.iter_lines(decode_unicode=True):
        if line and line.startswith("data:"):
            event = json.loads(line[5:])
            messages.append(event.get("message", ""))
            if event.get("ready") or event.get("failed"):
                break
    return messages


async def test_progress_shows_image_bucket_and_pod_steps(kube: KubeSetup):
    hub = kube.hub
    await kube.run(hub.api, "POST", "/users/erin")
    r = await kube.run(hub.api, "POST", "/users/erin/server", json={})
    assert r.status_code == 202
    messages = await kube.run(progress_messages, hub, "erin")
    text = "\n".join(messages)
    assert "Image SciPy (latest) (" in text
    assert "Bucket claim jupyter-bucket-erin created (" in text
    assert "Bucket claim jupyter-bucket-erin bound (" in text
    assert messages.index(next(m for m in messages if "bound" in m)) < len(messages) - 1
    assert "ready" in messages[-1].lower()


async def test_a_claim_that_never_binds_fails_clearly_and_is_removed(tmp_path):
    extra = 'c.OVKubeSpawner.bucket_storage_class = "no-such-class"\n'
    extra += "c.OVKubeSpawner.bucket_bind_timeout = 3\n"
    async with kube_hub(tmp_path, extra) as kube:
        await kube.run(kube.hub.api, "POST", "/users/dave")
        await kube.run(kube.hub.api, "POST", "/users/dave/server", json={})
        messages = await kube.run(progress_messages, kube.hub, "dave")
        assert messages[-1] == (
            "Spawn failed: Your storage bucket is not ready: the bucket claim"
            " jupyter-bucket-dave was not bound within 3 s. Please try again later,"
            " or ask an administrator to check the object storage."
        )
        claims = await kube.custom.list_namespaced_custom_object(
            "objectbucket.io", "v1alpha1", "default", "objectbucketclaims"
        )
        assert claims["items"] == []  # nothing half-made left behind
        assert (await kube.core.list_namespaced_pod("default")).items == []
        assert (await kube.core.list_namespaced_persistent_volume_claim("default")).items == []


async def test_hub_restart_keeps_servers_and_creates_no_duplicates(kube: KubeSetup):
    counters = kube.cluster.server.counters
    await kube.run(kube.hub.start_server, "frank")
    await kube.restart_hub()
    user = await kube.run(kube.hub.user, "frank")
    assert user["servers"][""]["ready"]  # still running after the restart
    assert (await probe(kube, "frank"))["read"] == "frank"
    creates = {
        r: counters.get("create", r)
        for r in ("objectbucketclaims", "persistentvolumeclaims", "pods")
    }
    await kube.run(kube.hub.stop_server, "frank")
    await kube.run(kube.hub.start_server, "frank")
    # the relaunch re-created only the pod; claim and volume were found, not duplicated
    assert counters.get("create", "pods") == creates["pods"] + 1
    claims = await kube.custom.list_namespaced_custom_object(
        "objectbucket.io", "v1alpha1", "default", "objectbucketclaims"
    )
    assert [c["metadata"]["name"] for c in claims["items"]] == ["jupyter-bucket-frank"]
    pvcs = await kube.core.list_namespaced_persistent_volume_claim("default")
    assert [p.metadata.name for p in pvcs.items] == ["claim-frank"]


async def user_storage(kube: KubeSetup) -> tuple[list[str], list[str]]:
    claims = await kube.custom.list_namespaced_custom_object(
        "objectbucket.io", "v1alpha1", "default", "objectbucketclaims"
    )
    pvcs = await kube.core.list_namespaced_persistent_volume_claim("default")
    return [c["metadata"]["name"] for c in claims["items"]], [p.metadata.name for p in pvcs.items]


async def test_deleting_a_user_keeps_storage_unless_the_admin_enabled_it(tmp_path):
    async with kube_hub(tmp_path / "keep") as kube:
        await kube.run(kube.hub.start_server, "henry")
        await kube.run(kube.hub.stop_server, "henry")
        r = await kube.run(kube.hub.api, "DELETE", "/users/henry")
        assert r.status_code == 204
        assert await user_storage(kube) == (["jupyter-bucket-henry"], ["claim-henry"])
    extra = "c.OVKubeSpawner.delete_pvc = True\nc.OVKubeSpawner.delete_bucket_claim = True\n"
    async with kube_hub(tmp_path / "delete", extra) as kube:
        await kube.run(kube.hub.start_server, "ivy")
        await kube.run(kube.hub.stop_server, "ivy")
        await kube.run(kube.hub.api, "DELETE", "/users/ivy")
        # the provisioner releases the claim (finalizer) before it disappears
        async with asyncio.timeout(15):
            while await user_storage(kube) != ([], []):  # noqa: ASYNC110 - no event to await
                await asyncio.sleep(0.1)
