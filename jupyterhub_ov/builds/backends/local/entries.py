"""The local build backend's catalog entries: making one (marked as ours), its manifest, the
image a finished one holds, where their environments may come from, and what a build killed
with the service left behind (blocking file work: run in a thread).

Every directory the backend makes in the catalog carries `MARKER` from its first moment;
its manifest says ``Succeeded`` only once the build validated it (written last,
atomically). A directory with the marker and no such manifest is a build that never
finished: hidden from the menu (phase Validating, or no manifest yet) and removed by the
next service start. A directory without the marker is never touched.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jupyterhub_ov.images.local import python_of, read_manifest
from jupyterhub_ov.images.manifest import MANIFEST_FILE, environment_of, manifest_to_stream

from ...errors import BuildFailed
from ...model import spec
from ...model.published import Package, PublishedImage
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


def entry_manifest(
    resolved: spec.ResolvedBuild, python_version: str, **optional: str | None
) -> dict[str, Any]:
    """The manifest of a catalog entry (phase Validating until the build validated it)."""
    request = resolved.request
    manifest: dict[str, Any] = {
        "name": request.name,
        "display_name": request.display_name,
        "description": request.description,
        "creator": request.creator,
        "tag": resolved.tag,
        "phase": "Validating",
        "python_version": python_version,
        "packages": [],
    }
    if request.url:
        manifest["url"] = request.url
    manifest.update({k: v for k, v in optional.items() if v})
    return manifest


def published_image(directory: str, resolved: spec.ResolvedBuild) -> PublishedImage | None:
    """The image a finished build left in ``directory`` (blocking: run in a thread)."""
    try:
        manifest = json.loads(Path(directory, MANIFEST_FILE).read_text(encoding="utf-8"))
        manifest_to_stream(manifest, directory)  # valid, or InvalidImage
    except (OSError, ValueError):  # InvalidImage and JSON errors are ValueErrors
        return None
    if (
        manifest["phase"] != "Succeeded"
        or manifest.get("tag") != resolved.tag
        or manifest["name"] != resolved.request.name
    ):
        return None
    reference = environment_of(manifest, directory)
    if python_of(reference) is None:
        return None
    return PublishedImage(
        image=resolved.image,
        reference=reference,
        python_version=manifest["python_version"],
        packages=tuple(Package(p["name"], p.get("version", "")) for p in manifest["packages"]),
    )


def claim_entry(directory: str) -> bool:
    """Make ``directory`` for a build, marked as ours (blocking: run in a thread). A leftover
    of an unfinished build of ours is removed first (True); anything else there stops the
    build with nothing changed."""
    removed = False
    if os.path.lexists(directory):
        if not os.path.exists(os.path.join(directory, MARKER)):
            raise BuildFailed(
                f"{directory} exists and was not made by the build service; nothing was"
                " changed. Move it away to build this image."
            )
        remove_tree(directory)
        removed = True
    try:
        os.makedirs(directory)
        Path(directory, MARKER).write_text("")
    except OSError as e:
        remove_tree(directory)
        raise BuildFailed(f"The build could not make {directory}: {e}") from None
    return removed
