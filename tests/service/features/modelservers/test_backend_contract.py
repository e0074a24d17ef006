"""The contract of `ModelServerBackend` (see `backends.base`), for both backends
(`cases`): each test runs against the local backend (real ovms processes on a real model) and
the cluster backend (the simulator, with the reconciler deploying what it writes).
Nothing is mocked; what is left behind is looked at behind the backend's back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from jupyterhub_ov.errors import Conflict, NotFound
from jupyterhub_ov.service.features.modelservers.model import InvalidModelServer
from jupyterhub_ov.service.features.modelservers.view import State
from tests.s3server import embedded_s3

from .cases import BackendCase, cluster_case, local_case, until_state

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    with embedded_s3(tmp_path_factory.mktemp("s3")) as server:
        yield server


@pytest.fixture(params=["local", "openshift"])
async def case(
    request, tmp_path: Path, s3, sim_server, sim_api_client
) -> AsyncIterator[BackendCase]:
    if request.param == "local":
        async with local_case(tmp_path, s3) as made:
            yield made
    else:
        async with cluster_case(tmp_path, sim_server, sim_api_client) as made:
            yield made


async def test_create_get_list_scale_and_delete(case: BackendCase) -> None:
    backend = case.backend
    created = await backend.create("affine", case.spec("affine"), by="admin")
    assert created.name == "affine" and created.mode == case.kind and created.creator == "admin"
    assert created.desired_replicas == 1
    assert created.spec["models"]["model_name"] == "affine"

    ready = await until_state(backend, "affine", State.AVAILABLE)
    assert ready.ready_replicas == 1 and not ready.last_error
    assert set(ready.endpoints) == {"rest", "grpc"}
    assert [v.name for v in await backend.list()] == ["affine"]
    if case.kind == "local":  # the server's own readiness, from /v1/config
        assert [(m.name, m.ready, m.versions) for m in ready.models] == [("affine", True, ("1",))]

    zero = await backend.scale("affine", 0)
    assert zero.desired_replicas == 0
    await until_state(backend, "affine", State.SCALED_TO_ZERO)
    again = await backend.scale("affine", 1)
    assert again.desired_replicas == 1
    assert (await until_state(backend, "affine", State.AVAILABLE)).ready_replicas == 1

    await backend.delete("affine")
    with pytest.raises(NotFound):
        await backend.get("affine")
    assert await backend.list() == []
    assert await _eventually_nothing_left(case, "affine") == []
    with pytest.raises(NotFound):
        await backend.delete("affine")
    with pytest.raises(NotFound):
        await backend.scale("affine", 1)


async def _eventually_nothing_left(case: BackendCase, name: str, tries: int = 100) -> list[str]:
    """What is left of ``name``, polled for up to 20 s (the cluster deletes asynchronously)."""
    left = await case.leftovers(name)
    for _ in range(tries):
        if not left:
            break
        await asyncio.sleep(0.2)
        left = await case.leftovers(name)
    return left


async def test_an_invalid_spec_lists_every_problem_and_creates_nothing(case: BackendCase) -> None:
    bad = {
        "model_path": "ftp://models/x",
        "log_level": "LOUD",
        "grpc_port": 70000,
        "plugin_config": "{not json",
    }
    with pytest.raises(InvalidModelServer) as e:
        await case.backend.create("Bad_Name", bad, by="admin")
    text = "\n".join(e.value.problems)
    for part in ("metadata.name", "ftp://", "LOUD", "70000", "spec.plugin_config"):
        assert part in text, text
    assert await case.backend.list() == []
    assert await case.leftovers("bad-name") == []
    with pytest.raises(InvalidModelServer):
        await case.backend.scale("nothing", -1)


async def test_a_name_is_never_taken_twice(case: BackendCase) -> None:
    await case.backend.create("twice", case.spec("twice"), by="admin")
    with pytest.raises(Conflict, match="exists already"):
        await case.backend.create("twice", case.spec("twice"), by="someone")
    assert (await case.backend.get("twice")).creator == "admin"
    with pytest.raises(Conflict, match="reserved"):
        await case.backend.create("scale", case.spec("scale"), by="admin")
    await case.backend.delete("twice")
    assert await _eventually_nothing_left(case, "twice") == []


async def test_records_survive_a_service_restart(case: BackendCase) -> None:
    await case.backend.create("kept", case.spec("kept"), by="admin")
    await until_state(case.backend, "kept", State.AVAILABLE)
    backend = await case.restart()
    view = await until_state(backend, "kept", State.AVAILABLE)
    assert view.creator == "admin" and view.desired_replicas == 1
    await backend.delete("kept")
    assert await _eventually_nothing_left(case, "kept") == []
