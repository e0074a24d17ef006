"""The local bucket provisioner against the shipped embedded S3 server (moto, IAM enforced)."""

import asyncio
import json
import time

import pytest
from botocore.exceptions import ClientError
from traitlets import TraitError

from jupyterhub_ov import names
from jupyterhub_ov.storage import s3calls
from jupyterhub_ov.storage.embedded import ALLOW_ALL
from jupyterhub_ov.storage.s3local import BucketUnavailable, LocalBucketProvisioner

from ..s3server import embedded_s3
from ..util import free_port


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    with embedded_s3(tmp_path_factory.mktemp("s3")) as server:
        yield server


def provisioner(s3, **kw):
    return LocalBucketProvisioner(credentials_file=str(s3.credentials_file), **kw)


def put(s3, creds, key, body):
    """Write an object with the user's own keys (proves they work, leaves data to keep)."""
    s3.client("s3", creds.access_key_id, creds.secret_access_key).put_object(
        Bucket=creds.bucket, Key=key, Body=body
    )


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
    # ODH's S3 connection keys, the same values
    assert env["AWS_S3_ENDPOINT"] == "http://s3.example:80"
    assert env["AWS_S3_BUCKET"] == "jupyter-carol"
    assert env["AWS_DEFAULT_REGION"] == env["BUCKET_REGION"] == s3.region
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
    put(s3, first, "keep", b"data")
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


def iam_state(s3, user):
    """What the provisioner could have changed about an IAM user: keys, policies, tags."""
    iam = s3.admin_client("iam")
    try:
        found = iam.get_user(UserName=user)["User"]
    except iam.exceptions.NoSuchEntityException:
        return None
    return (
        found["Path"],
        sorted(k["AccessKeyId"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]),
        sorted(iam.list_user_policies(UserName=user)["PolicyNames"]),
        iam.list_user_tags(UserName=user)["Tags"],
    )


