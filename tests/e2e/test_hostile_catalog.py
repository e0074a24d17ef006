"""A real hub from the shipped config with hostile entries in data/environments.

On main a FIFO named notebook-image.json froze the hub's event loop at the first menu render
(the login page stopped answering), and a manifest nested 100,000 deep answered 500 on the
spawn page and on every spawn, for everyone.
"""

from __future__ import annotations

import os
import sys

import pytest
import requests

from ..environments import MARKER, make_environment
from ..hubproc import running_hub
from ..util import menu_values

pytestmark = pytest.mark.e2e

DEEP = "[" * 100_000 + "]" * 100_000


PASSWORD = "hostile-catalog-test"


def test_a_fifo_and_a_nested_manifest_leave_the_hub_working(tmp_path):
    environments = tmp_path / "data" / "environments"
    for name in ("fifo", "nested"):
        (environments / name / "bin").mkdir(parents=True)
        (environments / name / "bin" / "python").symlink_to(sys.executable)
    os.mkfifo(environments / "fifo" / "notebook-image.json")
    (environments / "nested" / "notebook-image.json").write_text(DEEP)
    make_environment(environments / "marker", MARKER)

    with running_hub(tmp_path) as hub:
        # first thing after the start, no menu rendered yet: the catalog is read for the spawn
        hub.start_server("trudy", {"image": "marker-notebook:latest"})
        assert "no longer available" not in hub.log()
        hub.stop_server("trudy")
        with requests.Session() as session:
            login = session.get(f"{hub.url}/hub/login", timeout=10)
            assert login.status_code == 200 and "password" in login.text
            form = {"username": "mallory", "password": PASSWORD, "_xsrf": session.cookies["_xsrf"]}
            session.post(f"{hub.url}/hub/login", data=form, timeout=10).raise_for_status()
            for _ in range(2):  # a second render: nothing new in the log
                spawn = session.get(f"{hub.url}/hub/spawn", timeout=10)
                assert spawn.status_code == 200, spawn.text[-2000:]
                assert "default-notebook:latest" in menu_values(spawn.text)
            # the hub still answers everyone: its event loop never stood still
            assert requests.get(f"{hub.url}/hub/login", timeout=10).status_code == 200

        hub.start_server("mallory")  # no options: the default environment
        server = hub.user("mallory")["servers"][""]
        assert server["ready"]
        token = hub.new_token("mallory")
        status = requests.get(
            f"{hub.url}{server['url']}api/status",
            headers={"Authorization": f"token {token}"},
            timeout=10,
        )
        assert status.status_code == 200, status.text
        hub.stop_server("mallory")

        skipped = [line for line in hub.log().splitlines() if "Skipping local environment" in line]
        assert len(skipped) == 2, skipped
        assert any(f"{environments / 'fifo'}: notebook-image.json is a FIFO" in s for s in skipped)
        assert any(f"{environments / 'nested'}: RecursionError" in s for s in skipped)
