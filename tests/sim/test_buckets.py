"""The NooBaa-like bucket provisioner, proven with boto3 against a real S3 server (moto, IAM)."""

# The client annotates bodies as models; it accepts dicts.
# mypy: disable-error-code="arg-type"

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from jupyterhub_ov_sim.apiserver import ApiServer
from jupyterhub_ov_sim.buckets import BucketProvisioner
from jupyterhub_ov_sim.s3admin import AdminCredentials
from kubernetes_asyncio import client

from ..deploy.schemas import validate
from ..s3server import S3Server, embedded_s3
from .helpers import wait_deleted, watch_until

CLAIMS = ("objectbucket.io", "v1alpha1", "default", "objectbucketclaims")
NOOBAA = "openshift-storage.noobaa.io"


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with embedded_s3(Path(tmp_path_factory.mktemp("s3"))) as server:
        yield server


@pytest.fixture
async def provisioner(sim_server: ApiServer, s3: S3Server) -> AsyncIterator[BucketProvisioner]:
    admin = AdminCredentials(
        s3.endpoint_url, s3.region, s3.admin["access_key_id"], s3.admin["secret_access_key"]
    )
    provisioner = BucketProvisioner(
        sim_server.store, admin=admin, storage_classes={NOOBAA: "Delete", "noobaa-retain": "Retain"}
    )
    await provisioner.start()
    try:
        yield provisioner
    finally:
        await provisioner.stop()


def claim(name: str, storage_class: str = NOOBAA, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "objectbucket.io/v1alpha1",
        "kind": "ObjectBucketClaim",
        "metadata": {"name": name},
        "spec": {"storageClassName": storage_class, **spec},
    }


async def bound_claim(custom: client.CustomObjectsApi, body: dict[str, Any]) -> dict[str, Any]:
    await custom.create_namespaced_custom_object(*CLAIMS, body)
    return await watch_until(
        custom.list_namespaced_custom_object,
        *CLAIMS,
        name=body["metadata"]["name"],
        predicate=lambda c: c.get("status", {}).get("phase") in ("Bound", "Failed"),
    )


async def credentials(core: client.CoreV1Api, name: str) -> tuple[str, str]:
    secret = await core.read_namespaced_secret(name, "default")
    decoded = {k: base64.b64decode(v).decode() for k, v in secret.data.items()}
    return decoded["AWS_ACCESS_KEY_ID"], decoded["AWS_SECRET_ACCESS_KEY"]


def can_write(s3: S3Server, key: tuple[str, str], bucket: str) -> bool:
    try:
        s3.client("s3", *key).put_object(Bucket=bucket, Key="probe.txt", Body=b"x")
    except ClientError as error:
        assert error.response["Error"]["Code"] == "AccessDenied", error.response
        return False
    return True


async def test_claim_binds_with_configmap_secret_and_object_bucket(
    provisioner: BucketProvisioner,
    s3: S3Server,
    custom: client.CustomObjectsApi,
    core: client.CoreV1Api,
) -> None:
    done = await bound_claim(custom, claim("data", generateBucketName="ann-data"))
    assert done["status"]["phase"] == "Bound"
    validate(done)  # what the provisioner wrote into the claim fits the CRD
    bucket = done["spec"]["bucketName"]
    assert bucket.startswith("ann-data-")
    assert done["spec"]["objectBucketName"] == "obc-default-data"
    assert "objectbucket.io/finalizer" in done["metadata"]["finalizers"]
    config = await core.read_namespaced_config_map("data", "default")
    assert config.data == {
        "BUCKET_HOST": "127.0.0.1",
        "BUCKET_NAME": bucket,
        "BUCKET_PORT": s3.endpoint_url.rsplit(":", 1)[1],
        "BUCKET_REGION": s3.region,
        "BUCKET_SUBREGION": "",
    }
    secret = await core.read_namespaced_secret("data", "default")
    assert set(secret.data) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    for owned in (config, secret):
        assert owned.metadata.labels == {"bucket-provisioner": "openshift-storage.noobaa.io-obc"}
        assert owned.metadata.owner_references[0].uid == done["metadata"]["uid"]
    object_bucket = await custom.get_cluster_custom_object(
        "objectbucket.io", "v1alpha1", "objectbuckets", "obc-default-data"
    )
    assert object_bucket["metadata"]["finalizers"] == ["objectbucket.io/finalizer"]
    assert object_bucket["spec"]["claimRef"]["uid"] == done["metadata"]["uid"]
    assert object_bucket["spec"]["endpoint"]["bucketName"] == bucket
    assert object_bucket["status"]["phase"] == "Bound"