def bucket_state(s3, bucket):
    c = s3.admin_client("s3")
    try:
        c.head_bucket(Bucket=bucket)
    except ClientError:
        return None
    try:
        tags = c.get_bucket_tagging(Bucket=bucket)["TagSet"]
    except ClientError:
        tags = []
    keys = [o["Key"] for o in c.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return tags, keys


async def test_hub_user_admin_gets_an_ordinary_identity_and_can_start_twice(s3):
    p = provisioner(s3)
    frank = await p.ensure("frank")
    put(s3, frank, "private", b"frank's")
    first = await p.ensure("admin")
    second = await p.ensure("admin")
    assert second.bucket == "jupyter-admin"
    path, keys, policies, tags = iam_state(s3, "jupyterhub-ov-admin")
    assert path == "/jupyterhub-ov/" and policies == ["jupyterhub-ov-buckets"]
    assert tags == [{"Key": "jupyterhub-ov:user", "Value": "admin"}]
    assert keys == sorted([first.access_key_id, second.access_key_id])
    a = s3.client("s3", second.access_key_id, second.secret_access_key)
    a.put_object(Bucket="jupyter-admin", Key="k", Body=b"1")
    assert error_code(lambda: a.list_buckets()) == "AccessDenied"
    assert error_code(lambda: a.list_objects_v2(Bucket=frank.bucket)) == "AccessDenied"
    assert error_code(lambda: a.get_object(Bucket=frank.bucket, Key="private")) == "AccessDenied"
    iam = s3.client("iam", second.access_key_id, second.secret_access_key)
    assert error_code(lambda: iam.list_users()) == "AccessDenied"
    assert (
        error_code(lambda: iam.create_access_key(UserName=names.EMBEDDED_ADMIN_IAM_USER))
        == "AccessDenied"
    )
    # the hub's own key survived both starts: provisioning goes on for everyone
    assert s3.admin["access_key_id"] in [
        k["AccessKeyId"]
        for k in s3.admin_client("iam").list_access_keys(UserName=names.EMBEDDED_ADMIN_IAM_USER)[
            "AccessKeyMetadata"
        ]
    ]
    grace = await p.ensure("grace")
    put(s3, grace, "k", b"1")


@pytest.mark.parametrize(
    "username, create",
    [
        ("mallory", {}),  # another tool's identity of that name
        ("mallory2", {"Path": "/jupyterhub-ov/"}),  # our path, no mark
        ("mallory3", {"Tags": [{"Key": "jupyterhub-ov:user", "Value": "mallory3"}]}),  # path "/"
        (
            "mallory4",
            {"Path": "/jupyterhub-ov/", "Tags": [{"Key": "jupyterhub-ov:user", "Value": "eve"}]},
        ),
    ],
)
async def test_an_unmarked_iam_user_is_refused_and_nothing_changes(s3, username, create):
    iam_user = f"jupyterhub-ov-{username}"
    s3.admin_client("iam").create_user(UserName=iam_user, **create)
    before = iam_state(s3, iam_user)
    with pytest.raises(BucketUnavailable, match=f"IAM user {iam_user} already exists but was not"):
        await provisioner(s3).ensure(username)
    assert iam_state(s3, iam_user) == before
    assert bucket_state(s3, f"jupyter-{username}") is None


@pytest.mark.parametrize(
    "username, tags",
    [
        ("oscar", None),
        ("oscar2", [{"Key": "team", "Value": "x"}]),
        ("oscar3", [{"Key": "jupyterhub-ov:user", "Value": "someone-else"}]),
    ],
)
async def test_an_unmarked_bucket_is_refused_and_nothing_changes(s3, username, tags):
    bucket = f"jupyter-{username}"
    admin = s3.admin_client("s3")
    admin.create_bucket(Bucket=bucket)
    admin.put_object(Bucket=bucket, Key="theirs", Body=b"x")
    if tags:
        admin.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
    before = bucket_state(s3, bucket)
    with pytest.raises(BucketUnavailable, match=f"Bucket {bucket} already exists but was not"):
        await provisioner(s3).ensure(username)
    assert bucket_state(s3, bucket) == before
    assert iam_state(s3, f"jupyterhub-ov-{username}") is None


async def test_marked_bucket_and_identity_are_reused(s3):
    mark = [{"Key": "jupyterhub-ov:user", "Value": "Peggy Sue"}]
    iam, admin = s3.admin_client("iam"), s3.admin_client("s3")
    p = provisioner(s3)
    user, bucket = names.iam_user_name("Peggy Sue"), names.bucket_name("Peggy Sue")
    iam.create_user(UserName=user, Path="/jupyterhub-ov/", Tags=mark)
    admin.create_bucket(Bucket=bucket)
    admin.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": mark})
    admin.put_object(Bucket=bucket, Key="restored", Body=b"from a backup")
    creds = await p.ensure("Peggy Sue")
    c = s3.client("s3", creds.access_key_id, creds.secret_access_key)
    assert c.get_object(Bucket=bucket, Key="restored")["Body"].read() == b"from a backup"


async def test_the_provisioners_own_identity_is_never_provisioned(s3):
    """Defence in depth: an admin key that belongs to a (marked) user identity is refused,
    and stays valid; the reserved embedded admin name is refused outright."""
    iam = s3.admin_client("iam")
    ops = names.iam_user_name("hubops")
    iam.create_user(
        UserName=ops,
        Path="/jupyterhub-ov/",
        Tags=[{"Key": "jupyterhub-ov:user", "Value": "hubops"}],
    )
    iam.put_user_policy(UserName=ops, PolicyName="all", PolicyDocument=json.dumps(ALLOW_ALL))
    key = iam.create_access_key(UserName=ops)["AccessKey"]
    p = LocalBucketProvisioner(
        endpoint_url=s3.endpoint_url,
        access_key_id=key["AccessKeyId"],
        secret_access_key=key["SecretAccessKey"],
    )
    for _ in range(2):
        with pytest.raises(BucketUnavailable, match=f"IAM user {ops} holds the hub's own admin"):
            await p.ensure("hubops")
    assert iam_state(s3, ops)[1] == [key["AccessKeyId"]]
    assert (await p.ensure("heidi")).bucket == "jupyter-heidi"  # still provisioning
    s3c, iamc = s3calls.admin_clients(await provisioner(s3).admin_credentials(), 10)
    with pytest.raises(s3calls.Refused, match="reserved"):
        s3calls.provision(
            s3c,
            iamc,
            bucket="jupyter-x",
            user=names.EMBEDDED_ADMIN_IAM_USER,
            owner="x",
            policy={},
            admin_key_id=s3.admin["access_key_id"],
        )
    with pytest.raises(s3calls.Refused, match="own admin key"):
        s3calls.rotate_access_key(
            iamc, names.EMBEDDED_ADMIN_IAM_USER, admin_key_id=s3.admin["access_key_id"]
        )
    assert iam_state(s3, names.EMBEDDED_ADMIN_IAM_USER)[1] == [s3.admin["access_key_id"]]
    assert bucket_state(s3, "jupyter-x") is None


ESCALATIONS = [
    ("iam", "create_access_key", {"UserName": names.EMBEDDED_ADMIN_IAM_USER}),
    ("iam", "create_access_key", {"UserName": "jupyterhub-ov-victor"}),
    ("iam", "list_users", {}),
    ("iam", "list_access_keys", {"UserName": names.EMBEDDED_ADMIN_IAM_USER}),
    (
        "iam",
        "get_user_policy",
        {"UserName": "jupyterhub-ov-victor", "PolicyName": "jupyterhub-ov-buckets"},
    ),
    ("iam", "create_user", {"UserName": "intruder"}),
    (
        "iam",
        "put_user_policy",
        {
            "UserName": "jupyterhub-ov-walter",
            "PolicyName": "p",
            "PolicyDocument": json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
                }
            ),
        },
    ),
    (
        "iam",
        "attach_user_policy",
        {
            "UserName": "jupyterhub-ov-walter",
            "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess",
        },
    ),
    ("iam", "create_role", {"RoleName": "r", "AssumeRolePolicyDocument": "{}"}),
    ("iam", "untag_user", {"UserName": "jupyterhub-ov-walter", "TagKeys": ["jupyterhub-ov:user"]}),
    (
        "sts",
        "assume_role",
        {"RoleArn": "arn:aws:iam::123456789012:role/admin", "RoleSessionName": "s0"},
    ),
    (
        "sts",
        "assume_role",
        {
            "RoleArn": f"arn:aws:iam::123456789012:user/{names.EMBEDDED_ADMIN_IAM_USER}",
            "RoleSessionName": "s1",
        },
    ),
    ("sts", "get_session_token", {}),
    ("sts", "get_federation_token", {"Name": "fed", "Policy": json.dumps(ALLOW_ALL)}),
    ("s3", "list_buckets", {}),
    ("s3", "list_objects_v2", {"Bucket": "jupyter-victor"}),
    ("s3", "get_object", {"Bucket": "jupyter-victor", "Key": "secret"}),
    ("s3", "put_object", {"Bucket": "jupyter-victor", "Key": "planted", "Body": b"x"}),
    ("s3", "delete_object", {"Bucket": "jupyter-victor", "Key": "secret"}),
    ("s3", "delete_bucket", {"Bucket": "jupyter-victor"}),
    ("s3", "put_bucket_policy", {"Bucket": "jupyter-victor", "Policy": json.dumps(ALLOW_ALL)}),
    ("s3", "create_bucket", {"Bucket": "jupyter-squatted"}),
    # moto checks only a copy's destination; the embedded server checks the source too
    (
        "s3",
        "copy_object",
        {"Bucket": "jupyter-walter", "Key": "stolen", "CopySource": "jupyter-victor/secret"},
    ),
    (
        "s3",
        "copy_object",
        {"Bucket": "jupyter-walter", "Key": "stolen", "CopySource": "/jupyter-victor/secre%74"},
    ),
    ("s3", "put_bucket_tagging", {"Bucket": "jupyter-walter", "Tagging": {"TagSet": []}}),
    ("s3", "delete_bucket_tagging", {"Bucket": "jupyter-walter"}),
]


