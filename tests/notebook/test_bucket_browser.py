"""The buckets of the file browser through a real Jupyter server's contents API.

The shipped start-up configuration (jupyter-config/) in a real ``jupyter_server`` started with
a user's environment as the local provisioner makes it (embedded S3, IAM enforced): the own
and the granted bucket are jupyter-fs drives that read and write; another user's bucket is
out of reach whatever path or API call asks for it. That user is "annex": their bucket's name
(jupyter-annex) begins with the own one's (jupyter-ann), which jupyter-fs's path check
(``startswith(root)``) lets through to S3, where the user's IAM policy refuses it.
"""

import asyncio
import json
import os
import re
import subprocess
import sys
import time

import pytest
import requests

from jupyterhub_ov.buckets import JUPYTER_CONFIG_DIR
from jupyterhub_ov.storage.s3local import LocalBucketProvisioner

from ..s3server import embedded_s3
from ..util import free_port

TOKEN = "bucket-browser-test-token"


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    with embedded_s3(tmp_path_factory.mktemp("s3")) as server:
        yield server


@pytest.fixture(scope="module")
def users(s3):
    s3.admin_client("s3").create_bucket(Bucket="team-shared")
    s3.admin_client("s3").put_object(Bucket="team-shared", Key="readme.txt", Body=b"team data")
    p = LocalBucketProvisioner(
        credentials_file=str(s3.credentials_file), grants={"ann": ["team-shared"]}
    )

    async def both():
        return await asyncio.gather(p.ensure("ann"), p.ensure("annex"))

    ann, bob = asyncio.run(both())
    bob_client = s3.client("s3", bob.access_key_id, bob.secret_access_key)
    bob_client.put_object(Bucket=bob.bucket, Key="secret.txt", Body=b"bob's only")
    return ann, bob


