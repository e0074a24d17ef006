"""From inside their own kernels, users attack the embedded S3 service (findings 2 and 3)."""

from __future__ import annotations

import json
import textwrap

import pytest

from jupyterhub_ov.storage import embedded

from .conftest import Attack

pytestmark = [pytest.mark.e2e]

DASHBOARD = textwrap.dedent(
    """
    import json, os, urllib.request, urllib.error
    base = os.environ["S3_ENDPOINT_URL"]
    out = {}
    for method, path, host in [
        ("GET", "/moto-api/data.json", None),
        ("GET", "/moto-api/", None),
        ("POST", "/moto-api/reset", None),
        ("POST", "/moto-api/reset", "moto-api.localhost"),
        ("GET", "//moto-api/data.json", None),
        ("GET", "/%%6Doto-api/data.json", None),
        ("GET", "/moto-api/data.json", "motoapi.amazonaws.com"),
    ]:
        body = b"" if method == "POST" else None
        request = urllib.request.Request(base + path, method=method, data=body)
        if host:
            request.add_header("Host", host)
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                out[f"{method} {path} {host}"] = [r.status, r.read().decode(errors="replace")]
        except urllib.error.HTTPError as e:
            out[f"{method} {path} {host}"] = [e.code, e.read().decode(errors="replace")]
    print(json.dumps(out))
    """
)

TRESPASS = textwrap.dedent(
    """
    import json, os, boto3
    from botocore.exceptions import ClientError
    s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT_URL"])
    iam = boto3.client("iam", endpoint_url=os.environ["S3_ENDPOINT_URL"], region_name="us-east-1")
    sts = boto3.client("sts", endpoint_url=os.environ["S3_ENDPOINT_URL"], region_name="us-east-1")
    ALL = {"Version": "2012-10-17",
           "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    calls = {
        "list buckets": lambda: s3.list_buckets(),
        "read other": lambda: s3.get_object(Bucket=%(other)r, Key="private.txt"),
        "write other": lambda: s3.put_object(Bucket=%(other)r, Key="x", Body=b"x"),
        "list other": lambda: s3.list_objects_v2(Bucket=%(other)r),
        "iam list users": lambda: iam.list_users(),
        "iam key for admin": lambda: iam.create_access_key(UserName=%(admin)r),
        "iam key for other": lambda: iam.create_access_key(UserName=%(other_iam)r),
        "iam policy": lambda: iam.put_user_policy(
            UserName=%(own_iam)r, PolicyName="x", PolicyDocument=json.dumps(ALL)),
        "sts assume": lambda: sts.assume_role(
            RoleArn="arn:aws:iam::123456789012:role/x", RoleSessionName="alice-session"),
    }
    out = {}
    for name, call in calls.items():
        try:
            call()
            out[name] = "ALLOWED"
        except ClientError as e:
            out[name] = e.response["Error"]["Code"]
    print(json.dumps(out))
    """
)


def _iam(user: str) -> str:
    from jupyterhub_ov import names

    return names.iam_user_name(user)


async def test_the_dashboard_and_reset_are_refused(attack: Attack):
    got = await attack.json("alice", DASHBOARD)
    admin_secret = json.loads((attack.hub.state / "s3-admin.json").read_text())
    for what, (status, body) in got.items():
        assert status in (400, 403, 404), (what, status, body[:200])
        assert admin_secret["secret_access_key"] not in body
        assert attack.me["bob"]["secret"] not in body
    # nothing was reset: bob's data is still there, and new users still get buckets
    bob = await attack.run(
        "bob",
        "import os, boto3; s3 = boto3.client('s3', endpoint_url=os.environ['S3_ENDPOINT_URL']);"
        " print(s3.get_object(Bucket=os.environ['BUCKET_NAME'], Key='private.txt')['Body']"
        ".read().decode())",
    )
    assert bob.strip() == "bob's data"


@pytest.mark.parametrize("user", ["alice", "admin"])
async def test_a_users_keys_reach_their_own_bucket_only(attack: Attack, user: str):
    other = "bob"
    code = TRESPASS % {
        "other": attack.me[other]["bucket"],
        "admin": embedded.ADMIN_USER,
        "other_iam": _iam(other),
        "own_iam": _iam(user),
    }
    got = await attack.json(user, code)
    assert all(v != "ALLOWED" for k, v in got.items() if k != "list buckets"), got
    assert got["read other"] == got["write other"] == "AccessDenied"


async def test_admins_restarts_leave_the_provisioner_working(attack: Attack):
    hub = attack.hub
    for _ in range(2):
        hub.stop_server("admin")
        hub.start_server("admin")
    hub.start_server("dave")  # answered 500 on main: the provisioning key was rotated away
    dave = await attack.run("dave", "import os; print(os.environ['BUCKET_NAME'])")
    assert dave.strip() == "jupyter-dave"
    hub.stop_server("dave")
