"""The shipped embedded S3 server refuses moto's dashboard, management API and other services.

Against the real server process (tests/s3server.py) with raw HTTP and boto3: every refused
request must leave its state alone, so each test ends by proving a user's bucket, the user's
keys and the admin identity still work and nothing was wiped or switched off.
"""

import asyncio
import http.client
import json
import socket
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError
from werkzeug.test import Client

from jupyterhub_ov import names
from jupyterhub_ov.storage import embedded
from jupyterhub_ov.storage.s3local import LocalBucketProvisioner

from ..s3server import embedded_s3

METHODS = ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"]
HOSTS = [None, "motoapi.amazonaws.com", "localhost", "s3.amazonaws.com", "moto_api"]
MOTO_API_PATHS = [
    "/moto-api/",
    "/moto-api",
    "/moto-api/data.json",
    "/moto-api/data.json?x=1",
    "/moto-api/reset",
    "/moto-api/reset-auth",
    "/moto-api/seed?a=42",
    "/moto-api/config",
    "/moto-api/lib.js",
    "/moto-api/state-manager/get-transition?model_name=x",
    "/moto-api/recorder/download-recording",
    "/moto-api/recorder/start-recording",
    "//moto-api/data.json",
    "///moto-api//reset",
    "/moto-api//data.json",
    "/%6Doto-api/data.json",
    "/%6d%6f%74%6f-api/reset",
    "/%2Fmoto-api/reset",
    "/%256Doto-api/reset",
    "/MOTO-API/data.json",
    "/Moto-Api/reset",
    "\\moto-api/data.json",
    "/moto-apix",
]
# moto routes these to its other unauthenticated stubs (favicon → moto_api; instance metadata)
OTHER_PATHS = ["/favicon.ico", "/latest/meta-data/iam/security-credentials/default-role"]
S3_SIGNATURE = (
    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20250101/us-east-1/s3/aws4_request,"
    " SignedHeaders=host, Signature=00"
)
# a signature scope naming another service makes moto route by it, whatever the path
FORGED_SCOPES = [
    "x/20250101/amazonaws.com/motoapi/aws4_request",  # → motoapi.amazonaws.com...: moto_api
    "x/20250101/us-east-1/moto_api/aws4_request",
    "x/20250101/us-east-1/ec2/aws4_request",
    "x/20250101/us-east-1/s3-control/aws4_request",
]


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    with embedded_s3(tmp_path_factory.mktemp("s3")) as server:
        yield server


@pytest.fixture(scope="module")
def alice(s3):
    """A user with a bucket holding an object: what a refused request must not touch."""
    provisioner = LocalBucketProvisioner(credentials_file=str(s3.credentials_file))
    creds = asyncio.run(provisioner.ensure("alice"))
    c = s3.client("s3", creds.access_key_id, creds.secret_access_key)
    c.put_object(Bucket=creds.bucket, Key="keep", Body=b"alice's data")
    return creds


