"""A local model server's own IAM identity, against the shipped embedded S3 server (moto,
IAM enforced): the owner's read rights and nothing else, a fresh key per start, never the
owner's own identity, deleted with the server."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from jupyterhub_ov import names
from jupyterhub_ov.service.features.modelservers.backends.s3identity import (
    IdentityUnavailable,
    ServerIdentities,
)
from jupyterhub_ov.storage.s3local import LocalBucketProvisioner
from tests.s3server import embedded_s3


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    with embedded_s3(tmp_path_factory.mktemp("s3")) as server:
        yield server


def code(call) -> str:
    with pytest.raises(ClientError) as e:
        call()
    return str(e.value.response["Error"]["Code"])


async def test_the_owners_read_rights_and_nothing_else(s3) -> None:
    provisioner = LocalBucketProvisioner(
        credentials_file=str(s3.credentials_file), grants={"alice": ["shared-models"]}
    )
    alice, bob = await provisioner.ensure("alice"), await provisioner.ensure("bob")
    admin = s3.admin_client("s3")
    admin.create_bucket(Bucket="shared-models")
    for bucket in (alice.bucket, bob.bucket, "shared-models"):
        admin.put_object(Bucket=bucket, Key="models/m/1/model.xml", Body=b"<net/>")

    identities = ServerIdentities(provisioner)
    key = await identities.issue("demo", "alice")
    c = s3.client("s3", key.access_key_id, key.secret_access_key)
    assert key.endpoint_url == s3.endpoint_url
    body = c.get_object(Bucket=alice.bucket, Key="models/m/1/model.xml")["Body"].read()
    assert body == b"<net/>"
    assert c.list_objects_v2(Bucket="shared-models")["KeyCount"] == 1  # granted to alice
    assert (
        code(lambda: c.get_object(Bucket=bob.bucket, Key="models/m/1/model.xml")) == "AccessDenied"
    )
    assert code(lambda: c.put_object(Bucket=alice.bucket, Key="x", Body=b"")) == "AccessDenied"
    assert (
        code(lambda: c.delete_object(Bucket=alice.bucket, Key="models/m/1/model.xml"))
        == "AccessDenied"
    )

    # its own identity, tagged for the owner; the owner's key still works
    iam = s3.admin_client("iam")
    user = names.model_server_iam_name("demo")
    assert iam.get_user(UserName=user)["User"]["Path"] == names.MODEL_SERVER_IAM_PATH
    tags = iam.list_user_tags(UserName=user)["Tags"]
    assert {"Key": names.OWNER_TAG_KEY, "Value": "alice"} in tags
    owner = s3.client("s3", alice.access_key_id, alice.secret_access_key)
    owner.put_object(Bucket=alice.bucket, Key="still-mine", Body=b"")

    # a fresh key per start: IAM keeps the newest earlier one (a second replica's), no more
    second = await identities.issue("demo", "alice")
    third = await identities.issue("demo", "alice")
    keys = {k["AccessKeyId"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}
    assert keys == {second.access_key_id, third.access_key_id}
    old = s3.client("s3", key.access_key_id, key.secret_access_key)
    assert code(lambda: old.list_objects_v2(Bucket=alice.bucket)) == "InvalidAccessKeyId"
    owner.put_object(Bucket=alice.bucket, Key="still-mine", Body=b"")  # never rotated

    await identities.remove("demo")
    assert not await identities.exists("demo")
    await identities.remove("demo")  # gone already: fine
    now = s3.client("s3", third.access_key_id, third.access_key_id and third.secret_access_key)
    assert code(lambda: now.list_objects_v2(Bucket=alice.bucket)) == "InvalidAccessKeyId"


async def test_an_identity_not_made_for_the_server_is_refused(s3) -> None:
    iam = s3.admin_client("iam")
    iam.create_user(UserName=names.model_server_iam_name("taken"))
    identities = ServerIdentities(LocalBucketProvisioner(credentials_file=str(s3.credentials_file)))
    with pytest.raises(IdentityUnavailable, match="not made by jupyterhub-ov"):
        await identities.issue("taken", "alice")
    with pytest.raises(IdentityUnavailable, match="not made by jupyterhub-ov"):
        await identities.remove("taken")
    assert (
        iam.list_access_keys(UserName=names.model_server_iam_name("taken"))["AccessKeyMetadata"]
        == []
    )
