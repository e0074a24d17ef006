"""From inside her own kernel, alice attacks the hub, its state and the other users (finding 1).

Each attack is what a hostile user of `make run` tried on main: read the hub's secrets,
another user's files, any process's environment; write where the hub or everyone else reads;
plant links where the hub writes. Every one must be refused while her own work goes on.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import pytest

from ..util import REPO
from .conftest import NOTEBOOKS_IMAGE, Attack

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.geteuid() != 0, reason="per-user accounts need a root hub"),
]

TRY_READ = textwrap.dedent(
    """
    import json, os
    out = {}
    for path in json.loads(%r):
        try:
            if os.path.isdir(path):
                os.listdir(path)
            else:
                open(path, "rb").read(64)
            out[path] = "ALLOWED"
        except OSError as e:
            out[path] = type(e).__name__
    print(json.dumps(out))
    """
)

TRY_WRITE = textwrap.dedent(
    """
    import json, os
    out = {}
    for path in json.loads(%r):
        try:
            if os.path.isdir(path):
                open(os.path.join(path, "planted-by-alice"), "x").close()
            else:
                open(path, "a").close()
            out[path] = "ALLOWED"
        except OSError as e:
            out[path] = type(e).__name__
    print(json.dumps(out))
    """
)

#: every process of someone else: its environment, its memory, a signal; and every cmdline
TRY_PROCESSES = textwrap.dedent(
    """
    import json, os, signal
    mine, foreign, allowed, cmdlines = os.getuid(), 0, [], []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.stat(f"/proc/{pid}").st_uid == mine:
                continue
            cmdlines.append(open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace"))
        except OSError:
            continue
        foreign += 1
        for what in ("environ", "mem", "fd", "cwd/."):
            try:
                path = f"/proc/{pid}/{what}"
                os.listdir(path) if what in ("fd", "cwd/.") else open(path, "rb").read(1)
                allowed.append(f"{pid} {what}")
            except OSError:
                pass
        try:
            os.kill(int(pid), 0)
            allowed.append(f"{pid} signal")
        except OSError:
            pass
    print(json.dumps({"foreign": foreign, "allowed": allowed, "cmdlines": cmdlines}))
    """
)


def owner(path: Path) -> int:
    return path.stat().st_uid


def proc_environ(pid: int) -> list[bytes]:
    return Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")


def state_files(hub) -> list[str]:
    return sorted(str(p) for p in hub.state.iterdir()) + [str(hub.state)]


async def test_the_hubs_state_is_out_of_reach(attack: Attack):
    hub = attack.hub
    targets = state_files(hub) + [str(hub.data / "users")]
    assert any(t.endswith("s3-admin.json") for t in targets)
    assert any(t.endswith("jupyterhub_cookie_secret") for t in targets)
    assert any(t.endswith("jupyterhub.sqlite") for t in targets)
    got = await attack.json("alice", TRY_READ % json.dumps(targets))
    assert got == dict.fromkeys(targets, "PermissionError")


async def test_other_users_files_are_out_of_reach(attack: Attack):
    bob, admin = attack.me["bob"]["home"], attack.me["admin"]["home"]
    targets = [bob, f"{bob}/private.txt", admin, f"{admin}/private.txt"]
    got = await attack.json("alice", TRY_READ % json.dumps(targets))
    assert got == dict.fromkeys(targets, "PermissionError")
    # while her own are hers
    own = [attack.me["alice"]["home"], f"{attack.me['alice']['home']}/private.txt"]
    assert await attack.json("alice", TRY_READ % json.dumps(own)) == dict.fromkeys(own, "ALLOWED")


async def test_no_process_of_anyone_else_lets_her_in(attack: Attack):
    hub = attack.hub
    got = await attack.json("alice", TRY_PROCESSES)
    assert got["allowed"] == []
    # she did see them: the hub, its proxy and services, bob's and admin's servers
    assert got["foreign"] >= 6
    secrets = [attack.me[u][k] for u in ("bob", "admin") for k in ("secret", "token")]
    secrets.append(json.loads((hub.state / "s3-admin.json").read_text())["secret_access_key"])
    secrets.append((hub.state / "jupyterhub_cookie_secret").read_text().strip())
    secrets.append(hub.admin_password)
    proxy_pid = int((hub.state / "jupyterhub-proxy.pid").read_text())
    environ = proc_environ(proxy_pid)
    proxy_token = [v for v in environ if v.startswith(b"CONFIGPROXY_AUTH_TOKEN=")]
    assert proxy_token
    secrets.append(proxy_token[0].split(b"=", 1)[1].decode())
    for secret in secrets:
        assert secret and not any(secret in c for c in got["cmdlines"])


async def test_nothing_shared_can_be_written(attack: Attack):
    hub = attack.hub
    site = next(p for p in sys.path if p.endswith("site-packages") and p.startswith(sys.prefix))
    targets = [
        str(hub.data),
        str(hub.data / "environments"),
        str(hub.data / "environments" / "nb"),
        str(hub.data / "environments" / "nb" / "notebook-image.json"),
        site,
        str(REPO / "jupyterhub_config.py"),
        str(REPO / "jupyterhub_ov" / "__init__.py"),
    ]
    got = await attack.json("alice", TRY_WRITE % json.dumps(targets))
    assert got == dict.fromkeys(targets, "PermissionError")
    assert not list(hub.data.rglob("planted-by-alice"))


async def test_a_planted_link_where_notebooks_go_leads_nowhere(attack: Attack):
    hub = attack.hub
    environments = hub.data / "environments"
    before = sorted(p.name for p in environments.iterdir())
    await attack.run("alice", f"import os; os.symlink({str(environments)!r}, 'nb-notebook')")
    hub.stop_server("alice")
    hub.start_server("alice", {"image": NOTEBOOKS_IMAGE})
    assert sorted(p.name for p in environments.iterdir()) == before
    assert not (environments / "demo.ipynb").exists()

    # without a planted link the copy is made, and made as the user, not as the hub
    hub.start_server("carol", {"image": NOTEBOOKS_IMAGE})
    carol = await attack.json("carol", "import json, os; print(json.dumps(os.getuid()))")
    copied = attack.hub.data / "users" / "carol" / "nb-notebook" / "demo.ipynb"
    assert owner(copied) == carol != 0
    hub.stop_server("carol")


async def test_her_own_work_still_works(attack: Attack):
    code = textwrap.dedent(
        """
        import os, boto3
        s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT_URL"])
        s3.put_object(Bucket=os.environ["BUCKET_NAME"], Key="again.txt", Body=b"ok")
        body = s3.get_object(Bucket=os.environ["BUCKET_NAME"], Key="again.txt")["Body"].read()
        open("again.txt", "w").write("ok")
        print(body.decode(), open("again.txt").read(), os.getuid() != 0)
        """
    )
    assert (await attack.run("alice", code)).split() == ["ok", "ok", "True"]