def raw(s3, method, path, host=None, headers=None, body=b""):
    url = urlsplit(s3.endpoint_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    all_headers = dict(headers or {})
    if host:
        all_headers["Host"] = host
    try:
        conn.request(method, path, body=body or None, headers=all_headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def assert_state_intact(s3, alice):
    c = s3.client("s3", alice.access_key_id, alice.secret_access_key)
    assert c.get_object(Bucket=alice.bucket, Key="keep")["Body"].read() == b"alice's data"
    admin_iam = s3.admin_client("iam")
    users = {u["UserName"] for u in admin_iam.list_users()["Users"]}
    assert {names.EMBEDDED_ADMIN_IAM_USER, "jupyterhub-ov-alice"} <= users
    # authentication is still on: an unknown key is refused
    stranger = s3.client("s3", "AKIAUNKNOWNKEY000000", "nope")
    with pytest.raises(ClientError) as e:
        stranger.list_buckets()
    assert e.value.response["Error"]["Code"] == "InvalidAccessKeyId"


def assert_refused(status, body, s3, alice):
    assert status in (403, 404), (status, body[:200])
    for secret in (s3.admin["secret_access_key"], alice.secret_access_key):
        assert secret.encode() not in body
    assert b"AccessKeyId" not in body


@pytest.mark.parametrize("path", MOTO_API_PATHS + OTHER_PATHS)
def test_moto_api_is_refused_for_every_method_and_host(s3, alice, path):
    # unsigned, and with a signature header (so the refusal is not just "must be signed")
    for headers in ({}, {"Authorization": S3_SIGNATURE}):
        for method in METHODS:
            for host in HOSTS:
                body = b"1000" if method in ("POST", "PUT", "PATCH") else b""
                status, answer = raw(s3, method, path, host, headers, body)
                assert_refused(status, answer, s3, alice)
                assert b"must be signed" not in answer or not headers
    assert_state_intact(s3, alice)


def test_absolute_form_request_targets_are_refused(s3, alice):
    for target in (
        f"{s3.endpoint_url}/moto-api/data.json",
        "http://motoapi.amazonaws.com/moto-api/reset",
        "http://motoapi.amazonaws.com//moto-api/data.json",
    ):
        for method in ("GET", "POST"):
            assert_refused(*raw(s3, method, target), s3, alice)
    assert_state_intact(s3, alice)


@pytest.mark.parametrize("scope", FORGED_SCOPES)
def test_other_services_are_refused_even_when_the_signature_names_them(s3, alice, scope):
    auth = f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=00"
    for path in ("/", "/data.json", "/reset"):
        for method in ("GET", "POST"):
            status, body = raw(s3, method, path, headers={"Authorization": auth})
            assert_refused(status, body, s3, alice)
    assert_state_intact(s3, alice)


def test_moto_account_switch_header_is_refused(s3, alice):
    c = s3.client("s3", alice.access_key_id, alice.secret_access_key)
    c.meta.events.register(
        "before-sign.s3", lambda request, **_: request.headers.add_header("x-moto-account-id", "1")
    )
    with pytest.raises(ClientError) as e:
        c.get_object(Bucket=alice.bucket, Key="keep")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert_state_intact(s3, alice)


def test_reset_auth_cannot_switch_authentication_off(s3, alice):
    """reset-auth would give everyone N more unauthenticated calls: refused, auth stays on."""
    status, _ = raw(s3, "POST", "/moto-api/reset-auth", body=b"1000")
    assert status == 403
    unsigned = raw(
        s3,
        "POST",
        "/",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=b"Action=CreateUser&UserName=intruder&Version=2010-05-08",
    )
    assert unsigned[0] == 403
    users = {u["UserName"] for u in s3.admin_client("iam").list_users()["Users"]}
    assert "intruder" not in users
    assert_state_intact(s3, alice)


def test_served_services_still_work(s3, alice):
    """S3, IAM and STS requests pass the gate (IAM then decides, as before)."""
    sts = s3.client("sts", alice.access_key_id, alice.secret_access_key)
    assert sts.get_caller_identity()["Arn"].endswith(":user/jupyterhub-ov/jupyterhub-ov-alice")
    admin = s3.admin_client("iam").get_user(UserName=names.EMBEDDED_ADMIN_IAM_USER)["User"]
    assert admin["Path"] == names.EMBEDDED_ADMIN_IAM_PATH
    assert (
        json.loads(s3.credentials_file.read_text())["access_key_id"] == (s3.admin["access_key_id"])
    )


def test_a_gate_not_yet_open_admits_only_the_bootstrap_token():
    """Before the admin exists, nobody but the bootstrap may spend moto's free calls."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    gate = embedded.Gate(DomainDispatcherApplication(create_backend_app), "right-token")
    client = Client(gate)
    signed = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": "AWS4-HMAC-SHA256 Credential=bootstrap/20250101/us-east-1/sts/"
        "aws4_request, SignedHeaders=host, Signature=00",
    }
    sts_call = "Action=GetCallerIdentity&Version=2011-06-15"

    def call(**extra):
        return client.post("/", data=sts_call, headers={**signed, **extra})

    for token in ("", "wrong-token", "right-token-and-more"):
        assert call(**{embedded.BOOTSTRAP_HEADER: token}).status_code == 503
    assert call().status_code == 503
    # with the token it reaches moto (in this process moto authenticates nobody)
    ok = call(**{embedded.BOOTSTRAP_HEADER: "right-token"})
    assert ok.status_code == 200 and b"GetCallerIdentityResponse" in ok.data
    moto_api = client.get("/moto-api/data.json", headers={embedded.BOOTSTRAP_HEADER: "right-token"})
    assert moto_api.status_code == 403
    gate.open()
    assert call().status_code == 200
    unsigned = client.post("/", data=sts_call, headers={"Content-Type": signed["Content-Type"]})
    assert unsigned.status_code == 403 and b"must be signed" in unsigned.data


@pytest.mark.parametrize(
    "path, reaches",
    [
        ("/moto-api/data.json", True),
        ("/MOTO-api", True),
        ("//moto-api", True),
        ("/%6Doto-api/reset", True),
        ("/%25%36%44oto-api/reset", True),
        ("http://motoapi.amazonaws.com/moto-api/reset", True),
        ("https://x//moto-api", True),
        ("\\moto-api/x", True),
        ("/moto-apiary", True),  # moto routes any path starting so to its management app
        ("/jupyter-alice/moto-api/data.json", False),  # an object key in a user's bucket
        ("/jupyter-alice?prefix=/moto-api", False),
        ("/", False),
        ("", False),
    ],
)
def test_reaches_moto_api(path, reaches):
    assert embedded.reaches_moto_api(path) is reaches


def test_listens_on_loopback_127_0_0_1_only_by_default(s3):
    """tests/s3server.py passes no --host: other addresses of this machine get nothing."""
    port = urlsplit(s3.endpoint_url).port
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.2", port), timeout=5).close()
