"""Shared identity: the admin's explicit choice when the hub cannot switch users.

What the README promises of it, checked: the hub says so loudly at start; every server runs as
the hub's own OS user; and so users are NOT protected from each other (shown, not hidden).
A hub that is not root and was not told to share refuses to start from the shipped config.
"""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from jupyterhub_ov.spawners.local import SHARED_IDENTITY_WARNING

from ..accounts import open_for_traversal
from ..hubproc import SHIPPED_CONFIG, running_hub
from ..kernel import run_code

pytestmark = [pytest.mark.e2e]

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="switches to another OS user")


async def test_shared_identity_warns_and_isolates_nobody(tmp_path: Path):
    with running_hub(tmp_path, env={"JUPYTERHUB_OV_SHARED_IDENTITY": "1"}) as hub:
        assert SHARED_IDENTITY_WARNING in hub.log()
        hub.start_server("alice")
        hub.start_server("bob")
        await run_code(hub.url, "bob", hub.token, "open('private.txt', 'w').write('bob')")
        code = textwrap.dedent(
            f"""
            import json, os
            print(json.dumps([os.getuid(), os.environ["USER"],
                open({str(hub.data / "users" / "bob" / "private.txt")!r}).read()]))
            """
        )
        uid, user, bobs = json.loads(await run_code(hub.url, "alice", hub.token, code))
        assert uid == os.geteuid() and user == "alice"  # the hub's identity, the hub's name
        assert bobs == "bob"  # what this mode does not protect, as documented
        assert hub.log().count(SHARED_IDENTITY_WARNING) == 1  # loud, but once


@ROOT_ONLY
def test_a_hub_that_is_not_root_must_be_told_to_share(tmp_path: Path):
    nobody = pwd.getpwnam("nobody")
    data = tmp_path / "data"
    data.mkdir()
    os.chown(data, nobody.pw_uid, nobody.pw_gid)
    open_for_traversal(data)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(data),
        "JUPYTERHUB_OV_DATA_DIR": str(data),
        "JUPYTERHUB_OV_SHARED_IDENTITY": "",
    }
    result = subprocess.run(
        [sys.executable, "-m", "jupyterhub", "-f", str(SHIPPED_CONFIG)],
        cwd=data,
        user=nobody.pw_uid,
        group=nobody.pw_gid,
        extra_groups=[],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "the hub is not running as root" in result.stderr
    assert "JUPYTERHUB_OV_SHARED_IDENTITY=1" in result.stderr
    assert not (data / "hub" / "jupyterhub.sqlite").exists()  # nothing started
