"""Local mode, the shipped config: metrics on /hub/metrics and the service's /metrics after a
spawn and a real build, parsed as Prometheus parses them; then the idle culler (on through
JUPYTERHUB_OV_CULL_IDLE_TIMEOUT) stops the idle server and its work directory and bucket
data stay."""

from __future__ import annotations

import asyncio
import textwrap
import time
from collections.abc import Iterator

import pytest
import requests

from jupyterhub_ov import names

from ..builds.wheels import tiny_index
from ..hubproc import Hub, running_hub
from ..kernel import run_code
from ..scrape import culled, scrape, value
from ..service.svc import package_list

pytestmark = pytest.mark.e2e

SERVICE = "/services/image-builder"
#: seconds idle before the culler stops a server; it looks every CULL_EVERY seconds
CULL_TIMEOUT = 15
CULL_EVERY = 2


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    directory = tmp_path_factory.mktemp("metrics")
    wheels = tiny_index(directory / "wheels")
    extra = textwrap.dedent(
        f"""
        for _service in c.JupyterHub.services:
            if _service["name"] == "image-builder":
                _service["command"] = _service["command"] + [
                    "--LocalBuildBackend.find_links={wheels}",
                    "--LocalBuildBackend.no_index=True",
                ]
        # a Prometheus of its own: read:metrics and nothing else
        c.JupyterHub.load_roles.append(
            {{"name": "prometheus", "scopes": ["read:metrics"], "users": ["prom"]}}
        )
        """
    )
    env = {
        "JUPYTERHUB_OV_CULL_IDLE_TIMEOUT": str(CULL_TIMEOUT),
        "JUPYTERHUB_OV_CULL_EVERY": str(CULL_EVERY),
    }
    with running_hub(directory, extra, env=env) as running:
        yield running


def wait_build(hub: Hub, token: str, build_id: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = requests.get(
            f"{hub.url}{SERVICE}/api/builds/{build_id}",
            headers={"Authorization": f"token {token}"},
            timeout=30,
        )
        record = r.json()
        if record["phase"] in ("Success", "Failure"):
            return record
        time.sleep(0.5)
    raise TimeoutError(f"build {build_id} did not end in {timeout} s")


def test_metrics_after_a_spawn_and_a_build_then_the_idle_server_is_culled(hub: Hub) -> None:
    prom = hub.new_token("prom")
    plain = hub.new_token("plainuser")

    # a spawn: the user writes into the work directory and the bucket
    hub.start_server("mira")
    out = asyncio.run(run_code(hub.url, "mira", hub.token, WRITE))
    assert out.strip() == "written"
    families = scrape(f"{hub.url}/hub/metrics", prom)
    steps = families["jupyterhub_ov_spawn_step_duration_seconds"]
    for step in ("image_resolution", "bucket_provisioning"):
        assert value(steps, "jupyterhub_ov_spawn_step_duration_seconds_count", step=step) >= 1
    catalog = families["jupyterhub_ov_image_catalog_images"]
    assert value(catalog, "jupyterhub_ov_image_catalog_images", catalog="environments") >= 1
    assert "jupyterhub_ov_watch_restarts" in families  # declared, never restarted here

    # a real local build (uv, from the tiny wheels), by the admin (who has the write scope)
    admin = hub.new_token("admin")
    r = requests.post(
        f"{hub.url}{SERVICE}/api/builds",
        json=package_list("metricstools", "ovtiny==1.0"),
        headers={"Authorization": f"token {admin}"},
        timeout=30,
    )
    assert r.status_code == 201, r.text
    record = wait_build(hub, admin, r.json()["id"])
    assert record["phase"] == "Success", record

    metrics_url = f"{hub.url}{SERVICE}/metrics"
    service = scrape(metrics_url, prom)
    builds = service["jupyterhub_ov_builds"]
    assert value(builds, "jupyterhub_ov_builds_total", type="PackageList", outcome="Success") == 1
    phases = service["jupyterhub_ov_build_phase_duration_seconds"]
    for phase in ("Preparing", "Resolving", "Building", "Importing", "Validating"):
        count = value(
            phases,
            "jupyterhub_ov_build_phase_duration_seconds_count",
            type="PackageList",
            phase=phase,
        )
        assert count == 1, phase
    for gauge in ("jupyterhub_ov_build_queue_length", "jupyterhub_ov_builds_running"):
        assert value(service[gauge], gauge) == 0, gauge  # the one build has ended
    states = service["jupyterhub_ov_model_servers"]
    assert {s.labels["state"] for s in states} == {
        "Progressing",
        "Available",
        "Degraded",
        "ScaledToZero",
    }
    assert all(s.value == 0 for s in states)
    # no user name in any label, on either endpoint
    every = [s for fam in (families, service) for samples in fam.values() for s in samples]
    assert not [s for s in every if {"mira", "admin", "prom"} & set(s.labels.values())]

    # read:metrics is needed: a plain user is refused, so is an anonymous caller
    r = requests.get(metrics_url, headers={"Authorization": f"token {plain}"}, timeout=30)
    assert r.status_code == 403, r.text
    assert "read:metrics" in r.json()["message"]
    assert requests.get(metrics_url, timeout=30).status_code == 403

    # the culler stops mira's idle server; the work directory and the bucket data stay
    deadline = time.monotonic() + CULL_TIMEOUT + 5 * CULL_EVERY + 30
    while not culled(hub.user("mira")):
        assert time.monotonic() < deadline, f"not culled:\n{hub.log()[-3000:]}"
        time.sleep(1)
    assert "DELETE /hub/api/users/mira/server (idle-culler@" in hub.log()
    work = hub.data / "users" / names.directory_name("mira") / "kept.txt"
    assert work.read_text() == "in the work directory"
    hub.start_server("mira")
    kept = asyncio.run(run_code(hub.url, "mira", hub.token, READ_BACK))
    assert kept.strip() == "in the bucket"


WRITE = textwrap.dedent(
    """
    import os, pathlib, boto3
    pathlib.Path("kept.txt").write_text("in the work directory")
    s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT_URL"])
    s3.put_object(Bucket=os.environ["BUCKET_NAME"], Key="kept", Body=b"in the bucket")
    print("written")
    """
)

READ_BACK = textwrap.dedent(
    """
    import os, boto3
    s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT_URL"])
    print(s3.get_object(Bucket=os.environ["BUCKET_NAME"], Key="kept")["Body"].read().decode())
    """
)