async def test_credentials_reach_only_their_own_bucket_until_granted(
    provisioner: BucketProvisioner,
    s3: S3Server,
    custom: client.CustomObjectsApi,
    core: client.CoreV1Api,
) -> None:
    ann = await bound_claim(custom, claim("ann", bucketName="sim-ann-bucket"))
    bob = await bound_claim(custom, claim("bob", bucketName="sim-bob-bucket"))
    ann_key = await credentials(core, "ann")
    assert await asyncio.to_thread(can_write, s3, ann_key, ann["spec"]["bucketName"])
    assert not await asyncio.to_thread(can_write, s3, ann_key, bob["spec"]["bucketName"])
    await provisioner.grant("default", "ann", bob["spec"]["bucketName"])
    assert await asyncio.to_thread(can_write, s3, ann_key, bob["spec"]["bucketName"])


async def test_delete_policy_removes_everything(
    provisioner: BucketProvisioner,
    s3: S3Server,
    custom: client.CustomObjectsApi,
    core: client.CoreV1Api,
) -> None:
    done = await bound_claim(custom, claim("scratch", bucketName="sim-scratch"))
    key = await credentials(core, "scratch")
    assert await asyncio.to_thread(can_write, s3, key, "sim-scratch")
    await custom.delete_namespaced_custom_object(*CLAIMS, "scratch")
    await wait_deleted(
        lambda: custom.get_namespaced_custom_object(*CLAIMS, "scratch"),
        custom.list_namespaced_custom_object,
        *CLAIMS,
        name="scratch",
    )
    for read in (core.read_namespaced_config_map, core.read_namespaced_secret):
        with pytest.raises(client.ApiException):
            await read("scratch", "default")
    with pytest.raises(client.ApiException):
        await custom.get_cluster_custom_object(
            "objectbucket.io", "v1alpha1", "objectbuckets", "obc-default-scratch"
        )
    names = [
        b["Name"] for b in (await asyncio.to_thread(s3.admin_client("s3").list_buckets))["Buckets"]
    ]
    assert done["spec"]["bucketName"] not in names
    users = (await asyncio.to_thread(s3.admin_client("iam").list_users))["Users"]
    assert "obc-default-scratch" not in [u["UserName"] for u in users]


async def test_retain_policy_keeps_the_bucket(
    provisioner: BucketProvisioner,
    s3: S3Server,
    custom: client.CustomObjectsApi,
    core: client.CoreV1Api,
) -> None:
    await bound_claim(custom, claim("keep", "noobaa-retain", bucketName="sim-kept"))
    key = await credentials(core, "keep")
    assert await asyncio.to_thread(can_write, s3, key, "sim-kept")
    await custom.delete_namespaced_custom_object(*CLAIMS, "keep")
    await wait_deleted(
        lambda: custom.get_namespaced_custom_object(*CLAIMS, "keep"),
        custom.list_namespaced_custom_object,
        *CLAIMS,
        name="keep",
    )
    admin = s3.admin_client("s3")
    kept = await asyncio.to_thread(admin.get_object, Bucket="sim-kept", Key="probe.txt")
    assert kept["Body"].read() == b"x"


async def test_unknown_class_is_reported(
    provisioner: BucketProvisioner, custom: client.CustomObjectsApi, core: client.CoreV1Api
) -> None:
    await custom.create_namespaced_custom_object(
        *CLAIMS, claim("lost", "no-such-class", bucketName="x")
    )
    event = await watch_until(
        core.list_namespaced_event,
        "default",
        field_selector="involvedObject.name=lost",
        predicate=lambda e: e["reason"] == "ProvisioningFailed",
    )
    assert event["message"] == 'storageclass.storage.k8s.io "no-such-class" not found'
    current = await custom.get_namespaced_custom_object(*CLAIMS, "lost")
    assert current.get("status", {}).get("phase") != "Bound"


async def test_provision_delay(
    provisioner: BucketProvisioner, custom: client.CustomObjectsApi
) -> None:
    provisioner.provision_delay = 0.3
    loop = asyncio.get_running_loop()
    started = loop.time()
    done = await bound_claim(custom, claim("slow", bucketName="sim-slow"))
    assert done["status"]["phase"] == "Bound"
    assert loop.time() - started >= 0.3
