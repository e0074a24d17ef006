"""The builds' own scratch directory: every temporary directory of a build (a lock being
resolved, a repository fetched, a validation's home) is made in `BuildBackend.work_dir`,
and the service removes what is left there when it starts.

A service killed mid-build (SIGKILL, the OOM killer) cannot remove its temporary
directories; in the system's temporary directory they would pile up among everybody's, and
no later start could tell its own from another service's. In a directory of its own (one
service per ``work_dir``, none of its builds running yet when it starts) they are its own.
Only names with `PREFIX` are ever removed: a mistyped ``work_dir`` loses nothing else.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

#: how every scratch directory's name starts (``jupyterhub-ov-resolve-…``, ``…-git-…``)
PREFIX = "jupyterhub-ov-"


def clear(work_dir: str) -> list[str]:
    """Make ``work_dir`` (mode 0700) if missing and remove the scratch directories in it
    (blocking: run it in a thread); the names removed."""
    os.makedirs(work_dir, mode=0o700, exist_ok=True)
    removed = []
    for entry in sorted(os.listdir(work_dir)):
        path = os.path.join(work_dir, entry)
        if entry.startswith(PREFIX) and os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(entry)
    return removed


@asynccontextmanager
async def scratch(work_dir: str, what: str) -> AsyncIterator[str]:
    """A new directory ``<work_dir>/jupyterhub-ov-<what>-XXXXXXXX`` (mode 0700), removed
    afterwards; after a SIGKILL the next `clear` removes it."""
    await asyncio.to_thread(os.makedirs, work_dir, 0o700, True)
    tmp = await asyncio.to_thread(tempfile.mkdtemp, prefix=f"{PREFIX}{what}-", dir=work_dir)
    try:
        yield tmp
    finally:
        await asyncio.to_thread(shutil.rmtree, tmp, True)
