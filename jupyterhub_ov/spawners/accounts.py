"""System accounts and work directories of isolated local servers (blocking OS calls: threads).

When the hub runs as root, every user's server runs under a system account of its own
(``jupyter-<slug>``, The Littlest JupyterHub's scheme), created on the user's first start with
the admin's ``add_user_cmd`` (LocalAuthenticator's way). An account is marked by its comment
(GECOS) field; an existing account without the mark was made by someone else and is never
adopted, so a hub user can never be handed a machine account that happens to share the name.

The work directory is created by the hub in the hub's own ``work_root`` and handed to the
account (mode 0700); afterwards the hub only ever acts in it as that account (`run_as`), so a
symlink a user plants there can only lead where the user could already go.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import stat
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from jupyterhub.spawner import set_user_setuid

#: the comment of every account this package creates; its absence means "not ours"
ACCOUNT_MARK = "jupyterhub-ov single-user account"

#: LocalAuthenticator-style: an ordinary account with a group of its own, no login shell; the
#: hub makes the home directory itself (see `prepare_home`)
ADD_USER_CMD = (
    "useradd",
    "--no-create-home",
    "--user-group",
    "--shell",
    "/usr/sbin/nologin",
    "--home-dir",
    "{home}",
    "--comment",
    "{comment}",
    "{name}",
)

#: useradd takes a lock on /etc/passwd and fails rather than waits: one at a time per hub
_adding = asyncio.Lock()


class AccountError(RuntimeError):
    """The user's account or work directory cannot be used; the message is for the user."""


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int


def _lookup(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def _checked(entry: pwd.struct_passwd) -> Account:
    if entry.pw_gecos != ACCOUNT_MARK:
        raise AccountError(
            f"The system account {entry.pw_name} exists but was not created by jupyterhub-ov;"
            " refusing to run a server as it. An administrator must remove or rename it."
        )
    if entry.pw_uid == 0 or entry.pw_uid == os.geteuid():
        raise AccountError(f"The system account {entry.pw_name} has the hub's own identity.")
    return Account(entry.pw_name, entry.pw_uid, entry.pw_gid)


async def ensure_account(name: str, home: str, add_user_cmd: Sequence[str]) -> Account:
    """The account ``name``, created with ``add_user_cmd`` if it does not exist yet.

    ``add_user_cmd`` items may contain ``{name}``, ``{home}`` and ``{comment}``.
    """
    found = await asyncio.to_thread(_lookup, name)
    if found is None:
        async with _adding:
            found = await asyncio.to_thread(_lookup, name)
            if found is None:
                await _add_user(name, home, add_user_cmd)
                found = await asyncio.to_thread(_lookup, name)
    if found is None:
        raise AccountError(f"The system account {name} was not created by {add_user_cmd[0]}.")
    return _checked(found)


async def _add_user(name: str, home: str, add_user_cmd: Sequence[str]) -> None:
    cmd = [arg.format(name=name, home=home, comment=ACCOUNT_MARK) for arg in add_user_cmd]
    try:
        proc = await asyncio.create_subprocess_exec(
            *cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
    except OSError as e:
        raise AccountError(f"Could not create the system account {name}: {e}") from None
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        detail = out.decode(errors="replace").strip().splitlines()
        raise AccountError(
            f"Could not create the system account {name}: {cmd[0]} exited with"
            f" {proc.returncode}: {detail[-1] if detail else ''}".rstrip(": ")
        )


def prepare_home(work_root: str, home: str, account: Account) -> str | None:
    """Make ``home`` the account's own directory (0700); what was done, or None.

    The hub creates it in its own ``work_root`` (0711: users reach their directory but cannot
    list the others). An existing directory must be a real directory owned by the account; one
    owned by the hub is from the shared-identity layout and is handed over whole (``lchown``,
    never following a link). Anything else is refused.
    """
    os.makedirs(work_root, mode=0o711, exist_ok=True)
    root = os.lstat(work_root)
    if root.st_uid == os.geteuid() and stat.S_IMODE(root.st_mode) != 0o711:
        os.chmod(work_root, 0o711)
    try:
        os.mkdir(home, 0o700)
    except FileExistsError:
        return _adopt_home(home, account)
    os.chown(home, account.uid, account.gid)
    return f"created {home}"


def _adopt_home(home: str, account: Account) -> str | None:
    st = os.lstat(home)
    if not stat.S_ISDIR(st.st_mode):
        raise AccountError(f"The work directory {home} is not a directory.")
    if st.st_uid == account.uid:
        return None
    if st.st_uid != os.geteuid():
        raise AccountError(
            f"The work directory {home} belongs to uid {st.st_uid}, not to {account.name}."
        )
    for parent, dirs, files in os.walk(home, followlinks=False):
        for entry in dirs + files:
            os.lchown(os.path.join(parent, entry), account.uid, account.gid)
    os.chown(home, account.uid, account.gid)
    os.chmod(home, 0o700)
    return f"handed {home} (from the shared-identity layout) to {account.name}"


def unreachable(path: str, account: Account) -> str | None:
    """The first directory on the way to ``path`` that ``account`` cannot pass, or None.

    Root passes everywhere, so the hub cannot ask the kernel; the mode bits answer instead
    (ACLs aside): a clear error before the start beats a server that dies on exec.
    """
    groups = set(os.getgrouplist(account.name, account.gid))
    for directory in _ancestors(os.path.abspath(path)) + _ancestors(os.path.realpath(path)):
        try:
            st = os.stat(directory)
        except OSError:
            return directory
        if st.st_uid == account.uid:
            bit = stat.S_IXUSR
        elif st.st_gid in groups:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            return directory
    return None


def _ancestors(path: str) -> list[str]:
    chain = []
    while (parent := os.path.dirname(path)) != path:
        chain.append(parent)
        path = parent
    return chain[::-1]


async def run_as(account: Account, argv: Sequence[str], *, timeout: float = 120) -> str:
    """Run ``argv`` as the account (JupyterHub's own setuid preexec); its output.

    Raises AccountError with the output's last line when it fails.
    """
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        preexec_fn=set_user_setuid(account.name, chdir=True),
        env={"PATH": os.environ.get("PATH", os.defpath), "LANG": "C.UTF-8"},
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AccountError(f"{argv[0]} as {account.name} took longer than {timeout:g} s") from None
    text = out.decode(errors="replace")
    if proc.returncode != 0:
        lines = text.strip().splitlines()
        raise AccountError(f"failed as {account.name}: {lines[-1] if lines else proc.returncode}")
    return text


def python_command(module: str, *args: str) -> list[str]:
    """Run one of this package's modules with the hub's interpreter, isolated (-I)."""
    return [sys.executable, "-I", "-m", module, *args]