@pytest.fixture(scope="module")
def victim_and_attacker(s3):
    p = provisioner(s3)
    victor = asyncio.run(p.ensure("victor"))
    put(s3, victor, "secret", b"victor's")
    return victor, asyncio.run(p.ensure("walter"))


@pytest.mark.parametrize(
    "service, call, kwargs", ESCALATIONS, ids=[f"{s}.{c}" for s, c, _ in ESCALATIONS]
)
def test_a_users_keys_cannot_escalate(s3, victim_and_attacker, service, call, kwargs):
    victor, walter = victim_and_attacker
    client = s3.client(service, walter.access_key_id, walter.secret_access_key)
    assert error_code(lambda: getattr(client, call)(**kwargs)) == "AccessDenied"
    # the victim's data and the owner marks are as they were
    v = s3.client("s3", victor.access_key_id, victor.secret_access_key)
    assert [o["Key"] for o in v.list_objects_v2(Bucket=victor.bucket)["Contents"]] == ["secret"]
    assert iam_state(s3, "jupyterhub-ov-walter")[3] == [
        {"Key": "jupyterhub-ov:user", "Value": "walter"}
    ]


async def test_simultaneous_first_launches_of_one_user_both_succeed(s3):
    """Creating and tagging a bucket are two calls: the second launch must not see the
    half-made bucket as a foreign one."""
    p = provisioner(s3)
    launches = await asyncio.gather(*(p.ensure("ivan") for _ in range(4)))
    assert {c.bucket for c in launches} == {"jupyter-ivan"}
    put(s3, launches[-1], "k", b"1")


def test_copies_need_read_access_to_the_source(s3, victim_and_attacker):
    victor, walter = victim_and_attacker
    w = s3.client("s3", walter.access_key_id, walter.secret_access_key)
    w.put_object(Bucket=walter.bucket, Key="own", Body=b"walter's")
    w.copy_object(Bucket=walter.bucket, Key="own-copy", CopySource=f"{walter.bucket}/own")
    assert w.get_object(Bucket=walter.bucket, Key="own-copy")["Body"].read() == b"walter's"
    upload = w.create_multipart_upload(Bucket=walter.bucket, Key="parts")["UploadId"]
    steal = {"Bucket": walter.bucket, "Key": "parts", "UploadId": upload, "PartNumber": 1}
    source = {"Bucket": victor.bucket, "Key": "secret"}
    assert error_code(lambda: w.upload_part_copy(CopySource=source, **steal)) == "AccessDenied"
    w.upload_part_copy(CopySource={"Bucket": walter.bucket, "Key": "own"}, **steal)
    assert error_code(lambda: w.get_object(Bucket=walter.bucket, Key="stolen")) == "NoSuchKey"
