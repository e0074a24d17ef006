"""The local build backend's catalog entries: where their environments may come from, and
what a build killed with the service left behind (blocking file work: run in a thread).

Every directory the backend makes in the catalog carries `MARKER` from its first moment;
its manifest says ``Succeeded`` only once the build validated it (written last,
atomically). A directory with the marker and no such manifest is a build that never
finished: hidden from the menu (phase Validating, or no manifest yet) and removed by the
next service start. A directory without the marker is never touched.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from jupyterhub_ov.images.local import python_of, read_manifest
from jupyterhub_ov.images.manifest import MANIFEST_FILE

from ...errors import BuildFailed
from .environments import remove_tree

#: in every directory the local backend makes: a leftover carrying it may be removed
MARKER = ".jupyterhub-ov-build"
#: the manifests the backend writes are small; a larger file is not one of them
MANIFEST_LIMIT = 1024 * 1024


def _inside(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


def checked_environment(raw: str, what: str, *, allowed: str, refused: Sequence[str]) -> str:
    """The real path of the environment ``raw``, or BuildFailed saying why it may not be used.

    ``raw`` must be absolute; it and its interpreter, symlinks resolved, must not lie inside
    a ``refused`` root unless inside ``allowed`` (the catalog). Blocking: run in a thread.
    """
    if not os.path.isabs(raw):
        raise BuildFailed(
            f"{what} {raw!r} must be an absolute path: a relative path is never resolved"
            " against the build service's working directory"
        )
    real = os.path.realpath(raw)
    python = python_of(real)
    inside_catalog = bool(allowed) and _inside(real, os.path.realpath(allowed))
    named = repr(raw) if real == raw else f"{raw!r} (really {real})"
    checks = [] if inside_catalog else [(real, f"{what} {named} is inside")]
    if python:
        interpreter = os.path.realpath(python)
        checks.append((interpreter, f"{what} {raw!r} runs {interpreter}, inside"))
    for path, problem in checks:
        for root in refused:
            if _inside(path, os.path.realpath(root)):
                raise BuildFailed(
                    f"{problem} {root}, where environments may not come from"
                    " (LocalBuildBackend.refused_roots)"
                )
    return real


def is_leftover(directory: str) -> bool:
    """Whether ``directory`` is a build of ours that never finished (blocking): it carries
    `MARKER` and has no manifest with phase Succeeded (the last thing a build writes)."""
    if os.path.islink(directory) or not os.path.lexists(os.path.join(directory, MARKER)):
        return False
    try:
        manifest = read_manifest(os.path.join(directory, MANIFEST_FILE), limit=MANIFEST_LIMIT)
    except Exception:  # none, unreadable, not JSON, not a regular file: not finished
        return True
    return not (isinstance(manifest, Mapping) and manifest.get("phase") == "Succeeded")


def remove_leftovers(catalog_dir: str) -> list[str]:
    """Remove every `is_leftover` entry of ``catalog_dir``; their names (blocking)."""
    removed = []
    with os.scandir(catalog_dir) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.is_dir(follow_symlinks=False) and is_leftover(entry.path):
                remove_tree(entry.path)
                removed.append(entry.name)
    return removed
