"""Work directory chores of the local spawner (blocking file work: run in a thread)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile


def provide_notebooks(source: str, home: str, name: str) -> str | None:
    """Copy an environment's notebooks into ``home/name`` unless that already exists.

    A user's files are never overwritten or deleted: once ``home/name`` exists (made by an
    earlier start, or by the user) nothing happens. The copy is made beside it and renamed
    into place, so a start interrupted half-way leaves no half-copied directory that would
    stop every later copy. Returns the directory made, or None.
    """
    target = os.path.join(home, name)
    if os.path.lexists(target) or not os.path.isdir(source):
        return None
    staging = tempfile.mkdtemp(prefix=f".{name}.copying-", dir=home)
    try:
        copy = os.path.join(staging, name)
        shutil.copytree(source, copy, symlinks=True)
        if os.path.lexists(target):  # made meanwhile (a concurrent start): theirs wins
            return None
        os.rename(copy, target)
        return target
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    """``python -m jupyterhub_ov.spawners.workdir SOURCE HOME NAME``: the copy, run by the hub
    as the user's own account so it can never write where the user could not."""
    source, home, name = (argv if argv is not None else sys.argv[1:])[:3]
    made = provide_notebooks(source, home, name)
    print(made or "")


if __name__ == "__main__":
    main()
