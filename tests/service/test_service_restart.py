"""The service process killed mid-build: the hub restarts it and the build goes on."""

from __future__ import annotations

import time

import pytest

from .svc import Builder, builder_hub, package_list

pytestmark = pytest.mark.e2e


@pytest.fixture
def lone_builder(tmp_path):
    """A hub of its own: the kill must not disturb the other tests' service."""
    with builder_hub(tmp_path) as service:
        yield service


def test_sigkill_mid_build_then_the_hub_restarts_the_service(lone_builder: Builder) -> None:
    builder = lone_builder
    build_id = builder.submit(package_list("survivor", "slow")).json()["id"]
    builder.wait_phase(build_id, "Building")
    # log lines reach the database in batches (every 0.25 s): kill once they are stored
    deadline = time.monotonic() + 10
    while "step 3/3" not in builder.api("GET", f"/api/builds/{build_id}/log").text:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    killed = builder.kill_service()

    # JupyterHub polls its managed services (every 30 s) and starts a dead one again
    deadline = time.monotonic() + 90
    while True:
        try:
            if builder.service_pid() != killed:
                break
        except AssertionError:
            pass
        assert time.monotonic() < deadline, builder.hub.log()[-3000:]
        time.sleep(0.5)
    builder.wait_up()
    assert "Service image-builder exited with status -9" in builder.hub.log()

    during = builder.api("GET", f"/api/builds/{build_id}").json()
    assert during["phase"] == "Building"  # followed again (the backend can reattach)
    builder.release("survivor")
    done = builder.finished(build_id)
    assert done["phase"] == "Success", done["message"]
    assert [t["phase"] for t in done["transitions"]] == [
        "Preparing",
        "Resolving",
        "Building",
        "Importing",
        "Validating",
        "Success",
    ]
    log = builder.api("GET", f"/api/builds/{build_id}/log").text.splitlines()
    assert log[:4] == ["resolving survivor-notebook", "step 1/3", "step 2/3", "step 3/3"]
    assert log[4].startswith("following build/")
    events = [e["event"] for e in builder.recorded()]
    assert events == ["resolve", "build", "reattach"]
