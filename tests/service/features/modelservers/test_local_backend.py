"""The local backend's own behaviour beyond the contract: a server that keeps crashing is
Degraded with its restarts, last exit and last log lines; stored specs that local mode
refuses are shown, not run."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyterhub_ov.service.features.modelservers.model import InvalidModelServer
from jupyterhub_ov.service.features.modelservers.store import ServerRecord, ServerStore
from jupyterhub_ov.service.features.modelservers.view import State
from tests import procs
from tests.s3server import embedded_s3

from .cases import local_case, model_server_processes, until_state

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    with embedded_s3(tmp_path_factory.mktemp("s3")) as server:
        yield server


async def test_a_crashing_server_is_restarted_and_shown_degraded(tmp_path: Path, s3) -> None:
    async with local_case(tmp_path, s3) as case:
        config = case.extra["volumes"] / "configmaps" / "broken" / "config.json"
        config.parent.mkdir(parents=True)
        config.write_text("{this is not json")
        await case.backend.create("crashy", {"config_configmap_name": "broken"}, by="admin")
        view = await until_state(case.backend, "crashy", State.DEGRADED)
        condition = next(c for c in view.conditions if c["type"] == "Degraded")
        assert condition["reason"] == "ProcessExited"
        assert "crashy[0] exited with code 1" in view.last_error
        assert "config.json" in view.last_error  # the program's own message, from its log
        replica = view.process["replicas"][0]
        assert replica["restarts"] >= 1 and replica["last_exit"] == "exited with code 1"
        await case.backend.delete("crashy")
        assert await case.leftovers("crashy") == []


async def test_a_stored_spec_local_mode_refuses_is_shown_not_run(tmp_path: Path, s3) -> None:
    async with local_case(tmp_path, s3) as case:
        with pytest.raises(InvalidModelServer, match="local mode has no Kubernetes Secrets"):
            await case.backend.create(
                "secretive", {"model_path": "s3://b/m", "aws_secret_name": "creds"}, by="admin"
            )
        # a record written by another configuration (or an older version)
        from datetime import UTC, datetime

        now = datetime.now(UTC)
        spec = {"model_path": "s3://b/m", "aws_secret_name": "creds"}
        await ServerStore(case.extra["database"]).add(ServerRecord("old", spec, "admin", now, now))
        backend = await case.restart()
        view = await backend.get("old")
        assert view.state is State.DEGRADED and view.spec == {} and view.process == {"replicas": []}
        assert "aws_secret_name" in view.last_error
        await backend.delete("old")
        assert await case.leftovers("old") == []


async def test_processes_a_killed_service_left_are_stopped_when_it_starts_again(
    tmp_path: Path, s3
) -> None:
    async with local_case(tmp_path, s3) as case:
        old = case.backend
        await old.create("orphan", case.spec("orphan"), by="admin")
        view = await until_state(old, "orphan", State.AVAILABLE)
        (pid,) = [r["pid"] for r in view.process["replicas"]]
        # the service dies (SIGKILL): nothing of it stops its processes
        for server in old._servers.values():  # noqa: SLF001 (standing in for its death)
            for replica in server.replicas:
                replica._task.cancel()  # noqa: SLF001
            server.replicas.clear()
        assert procs.running(pid)
        backend = await case.restart(killed=True)
        again = await until_state(backend, "orphan", State.AVAILABLE)
        assert not procs.running(pid)
        assert model_server_processes("orphan") == [again.process["replicas"][0]["pid"]]
        await backend.delete("orphan")
        assert await case.leftovers("orphan") == []


async def test_an_unreachable_s3_service_is_shown_and_delete_waits_for_it(tmp_path: Path) -> None:
    import json
    import logging

    from jupyterhub_ov.database import Database
    from jupyterhub_ov.service.features.modelservers.backends.local import LocalBackend
    from jupyterhub_ov.service.features.modelservers.backends.s3identity import (
        IdentityUnavailable,
        ServerIdentities,
    )
    from jupyterhub_ov.storage.s3local import LocalBucketProvisioner
    from tests.util import free_port

    credentials = tmp_path / "s3-admin.json"
    dead = {"endpoint_url": f"http://127.0.0.1:{free_port()}", "access_key_id": "AKIA"}
    credentials.write_text(json.dumps({**dead, "secret_access_key": "x", "region": "us-east-1"}))
    # a refused connection fails at once; the timeout only bounds a loaded machine's boto3
    # start-up in the worker thread (3 s was seen to run out under load)
    provisioner = LocalBucketProvisioner(credentials_file=str(credentials), timeout=15)
    database = Database(f"sqlite:///{tmp_path / 'service.sqlite'}")
    await database.start()
    backend = LocalBackend(
        store=ServerStore(database),
        identities=ServerIdentities(provisioner),
        command=["false"],
        log=logging.getLogger("dead-s3"),
        backoff=(0.2, 1.0),
    )
    await backend.start()
    try:
        spec = {"model_path": "s3://jupyter-alice/m", "bucket_claim": "jupyter-bucket-alice"}
        await backend.create("waiting", spec, by="admin")
        view = await until_state(backend, "waiting", State.DEGRADED)
        assert "could not start: The S3 service at http://127.0.0.1:" in view.last_error
        assert "is unreachable" in view.last_error
        with pytest.raises(IdentityUnavailable, match="unreachable"):
            await backend.delete("waiting")
        assert (await backend.get("waiting")).name == "waiting"  # kept: delete again later
    finally:
        await backend.stop()
        await database.close()


def test_the_readiness_timeout_is_configured_for_the_local_backend(tmp_path) -> None:
    from types import SimpleNamespace

    from traitlets.config import Config

    from jupyterhub_ov.database import Database
    from jupyterhub_ov.service.features.modelservers import ModelServers
    from jupyterhub_ov.service.features.modelservers.backends.local import LocalBackend

    config = Config()
    config.ModelServers.readiness_timeout = 0.5
    feature = ModelServers(config=config)
    host = SimpleNamespace(database=Database(f"sqlite:///{tmp_path / 'service.sqlite'}"))
    backend = feature._make_backend(False, "", host)  # type: ignore[arg-type]
    assert isinstance(backend, LocalBackend) and backend.readiness_timeout == 0.5
