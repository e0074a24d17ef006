"""Per-user system accounts and work directories (real useradd; these machines run as root)."""

from __future__ import annotations

import asyncio
import os
import pwd
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from jupyterhub_ov.spawners import accounts

from .accounts import new_prefix, open_for_traversal, remove_accounts

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="creates system accounts (root only)")

ADD_USER = list(accounts.ADD_USER_CMD)


def ensure(name: str, home: str, cmd: list[str] = ADD_USER) -> accounts.Account:
    return asyncio.run(accounts.ensure_account(name, home, cmd))


def run_as(account: accounts.Account, argv: list[str]) -> str:
    return asyncio.run(accounts.run_as(account, argv))


@pytest.fixture
def prefix():
    prefix = new_prefix()
    yield prefix
    remove_accounts(prefix)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    open_for_traversal(tmp_path)
    return tmp_path


def test_an_account_is_created_once_marked_and_reused(prefix, root):
    home = str(root / "users" / "alice")
    first = ensure(prefix + "alice", home)
    entry = pwd.getpwnam(prefix + "alice")
    assert (entry.pw_uid, entry.pw_gecos, entry.pw_dir) == (first.uid, accounts.ACCOUNT_MARK, home)
    assert entry.pw_shell == "/usr/sbin/nologin" and first.uid not in (0, os.geteuid())
    assert not os.path.exists(home)  # the hub makes the directory, not useradd
    assert ensure(prefix + "alice", home) == first


def test_the_longest_hashed_names_are_accepted_by_useradd(prefix, root):
    from jupyterhub_ov import names

    name = names.system_user_name("Zoë Ünïcode-" + "x" * 60, prefix)
    assert len(name) == 32 and "---" in name
    assert ensure(name, str(root / "z")).name == name


def test_an_account_not_made_by_us_is_never_adopted(prefix, root):
    subprocess.run(["useradd", "--no-create-home", prefix + "mallory"], check=True)
    try:
        with pytest.raises(accounts.AccountError, match="was not created by jupyterhub-ov"):
            ensure(prefix + "mallory", str(root / "m"))
    finally:
        subprocess.run(["userdel", prefix + "mallory"], check=True)


def test_a_failing_add_user_command_is_a_clear_error(prefix, root):
    with pytest.raises(accounts.AccountError, match="Could not create the system account"):
        ensure("-bad name", str(root / "x"))
    with pytest.raises(accounts.AccountError, match="No such file"):
        ensure(prefix + "x", str(root / "x"), ["/nonexistent/useradd"])


def test_a_new_work_directory_is_the_accounts_own(prefix, root):
    work_root, home = root / "users", root / "users" / "bob"
    account = ensure(prefix + "bob", str(home))
    assert accounts.prepare_home(str(work_root), str(home), account) == f"created {home}"
    st = home.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (account.uid, account.gid, 0o700)
    assert work_root.stat().st_mode & 0o777 == 0o711  # reach your own, list nobody's
    assert accounts.prepare_home(str(work_root), str(home), account) is None  # already fine


def test_a_shared_identity_directory_is_handed_over_without_following_links(prefix, root):
    work_root, home = root / "users", root / "users" / "carol"
    (home / "sub").mkdir(parents=True)
    (home / "sub" / "notes.txt").write_text("mine")
    outside = root / "hub-secret"
    outside.write_text("the hub's")
    (home / "link").symlink_to(outside)  # planted when every server ran as the hub
    account = ensure(prefix + "carol", str(home))

    assert "handed" in accounts.prepare_home(str(work_root), str(home), account)
    for path in (home, home / "sub", home / "sub" / "notes.txt"):
        assert path.stat().st_uid == account.uid
    assert os.lstat(home / "link").st_uid == account.uid
    assert outside.stat().st_uid == os.geteuid()  # the link's target stays the hub's


