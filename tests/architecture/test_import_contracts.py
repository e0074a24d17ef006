"""The import contracts of pyproject.toml (`make lint` runs them): kept by the package as it
is, and broken, naming the contract, by each kind of forbidden import added to a copy."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..util import REPO

LINT = [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"]


def lint(package_parent: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports over the ``jupyterhub_ov`` found in ``package_parent``."""
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run(
        [*LINT, str(REPO / "pyproject.toml")],
        cwd=package_parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("contracts")
    shutil.copytree(
        REPO / "jupyterhub_ov",
        root / "jupyterhub_ov",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return root


def test_the_package_keeps_every_contract() -> None:
    done = lint(REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        (
            "service/features/notebooks/model.py",
            "from jupyterhub_ov.service.features.builds import api",
            "Features never import each other",
        ),
        ("builds/model/phases.py", "import asyncio", "Pure modules import no I/O"),
        (
            "service/features/modelservers/manifests.py",
            "from jupyterhub_ov.kube import client",
            "Pure modules import no I/O",
        ),
        (
            "builds/backends/openshift/steps.py",
            "from jupyterhub_ov.builds.backends.local import environments",
            "The build backends are independent",
        ),
        (
            "service/web/base.py",
            "from jupyterhub_ov.service.features.notebooks import controller",
            "The service knows features only through service.feature",
        ),
        (
            "builds/manager.py",
            "from jupyterhub_ov.service import scopes",
            "The build engine knows nothing of the service",
        ),
        (
            "builds/store.py",
            "from jupyterhub_ov.builds import manager",
            "No import cycles between sibling modules",
        ),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    copy: Path, module: str, line: str, contract: str
) -> None:
    path = copy / "jupyterhub_ov" / module
    original = path.read_text()
    # after the module's own imports, so the copy still imports
    path.write_text(original + f"\n{line}  # noqa\n")
    try:
        done = lint(copy)
    finally:
        path.write_text(original)
    assert done.returncode != 0, done.stdout
    assert f"{contract} BROKEN" in done.stdout, done.stdout
