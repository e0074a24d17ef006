"""Local model servers reading users' buckets (the shipped embedded S3 server, IAM enforced),
each with an identity of its own carrying its owner's read rights: a model in the owner's
bucket is served and answers real inference, by 3 replicas sharing the server's one key (a
crashed one comes back with it); one in another user's bucket is refused by S3
and shown as Degraded naming the path; the server's key is in its process's environment only
(not its command line, the service's logs at DEBUG, the database or the API's answers)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path

import pytest
import requests

from jupyterhub_ov.database import Database
from jupyterhub_ov.service.features.modelservers.backends.local import LocalBackend
from jupyterhub_ov.service.features.modelservers.backends.s3identity import ServerIdentities
from jupyterhub_ov.service.features.modelservers.store import ServerStore
from jupyterhub_ov.service.features.modelservers.view import State
from jupyterhub_ov.storage.s3local import LocalBucketProvisioner
from tests import procs
from tests.s3server import embedded_s3

from .cases import OVMS, save_model, until_state

pytestmark = pytest.mark.timeout(240)
HUB_TOKEN = "hub-token-the-service-holds"


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    with embedded_s3(tmp_path_factory.mktemp("s3")) as server:
        yield server


def upload(s3, creds, directory: Path, prefix: str) -> None:
    client = s3.client("s3", creds.access_key_id, creds.secret_access_key)
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            key = f"{prefix}/{path.relative_to(directory)}"
            client.put_object(Bucket=creds.bucket, Key=key, Body=path.read_bytes())


def owner_and_mode(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mode, stat.st_uid


def read_text(path: Path) -> str:
    return path.read_text()


def database_files(directory: Path) -> list[bytes]:
    return [p.read_bytes() for p in directory.glob("service.sqlite*")]


def environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


async def test_the_owners_model_is_served_and_another_users_bucket_is_refused(
    s3, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", HUB_TOKEN)  # the service's own secret
    caplog.set_level(logging.DEBUG)  # every logger at every level: botocore's DEBUG too
    provisioner = LocalBucketProvisioner(credentials_file=str(s3.credentials_file))
    alice, bob = await provisioner.ensure("alice"), await provisioner.ensure("bob")
    model = tmp_path / "model"
    save_model(model / "1" / "model.xml", factor=3.0)
    upload(s3, alice, model, "models/affine")
    upload(s3, bob, model, "models/affine")

    database = Database(f"sqlite:///{tmp_path / 'service.sqlite'}")
    await database.start()
    backend = LocalBackend(
        store=ServerStore(database),
        identities=ServerIdentities(provisioner),
        command=OVMS,
        log=logging.getLogger("local-s3"),
        backoff=(0.2, 2.0),
    )
    await backend.start()
    try:
        own = {
            "model_name": "affine",
            "model_path": "s3://jupyter-alice/models/affine",
            "bucket_claim": "jupyter-bucket-alice",
            "file_system_poll_wait_seconds": 1,
        }
        view = await backend.create("alices", own, by="admin")
        view = await until_state(backend, "alices", State.AVAILABLE)
        rest = view.endpoints["rest"]
        body = {
            "inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]
        }
        answer = await asyncio.to_thread(
            requests.post, f"{rest}/v2/models/affine/infer", json=body, timeout=10
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["outputs"][0]["data"] == [4.0, 7.0, 10.0, 13.0]

        # the same owner (the claim), bob's bucket: S3 refuses the server's identity
        theirs = {**own, "model_path": "s3://jupyter-bob/models/affine"}
        await backend.create("not-alices", theirs, by="admin")
        degraded = await until_state(backend, "not-alices", State.DEGRADED)
        assert "s3://jupyter-bob/models/affine" in degraded.last_error
        assert "AccessDenied" in degraded.last_error, degraded.last_error
        condition = next(c for c in degraded.conditions if c["type"] == "Degraded")
        assert condition["reason"] == "ModelUnavailable"

        # a path that is not there, in the owner's own bucket: Degraded, naming it
        missing = {**own, "model_path": "s3://jupyter-alice/models/nothing-here"}
        await backend.create("missing", missing, by="admin")
        absent = await until_state(backend, "missing", State.DEGRADED)
        assert "s3://jupyter-alice/models/nothing-here" in absent.last_error, absent.last_error

        # the key: in the child's environment only
        pid = view.process["replicas"][0]["pid"]
        env = await asyncio.to_thread(environ, pid)
        secret = env["AWS_SECRET_ACCESS_KEY"]
        assert env["AWS_ACCESS_KEY_ID"] != alice.access_key_id  # not the owner's identity
        assert "JUPYTERHUB_API_TOKEN" not in env and HUB_TOKEN not in env.values()
        # which only the service's own identity may read (users' servers run as their own)
        mode, uid = await asyncio.to_thread(owner_and_mode, Path(f"/proc/{pid}/environ"))
        assert uid == os.getuid() and mode & 0o077 == 0
        assert secret not in await asyncio.to_thread(read_text, Path(f"/proc/{pid}/cmdline"))
        assert caplog.records and secret not in caplog.text
        assert all(secret not in r.getMessage() for r in caplog.records)
        assert secret not in json.dumps([v.to_json() for v in await backend.list()])
        await backend.stop()
        await database.close()
        files = await asyncio.to_thread(database_files, tmp_path)  # the WAL too, if any
        assert files and all(secret.encode() not in data for data in files)
        assert not await asyncio.to_thread(procs.running, pid)
    finally:
        await backend.stop()
        await database.close()


def cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_text().split("\0")


def infer(rest_port: int) -> list[float]:
    body = {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}
    url = f"http://127.0.0.1:{rest_port}/v2/models/affine/infer"
    answer = requests.post(url, json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    data: list[float] = answer.json()["outputs"][0]["data"]
    return data


async def until_running(backend: LocalBackend, name: str, count: int) -> list[int]:
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        view = await backend.get(name)
        pids = [r["pid"] for r in view.process["replicas"] if r["pid"]]
        if len(pids) == count and view.state == State.AVAILABLE:
            return pids
        assert asyncio.get_running_loop().time() < deadline, view
        await asyncio.sleep(0.2)


async def test_three_replicas_share_the_servers_key_and_serve(s3, tmp_path: Path) -> None:
    """More replicas than IAM keeps keys: one key, issued once for the server, shared; a
    replica that crashes starts again with that key, and every replica answers."""
    provisioner = LocalBucketProvisioner(credentials_file=str(s3.credentials_file))
    carol = await provisioner.ensure("carol")
    model = tmp_path / "model"
    save_model(model / "1" / "model.xml", factor=5.0)
    upload(s3, carol, model, "models/affine")
    database = Database(f"sqlite:///{tmp_path / 'service.sqlite'}")
    await database.start()
    backend = LocalBackend(
        store=ServerStore(database),
        identities=ServerIdentities(provisioner),
        command=OVMS,
        log=logging.getLogger("local-s3"),
        backoff=(0.2, 2.0),
    )
    await backend.start()
    try:
        spec = {
            "model_name": "affine",
            "model_path": "s3://jupyter-carol/models/affine",
            "bucket_claim": "jupyter-bucket-carol",
            "replicas": 3,
        }
        await backend.create("carols", spec, by="admin")
        pids = await until_running(backend, "carols", 3)
        keys = {(await asyncio.to_thread(environ, pid))["AWS_ACCESS_KEY_ID"] for pid in pids}
        assert len(keys) == 1  # one key for the three
        ports = [
            int(argv[argv.index("--rest_port") + 1])
            for argv in [await asyncio.to_thread(cmdline, pid) for pid in pids]
        ]
        assert len(set(ports)) == 3
        for port in ports:
            assert await asyncio.to_thread(infer, port) == [6.0, 11.0, 16.0, 21.0]

        os.kill(pids[1], 9)  # a crash: restarted with the same key, the others untouched
        deadline = asyncio.get_running_loop().time() + 60
        while True:
            view = await backend.get("carols")
            second = view.process["replicas"][1]
            if second["pid"] not in (None, pids[1]) and view.state == State.AVAILABLE:
                break
            assert asyncio.get_running_loop().time() < deadline, view
            await asyncio.sleep(0.2)
        assert second["restarts"] == 1
        env = await asyncio.to_thread(environ, second["pid"])
        assert {env["AWS_ACCESS_KEY_ID"]} == keys
        assert [r["pid"] for r in view.process["replicas"]][::2] == pids[::2]
        for port in ports:  # the one key still valid for all, after the restart
            assert await asyncio.to_thread(infer, port) == [6.0, 11.0, 16.0, 21.0]
    finally:
        await backend.stop()
        await database.close()
