"""A build from the REAL package index, under a hub started from the shipped config.

As ``make run`` does: the hub gets this process's environment, which on these machines (and
in CI) reaches the index through a custom CA (``SSL_CERT_FILE`` and friends). JupyterHub
starts its services and local servers with a reduced environment, so this only passes if
the TLS/proxy/index settings are handed on explicitly (`jupyterhub_ov.netenv`). No local
wheels: the settings that would let packages come from this machine's directories are
removed from the hub's environment first.

The package is ``termcolor==2.4.0``: tiny, no dependencies, and not in the hub's environment
(a layer never holds another version of a base package, so ``six==1.16.0`` — the hub has
six 1.17.0 — cannot be built on it whatever the network). It is resolved *and* downloaded.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..hubproc import Hub, running_hub, spawn_page
from ..kernel import run_code
from ..service.svc import Builder, package_list
from ..util import menu_values

pytestmark = pytest.mark.e2e

#: where packages could come from besides the index: never in this test
LOCAL_SOURCES = (
    "PIP_FIND_LINKS",
    "PIP_NO_INDEX",
    "UV_FIND_LINKS",
    "UV_NO_INDEX",
    "UV_OFFLINE",
    "UV_CONFIG_FILE",
)
USER_PASSWORD = "jupyterhub-ov"  # the shipped config's demo password


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hub]:
    for name in LOCAL_SOURCES:
        monkeypatch.delenv(name, raising=False)
    with running_hub(tmp_path) as running:
        yield running


async def test_a_package_list_builds_from_the_real_index_and_is_offered(hub: Hub) -> None:
    builder = Builder(hub, record=hub.data)
    builder.wait_up()
    r = builder.submit(package_list("realcolor", "termcolor==2.4.0"))
    assert r.status_code == 201, r.text
    build_id = r.json()["id"]

    done = builder.wait_phase(build_id, "Success", "Failure", timeout=240)
    log = builder.api("GET", f"/api/builds/{build_id}/log").text
    assert done["phase"] == "Success", f"{done.get('message')}\n{log[-3000:]}"
    if os.environ.get("SSL_CERT_FILE"):  # the service got it from the hub, and says so
        assert "Network settings from the environment: SSL_CERT_FILE" in log
    assert {"name": "termcolor", "version": "2.4.0"} in done["packages"]
    image = done["image"]
    manifest = hub.data / "environments" / image.replace(":", "--") / "notebook-image.json"
    assert json.loads(manifest.read_text())["phase"] == "Succeeded"

    assert f"{image}" in menu_values(spawn_page(hub.url, "ivan", USER_PASSWORD))

    # the user's server runs the new environment with the hub's TLS settings (env_keep)
    hub.start_server("ivan", {"image": image})
    code = (
        "import json, os, importlib.metadata as m, termcolor;"
        " print(json.dumps([m.version('termcolor'), os.environ.get('SSL_CERT_FILE')]))"
    )
    version, cert_file = json.loads(await run_code(hub.url, "ivan", hub.token, code))
    hub.stop_server("ivan")
    assert version == "2.4.0"
    assert cert_file == os.environ.get("SSL_CERT_FILE")