def test_foreign_or_odd_work_directories_are_refused(prefix, root):
    work_root = root / "users"
    work_root.mkdir()
    account = ensure(prefix + "dave", str(work_root / "d"))
    other = ensure(prefix + "erin", str(work_root / "e"))
    (work_root / "d").mkdir()
    os.chown(work_root / "d", other.uid, other.gid)
    with pytest.raises(accounts.AccountError, match="belongs to uid"):
        accounts.prepare_home(str(work_root), str(work_root / "d"), account)
    (work_root / "f").symlink_to("/etc")
    with pytest.raises(accounts.AccountError, match="not a directory"):
        accounts.prepare_home(str(work_root), str(work_root / "f"), account)
    assert os.stat("/etc").st_uid == 0


def test_unreachable_names_the_closed_directory(prefix, root):
    account = ensure(prefix + "fay", str(root / "f"))
    env = root / "closed" / "env" / "bin"
    env.mkdir(parents=True)
    os.chmod(root / "closed", 0o700)
    assert accounts.unreachable(str(env / "python"), account) == str(root / "closed")
    os.chmod(root / "closed", 0o711)
    assert accounts.unreachable(str(env / "python"), account) is None
    assert accounts.unreachable(sys.executable, account) is None  # the hub's own Python


def test_run_as_runs_as_the_account_and_its_copy_is_the_users(prefix, root):
    work_root, home = root / "users", root / "users" / "gus"
    account = ensure(prefix + "gus", str(home))
    accounts.prepare_home(str(work_root), str(home), account)
    whoami = run_as(account, [sys.executable, "-c", "import os; print(os.getuid())"])
    assert int(whoami) == account.uid

    source = root / "env" / "notebooks"
    source.mkdir(parents=True)
    (source / "demo.ipynb").write_text("{}")
    argv = accounts.python_command("jupyterhub_ov.spawners.workdir", str(source), str(home), "n")
    assert (run_as(account, argv)).strip() == str(home / "n")
    assert (home / "n" / "demo.ipynb").stat().st_uid == account.uid

    # a link the user planted where a copy would go leads nowhere the user cannot write
    (root / "hub-only").mkdir(mode=0o755)
    os.symlink(root / "hub-only", home / "m")
    argv = accounts.python_command("jupyterhub_ov.spawners.workdir", str(source), str(home), "m")
    assert (run_as(account, argv)).strip() == ""
    assert os.listdir(root / "hub-only") == []
    with pytest.raises(accounts.AccountError, match="Permission denied"):
        write = f"open({str(root / 'hub-only' / 'x')!r}, 'w')"
        run_as(account, [sys.executable, "-c", write])


def test_a_non_root_hub_refuses_isolation_unless_shared_identity_is_chosen(root):
    """As `nobody`: the spawner says what to do; shared identity is the admin's explicit way."""
    script = textwrap.dedent(
        """
        import asyncio, sys
        from types import SimpleNamespace
        from traitlets.config import Config
        from jupyterhub_ov.spawners.local import OVLocalSpawner
        from jupyterhub_ov.spawners.errors import SpawnFailure
        c = Config()
        c.OVLocalSpawner.work_root = sys.argv[1]
        c.OVLocalSpawner.shared_identity = sys.argv[2] == "1"
        s = OVLocalSpawner(user=SimpleNamespace(name="zed", url="/user/zed/"), config=c)
        try:
            asyncio.run(s._prepare_identity())
            print("ok", s.user_env({})["USER"])
        except SpawnFailure as e:
            print(e)
        """
    )
    work = root / "nobody-users"
    work.mkdir(mode=0o777)
    os.chmod(work, 0o777)
    nobody = pwd.getpwnam("nobody")

    def as_nobody(shared: str) -> str:
        result = subprocess.run(
            [sys.executable, "-c", script, str(work), shared],
            user=nobody.pw_uid,
            group=nobody.pw_gid,
            extra_groups=[],
            env={"PATH": os.environ["PATH"], "HOME": str(work)},
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert "The hub is not running as root" in as_nobody("0")
    assert "shared_identity = True" in as_nobody("0")
    assert as_nobody("1").split() == ["ok", "zed"]
    assert (work / "zed").is_dir() and (work / "zed").stat().st_uid == nobody.pw_uid
