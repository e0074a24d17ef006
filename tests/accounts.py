"""Per-user system accounts in tests: each hub gets a prefix of its own, removed at its end.

These machines (and CI) run as root, so a hub started from the shipped configuration creates
real accounts (``useradd``) for its users. Every test hub names them ``jovt-<4 hex>-<slug>``;
`remove_accounts` deletes the ones jupyterhub-ov marked, and a run also sweeps any left by a
killed earlier run. Directories the accounts must pass (pytest's private temp root, the
checkout holding the hub's environment) are opened for traversal (o+x, never listing).
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

from jupyterhub_ov.spawners.accounts import ACCOUNT_MARK

TEST_PREFIX = "jovt-"


def new_prefix() -> str:
    return f"{TEST_PREFIX}{secrets.token_hex(2)}-"


def isolating() -> bool:
    """Whether hubs here run servers as per-user accounts (they do as root)."""
    return os.geteuid() == 0


def marked_accounts(prefix: str = TEST_PREFIX) -> list[str]:
    return [
        e.pw_name
        for e in pwd.getpwall()
        if e.pw_name.startswith(prefix) and e.pw_gecos == ACCOUNT_MARK
    ]


def remove_accounts(prefix: str) -> None:
    for name in marked_accounts(prefix):
        _remove(name)


def _remove(name: str) -> None:
    # their processes first: userdel refuses a logged-in (running) user
    subprocess.run(["pkill", "-KILL", "-u", name], check=False)
    subprocess.run(["userdel", name], check=False, capture_output=True)


def sweep_stale() -> None:
    """Accounts of test hubs that died without cleaning up (their work directory is gone)."""
    for e in pwd.getpwall():
        if (
            e.pw_name.startswith(TEST_PREFIX)
            and e.pw_gecos == ACCOUNT_MARK
            and not os.path.exists(e.pw_dir)
        ):
            _remove(e.pw_name)


def traversable_basetemp() -> Path:
    """``<tmp>/jupyterhub-ov-tests/run-<pid>`` (0711 above it); runs whose pid is gone are
    removed."""
    base = Path(tempfile.gettempdir()) / "jupyterhub-ov-tests"
    base.mkdir(mode=0o711, exist_ok=True)
    os.chmod(base, 0o711)
    for old in base.glob("run-*"):
        pid = old.name.removeprefix("run-")
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            shutil.rmtree(old, ignore_errors=True)
    return base / f"run-{os.getpid()}"


def open_for_traversal(path: Path) -> None:
    """o+x on every directory from / to ``path`` (root can pass, the accounts cannot)."""
    current = path.resolve()
    for directory in [*reversed(current.parents), current]:
        mode = directory.stat().st_mode
        if not mode & stat.S_IXOTH:
            os.chmod(directory, stat.S_IMODE(mode) | stat.S_IXOTH)