def start_server(root, environment):
    """``jupyter server`` as a notebook would run it, with only the given S3 environment."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3_", "JUPYTER"))}
    env.update(environment)
    env.update(
        HOME=str(root),
        JUPYTER_CONFIG_DIR=str(root / ".jupyter"),
        JUPYTER_CONFIG_PATH=JUPYTER_CONFIG_DIR,
    )
    log = open(root / "server.log", "wb")  # noqa: SIM115 (closed by the fixture)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_server",
            f"--ServerApp.port={port}",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.root_dir={root}",
            f"--IdentityProvider.token={TOKEN}",
            "--ServerApp.open_browser=False",
            "--allow-root",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError((root / "server.log").read_text())
        try:
            requests.get(f"{url}/api/status", headers=auth(), timeout=2).raise_for_status()
            return proc, log, url
        except requests.RequestException:
            time.sleep(0.3)
    proc.kill()
    raise TimeoutError((root / "server.log").read_text())


def auth():
    return {"Authorization": f"token {TOKEN}"}


@pytest.fixture(scope="module")
def server(users, tmp_path_factory):
    ann, _ = users
    root = tmp_path_factory.mktemp("ann-home")
    proc, log, url = start_server(root, ann.environment())
    yield url
    proc.terminate()
    proc.wait(15)
    log.close()


def drives(url):
    r = requests.get(f"{url}/jupyterfs/resources", headers=auth(), timeout=10)
    r.raise_for_status()
    return {res["url"]: res for res in r.json()}


def contents(url, path, method="GET", **kw):
    return requests.request(method, f"{url}/api/contents/{path}", headers=auth(), timeout=30, **kw)


def test_own_and_granted_buckets_are_drives_without_credentials(server, users):
    ann, bob = users
    found = drives(server)
    assert set(found) == {f"s3://{ann.bucket}", "s3://team-shared"}
    assert all(r["init"] for r in found.values()), found
    text = json.dumps(found)
    assert ann.secret_access_key not in text and ann.access_key_id not in text
    assert bob.bucket not in text


def test_upload_into_own_bucket_reads_back_with_boto3_and_renames_and_deletes(server, users, s3):
    ann, _ = users
    drive = drives(server)[f"s3://{ann.bucket}"]["drive"]
    body = {"type": "file", "format": "text", "content": "uploaded through jupyter-fs\n"}
    r = contents(server, f"{drive}:notes.txt", "PUT", json=body)
    assert r.status_code in (200, 201), r.text
    client = s3.client("s3", ann.access_key_id, ann.secret_access_key)
    got = client.get_object(Bucket=ann.bucket, Key="notes.txt")["Body"].read()
    assert got == b"uploaded through jupyter-fs\n"
    listing = contents(server, f"{drive}:").json()
    assert "notes.txt" in [e["name"] for e in listing["content"]]
    r = contents(server, f"{drive}:notes.txt", "PATCH", json={"path": f"{drive}:renamed.txt"})
    assert r.status_code == 200, r.text
    assert client.get_object(Bucket=ann.bucket, Key="renamed.txt")["Body"].read() == got
    assert contents(server, f"{drive}:renamed.txt", "DELETE").status_code == 204
    assert client.list_objects_v2(Bucket=ann.bucket).get("KeyCount") == 0


def test_granted_bucket_is_readable(server):
    drive = drives(server)["s3://team-shared"]["drive"]
    r = contents(server, f"{drive}:readme.txt")
    assert r.status_code == 200, r.text
    assert r.json()["content"] == "team data"


@pytest.mark.parametrize(
    "path",
    [
        "{own}:../{bob}/secret.txt",
        "{own}:/../{bob}/secret.txt",
        "{own}:%2E%2E/{bob}/secret.txt",
        "{own}:{bob}/secret.txt",
        "{shared}:../{bob}/secret.txt",
        "../{bob}/secret.txt",
        "{bob}/secret.txt",
        "s3:{bob}/secret.txt",
    ],
)
def test_another_users_bucket_is_out_of_reach(server, users, s3, path):
    ann, bob = users
    found = drives(server)
    crafted = path.format(
        own=found[f"s3://{ann.bucket}"]["drive"],
        shared=found["s3://team-shared"]["drive"],
        bob=bob.bucket,
    )
    r = contents(server, crafted)
    assert r.status_code >= 400, (crafted, r.status_code, r.text)
    if path == "{own}:{bob}/secret.txt":  # jupyter-fs lets it through: S3 says no
        assert r.status_code == 403 and "(AccessDenied)" in r.json()["message"], r.text
    assert "bob's only" not in r.text
    # a write lands in the user's own bucket (a folder of that name) or is refused
    contents(server, crafted, "PUT", json={"type": "file", "format": "text", "content": "x"})
    contents(server, crafted, "DELETE")
    assert_untouched(s3, bob)


def assert_untouched(s3, bob):
    client = s3.client("s3", bob.access_key_id, bob.secret_access_key)
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bob.bucket)["Contents"]]
    assert keys == ["secret.txt"]
    assert client.get_object(Bucket=bob.bucket, Key="secret.txt")["Body"].read() == b"bob's only"


def test_a_user_cannot_add_a_resource_for_another_bucket(server, users):
    _, bob = users
    resource = {"name": "b", "url": f"s3://{bob.bucket}", "type": "fsspec", "auth": "none"}
    r = requests.post(
        f"{server}/jupyterfs/resources",
        headers=auth(),
        json={"options": {}, "resources": [resource]},
        timeout=10,
    )
    assert f"s3://{bob.bucket}" not in drives(server)
    assert r.status_code >= 400 or f"s3://{bob.bucket}" not in r.text


def test_bobs_object_is_untouched(users, s3):
    assert_untouched(s3, users[1])


def test_a_server_without_jupyter_fs_still_starts(tmp_path, users):
    """The same configuration on an interpreter where jupyterfs cannot be imported: no crash,
    the plain contents manager, no bucket drives."""
    ann, _ = users
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "jupyterfs.py").write_text("raise ImportError('jupyter-fs is not installed')\n")
    env = {**ann.environment(), "PYTHONPATH": str(blocker)}
    proc, log, url = start_server(tmp_path, env)
    try:
        assert requests.get(f"{url}/api/contents", headers=auth(), timeout=10).status_code == 200
        fs = requests.get(f"{url}/jupyterfs/resources", headers=auth(), timeout=10)
        assert fs.status_code == 404
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()


def test_a_listed_bucket_the_keys_cannot_reach_is_not_offered(tmp_path, users, s3):
    """A list that names more than the keys allow (a grant withdrawn since, a typo): that
    bucket's resource is not initialised (no panel), the server log says why, the other
    buckets work, and nothing of that bucket is read or changed."""
    ann, bob = users
    listed = json.loads(ann.environment()["JUPYTERHUB_OV_BUCKETS"])
    listed.append({"name": bob.bucket, "endpoint": s3.endpoint_url, "own": False})
    env = {**ann.environment(), "JUPYTERHUB_OV_BUCKETS": json.dumps(listed)}
    proc, log, url = start_server(tmp_path, env)
    try:
        found = drives(url)
        assert found[f"s3://{bob.bucket}"]["init"] is False
        assert found[f"s3://{ann.bucket}"]["init"] is True
        r = contents(url, f"{found[f's3://{bob.bucket}']['drive']}:secret.txt")
        assert r.status_code >= 400 and "bob's only" not in r.text, r.text
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()
    server_log = (tmp_path / "server.log").read_text()
    assert f"Could not connect to fs s3://{bob.bucket}" in server_log
    assert re.search(r"AccessDenied|Access Denied|Forbidden|403", server_log)
    assert_untouched(s3, bob)


def test_refused_writes_answer_403_with_the_s3_error_and_lose_nothing(tmp_path, users, s3):
    """cy may read ann's bucket but, by an extra Deny policy, neither write nor delete in it:
    each refused call answers 403 with S3's error text (not a 500, not a 204 for a delete S3
    did not do), ann's object is unchanged, and cy's own bucket still takes writes."""
    ann, _ = users
    cy = asyncio.run(
        LocalBucketProvisioner(
            credentials_file=str(s3.credentials_file), grants={"cy": [ann.bucket]}
        ).ensure("cy")
    )
    owner = s3.client("s3", ann.access_key_id, ann.secret_access_key)
    owner.put_object(Bucket=ann.bucket, Key="kept.txt", Body=b"ann's kept data")
    s3.deny_writes("jupyterhub-ov-cy", ann.bucket)
    proc, log, url = start_server(tmp_path, cy.environment())
    try:
        found = drives(url)
        shared, own = found[f"s3://{ann.bucket}"]["drive"], found[f"s3://{cy.bucket}"]["drive"]
        body = {"type": "file", "format": "text", "content": "cy's overwrite"}
        refused = {
            "delete": contents(url, f"{shared}:kept.txt", "DELETE"),
            "save": contents(url, f"{shared}:kept.txt", "PUT", json=body),
            "upload": contents(url, f"{shared}:new.txt", "PUT", json=body),
            "rename": contents(
                url, f"{shared}:kept.txt", "PATCH", json={"path": f"{shared}:r.txt"}
            ),
        }
        for action, r in refused.items():
            assert r.status_code == 403, (action, r.status_code, r.text)
        assert (
            refused["delete"].json()["message"]
            == "S3 refused to delete kept.txt: it is still there"
        )
        assert re.fullmatch(
            r"S3 refused to save new\.txt: An error occurred \(AccessDenied\) when calling the "
            r"PutObject operation: Access Denied",
            refused["upload"].json()["message"],
        ), refused["upload"].text
        assert "(AccessDenied)" in refused["rename"].json()["message"]
        read = contents(url, f"{shared}:kept.txt")
        assert read.status_code == 200 and read.json()["content"] == "ann's kept data"
        assert contents(url, f"{own}:mine.txt", "PUT", json=body).status_code in (200, 201)
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()
    keys = [o["Key"] for o in owner.list_objects_v2(Bucket=ann.bucket)["Contents"]]
    assert "kept.txt" in keys and "new.txt" not in keys and "r.txt" not in keys
    assert owner.get_object(Bucket=ann.bucket, Key="kept.txt")["Body"].read() == b"ann's kept data"
