"""The local bucket provisioner against the shipped embedded S3 server (moto, IAM enforced)."""

import asyncio
import json
import time

import pytest
from botocore.exceptions import ClientError
from traitlets import TraitError

from jupyterhub_ov.storage.s3local import BucketUnavailable, LocalBucketProvisioner

from ..s3server import embedded_s3
from ..util import free_port


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    with embedded_s3(tmp_path_factory.mktemp("s3")) as server:
        yield server


def provisioner(s3, **kw):
    return LocalBucketProvisioner(credentials_file=str(s3.credentials_file), **kw)


def error_code(call):
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response["Error"]["Code"]


async def test_own_bucket_works_and_other_buckets_are_refused(s3):
    p = provisioner(s3)
    alice, bob = await asyncio.gather(p.ensure("alice"), p.ensure("Bob/../x"))
    assert alice.bucket == "jupyter-alice" and bob.bucket.startswith("jupyter-bob-x---")
    a = s3.client("s3", alice.access_key_id, alice.secret_access_key)
    b = s3.client("s3", bob.access_key_id, bob.secret_access_key)
    a.put_object(Bucket=alice.bucket, Key="k", Body=b"alice's")
    assert a.get_object(Bucket=alice.bucket, Key="k")["Body"].read() == b"alice's"
    assert error_code(lambda: b.get_object(Bucket=alice.bucket, Key="k")) == "AccessDenied"
    assert (
        error_code(lambda: b.put_object(Bucket=alice.bucket, Key="x", Body=b"")) == "AccessDenied"
    )
    assert error_code(lambda: a.list_buckets()) == "AccessDenied"
    # the user's keys cannot administer identities either
    iam = s3.client("iam", alice.access_key_id, alice.secret_access_key)
    assert error_code(lambda: iam.create_access_key(UserName="jupyterhub-ov-bob")) == "AccessDenied"


async def test_environment_contract(s3):
    creds = await provisioner(s3, notebook_endpoint_url="http://s3.example:80").ensure("carol")
    env = creds.environment()
    assert env["S3_ENDPOINT_URL"] == "http://s3.example:80"
    assert env["AWS_ACCESS_KEY_ID"] == creds.access_key_id
    assert env["AWS_SECRET_ACCESS_KEY"] == creds.secret_access_key
    assert env["BUCKET_NAME"] == "jupyter-carol"
    assert json.loads(env["JUPYTERHUB_OV_BUCKETS"]) == [
        {"name": "jupyter-carol", "endpoint": "http://s3.example:80", "own": True}
    ]
    assert creds.secret_access_key not in repr(creds)


async def test_granted_buckets_are_usable_and_listed(s3):
    s3.admin_client("s3").create_bucket(Bucket="team-shared")
    creds = await provisioner(s3, grants={"dave": ["team-shared"]}).ensure("dave")
    c = s3.client("s3", creds.access_key_id, creds.secret_access_key)
    c.put_object(Bucket="team-shared", Key="from-dave", Body=b"1")
    assert [b["name"] for b in json.loads(creds.environment()["JUPYTERHUB_OV_BUCKETS"])] == [
        "jupyter-dave",
        "team-shared",
    ]
    # without the grant, the next launch's policy no longer allows it
    creds2 = await provisioner(s3).ensure("dave")
    c2 = s3.client("s3", creds2.access_key_id, creds2.secret_access_key)
    assert (
        error_code(lambda: c2.get_object(Bucket="team-shared", Key="from-dave")) == "AccessDenied"
    )


async def test_relaunch_is_idempotent_keeps_data_and_at_most_two_keys(s3):
    p = provisioner(s3)
    first = await p.ensure("erin")
    s3.client("s3", first.access_key_id, first.secret_access_key).put_object(
        Bucket=first.bucket, Key="keep", Body=b"data"
    )
    second = await p.ensure("erin")
    third = await p.ensure("erin")
    assert len({first.access_key_id, second.access_key_id, third.access_key_id}) == 3
    keys = s3.admin_client("iam").list_access_keys(UserName="jupyterhub-ov-erin")[
        "AccessKeyMetadata"
    ]
    assert {k["AccessKeyId"] for k in keys} == {second.access_key_id, third.access_key_id}
    # the still-running previous server keeps working; the data survived
    prev = s3.client("s3", second.access_key_id, second.secret_access_key)
    assert prev.get_object(Bucket=first.bucket, Key="keep")["Body"].read() == b"data"
    old = s3.client("s3", first.access_key_id, first.secret_access_key)
    assert (
        error_code(lambda: old.get_object(Bucket=first.bucket, Key="keep")) == "InvalidAccessKeyId"
    )


async def test_unreachable_endpoint_is_a_clear_error_not_a_hang():
    dead = f"http://127.0.0.1:{free_port()}"
    p = LocalBucketProvisioner(
        endpoint_url=dead, access_key_id="a", secret_access_key="b", timeout=10
    )
    started = time.monotonic()
    with pytest.raises(BucketUnavailable, match=f"The S3 service at {dead} is unreachable"):
        await p.ensure("alice")
    assert time.monotonic() - started < 10


async def test_wrong_admin_secret_is_reported_without_the_secret(s3):
    p = LocalBucketProvisioner(
        endpoint_url=s3.endpoint_url,
        access_key_id=s3.admin["access_key_id"],
        secret_access_key="wrong-secret",
    )
    with pytest.raises(BucketUnavailable, match="SignatureDoesNotMatch") as e:
        await p.ensure("alice")
    assert "wrong-secret" not in str(e.value)


async def test_missing_credentials_file_is_reported(tmp_path):
    p = LocalBucketProvisioner(credentials_file=str(tmp_path / "nope.json"), credentials_wait=0.2)
    with pytest.raises(BucketUnavailable, match="does not exist"):
        await p.ensure("alice")
    (tmp_path / "bad.json").write_text("{}")
    p = LocalBucketProvisioner(credentials_file=str(tmp_path / "bad.json"))
    with pytest.raises(BucketUnavailable, match="unreadable"):
        await p.ensure("alice")


@pytest.mark.parametrize(
    "config, message",
    [
        ({"bucket_prefix": "Bad_Prefix"}, "prefix"),
        ({"iam_user_prefix": "-x"}, "prefix"),
        ({"grants": {"alice": ["ok-bucket", "Not_A_Bucket"]}}, "invalid bucket grants: alice"),
    ],
)
def test_bad_config_is_refused_at_load(config, message):
    with pytest.raises(TraitError, match=message):
        LocalBucketProvisioner(**config)


def test_off_without_endpoint():
    assert not LocalBucketProvisioner().enabled
