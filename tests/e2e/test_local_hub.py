"""The shipped configuration served by a real JupyterHub with real single-user servers."""

from __future__ import annotations

import json
import textwrap

import pytest

from ..hubproc import running_hub
from ..kernel import run_code
from ..util import free_port

pytestmark = pytest.mark.e2e

PROBE = textwrap.dedent(
    """
    import json, os, sys, boto3
    s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT_URL"])
    bucket = os.environ["BUCKET_NAME"]
    s3.put_object(Bucket=bucket, Key="hello.txt", Body=os.environ["JUPYTERHUB_USER"].encode())
    try:
        import ovmarker
        marker = ovmarker.ENVIRONMENT
    except ImportError:
        marker = None
    print(json.dumps({
        "read": s3.get_object(Bucket=bucket, Key="hello.txt")["Body"].read().decode(),
        "bucket": bucket, "home": os.environ["HOME"], "cwd": os.getcwd(),
        "prefix": sys.prefix, "marker": marker, "user": os.environ["USER"], "uid": os.getuid(),
        "image": os.environ["JUPYTERHUB_OV_IMAGE"],
        "buckets": json.loads(os.environ["JUPYTERHUB_OV_BUCKETS"]),
        "secret": os.environ["AWS_SECRET_ACCESS_KEY"],
        "nss": os.environ.get("NSS_WRAPPER_PASSWD"),
        "hub_secret_leaked": "CONFIGPROXY_AUTH_TOKEN" in os.environ,
    }))
    """
)

TRESPASS = textwrap.dedent(
    """
    import os, boto3
    from botocore.exceptions import ClientError
    s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT_URL"])
    for call in (lambda: s3.get_object(Bucket={bucket!r}, Key="hello.txt"),
                 lambda: s3.put_object(Bucket={bucket!r}, Key="x", Body=b"x")):
        try:
            call()
            print("ALLOWED")
        except ClientError as e:
            print(e.response["Error"]["Code"])
    """
)


async def probe(hub, user):
    return json.loads(await run_code(hub.url, user, hub.token, PROBE))


async def test_two_users_get_own_directory_bucket_and_image(local_hub):
    hub = local_hub
    hub.start_server("alice")  # no options: the default image
    hub.start_server("bob", {"image": "marker-notebook:latest"})
    alice, bob = await probe(hub, "alice"), await probe(hub, "bob")

    users = hub.data / "users"
    assert alice["home"] == alice["cwd"] == str(users / "alice")
    assert bob["home"] == bob["cwd"] == str(users / "bob")
    assert (users / "alice").is_dir() and (users / "bob").is_dir()
    assert alice["nss"] == "/nss/passwd" and not alice["hub_secret_leaked"]
    # each runs as an OS account of their own (as root), or as the hub (shared identity)
    assert alice["user"] == (hub.system_user("alice") or "alice")
    assert bob["user"] == (hub.system_user("bob") or "bob")
    if hub.user_prefix:
        assert 0 != alice["uid"] != bob["uid"] != 0
        assert (users / "alice").stat().st_uid == alice["uid"]
        assert (users / "alice").stat().st_mode & 0o777 == 0o700

    assert alice["read"] == "alice" and alice["bucket"] == "jupyter-alice"
    assert bob["read"] == "bob" and bob["bucket"] == "jupyter-bob"
    assert alice["buckets"] == [
        {"name": "jupyter-alice", "endpoint": alice["buckets"][0]["endpoint"], "own": True}
    ]

    # the menu choice decides whose Python runs the server
    assert alice["image"] == "default-notebook:latest" and alice["marker"] is None
    assert bob["image"] == "marker-notebook:latest" and bob["marker"] == "marker-notebook"
    assert bob["prefix"] == str(hub.data / "environments" / "marker")

    out = await run_code(hub.url, "bob", hub.token, TRESPASS.format(bucket=alice["bucket"]))
    assert out.split() == ["AccessDenied", "AccessDenied"]

    # secrets: only in the servers' environments
    for secret in (alice["secret"], bob["secret"]):
        assert secret.encode() not in (hub.state / "jupyterhub.sqlite").read_bytes()
        assert secret not in hub.log()
        for name in ("alice", "bob"):
            assert secret not in json.dumps(hub.user(name))  # includes server state
    assert hub.user("alice")["servers"][""]["state"]  # the state really is in the answer


async def test_bucket_and_work_directory_survive_a_restart(local_hub):
    hub = local_hub
    hub.start_server("carol")
    first = await probe(hub, "carol")
    (hub.data / "users" / "carol" / "notes.txt").write_text("mine")
    hub.stop_server("carol")
    hub.start_server("carol")
    code = (
        "import os, boto3; s3 = boto3.client('s3', endpoint_url=os.environ['S3_ENDPOINT_URL']);"
        "print(s3.get_object(Bucket=os.environ['BUCKET_NAME'], Key='hello.txt')['Body'].read()"
        ".decode(), open('notes.txt').read(),"
        f" os.environ['AWS_SECRET_ACCESS_KEY'] != {first['secret']!r})"
    )
    again = await run_code(hub.url, "carol", hub.token, code)
    assert again.split() == ["carol", "mine", "True"]  # data kept, credentials rotated
    hub.stop_server("carol")


def test_broken_environment_is_logged_once_and_breaks_nothing(local_hub):
    hub = local_hub
    hub.start_server("dave", {"image": "broken-notebook:latest"})  # asks for the broken one
    broken = str(hub.data / "environments" / "broken")
    lines = [line for line in hub.log().splitlines() if "Skipping local environment" in line]
    assert len(lines) == 1, lines
    assert f"Skipping local environment {broken}: Expecting" in lines[0]  # the JSON error
    assert "no longer available" in hub.log()  # fell back to the default, with a note
    hub.stop_server("dave")


def test_unreachable_s3_fails_the_spawn_with_a_clear_message(tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"
    extra = """
    c.LocalBucketProvisioner.access_key_id = "admin"
    c.LocalBucketProvisioner.secret_access_key = "admin-secret"
    """
    with running_hub(tmp_path, extra, env={"JUPYTERHUB_OV_S3_ENDPOINT": dead}) as hub:
        hub.api("POST", "/users/erin")
        r = hub.api("POST", "/users/erin/server", json={})
        assert r.status_code == 500, r.text
        assert (
            f"Your storage bucket could not be set up: The S3 service at {dead} is unreachable"
            in r.json()["message"]
        )
        server = hub.user("erin")["servers"][""]
        assert server["stopped"] and not server["ready"] and not server["pending"]
        assert "admin-secret" not in hub.log()
