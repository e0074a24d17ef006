"""The real ``openvino`` wheel and its dependencies, downloaded once and kept between runs.

The OpenVINO notebook image adds `NotebookController.packages` (``openvino``) to a
repository's requirements. To build it without an index, the find-links directory must hold
every wheel the lock takes: ``openvino``'s own dependencies, and those it shares with the
hub's environment at exactly the hub's versions (the build constrains them to the base, as
`pins.base_constraints` says). So pip downloads with the same constraints the build will
use, binary wheels only, for this interpreter.

The directory (``.cache/wheels/openvino/``, gitignored) is made in a temporary sibling and
renamed into place when complete, with a stamp naming what it was downloaded for: a rerun
with the same requirement, Python and base versions reuses it and downloads nothing; a
half-finished download is never taken for a complete one.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from jupyterhub_ov.builds.backends.local import pins
from jupyterhub_ov.builds.backends.local.environments import inspect_environment
from jupyterhub_ov.service.features.notebooks.controller import NotebookController

from ..util import REPO

CACHE = REPO / ".cache" / "wheels"
STAMP = "jupyterhub-ov-download.json"
#: what a download may take (PyPI on a slow line: openvino is about 50 MB)
DOWNLOAD_TIMEOUT = 900


def requirements() -> list[str]:
    """What the controller adds to a repository's requirements (its configured default)."""
    return list(NotebookController.class_traits()["packages"].default())


def base_constraints(prefix: str = sys.prefix) -> tuple[str, ...]:
    """The constraints a local build on ``prefix`` (the hub's environment) locks with."""
    base = asyncio.run(inspect_environment(prefix))
    return pins.base_constraints(base.packages)


def _identity(wanted: list[str], constraints: tuple[str, ...]) -> dict[str, object]:
    digest = hashlib.sha256("\n".join(constraints).encode()).hexdigest()[:16]
    python = f"cp{sys.version_info.major}{sys.version_info.minor}"
    return {"requirements": wanted, "python": python, "constraints": digest}


def openvino_wheels(cache: Path = CACHE) -> Path:
    """A find-links directory with ``openvino`` and everything its lock needs here."""
    return cached_wheels("openvino", requirements(), cache)


def cached_wheels(name: str, wanted: list[str], cache: Path = CACHE) -> Path:
    """A find-links directory ``<cache>/<name>`` with ``wanted`` and everything a local
    build's lock of them needs here (the same constraints), downloaded at most once."""
    constraints = base_constraints()
    identity = _identity(wanted, constraints)
    target = cache / name
    try:
        if json.loads((target / STAMP).read_text()) == identity:
            return target
    except (OSError, ValueError):
        pass
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache))
    try:
        constraint_file = staging / "constraints.txt"
        constraint_file.write_text("\n".join(constraints) + "\n")
        wheels = staging / "wheels"
        cmd = [
            *(sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check"),
            *("--only-binary=:all:", "--constraint", str(constraint_file)),
            *("--dest", str(wheels), *wanted),
        ]
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=DOWNLOAD_TIMEOUT, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"pip download {wanted} failed:\n{done.stdout}\n{done.stderr}")
        (wheels / STAMP).write_text(json.dumps(identity))
        shutil.rmtree(target, ignore_errors=True)
        wheels.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
