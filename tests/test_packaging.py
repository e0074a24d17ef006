"""The product's wheel ships no simulator: it is a distribution of its own (sim/)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from .util import REPO

#: what a product build reads; sim/ is copied too, where it lives, so find: could pick it up
SOURCES = ("setup.cfg", "pyproject.toml", "README.md", "jupyterhub_ov", "sim")
SKIPPED = shutil.ignore_patterns("*.egg-info", "__pycache__", "build")


def build_wheel(tree: Path, out: Path) -> Path:
    tree.mkdir()
    for name in SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=SKIPPED)
        else:
            shutil.copy2(source, tree / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--quiet", "-w", str(out), str(tree)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    (wheel,) = out.glob("jupyterhub_ov-*.whl")
    return wheel


def test_product_wheel_has_no_simulator(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "tree", tmp_path / "dist")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        scripts = archive.read(entry_points).decode()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        extras = [
            line for line in archive.read(metadata).decode().splitlines()
            if line.startswith("Provides-Extra:")
        ]  # fmt: skip
    assert any(n.startswith("jupyterhub_ov/spawners/") for n in names)  # it is the product
    assert "jupyterhub-ov-builder" in scripts
    assert not [n for n in names if n.startswith(("jupyterhub_ov_sim/", "sim/"))]
    assert not [n for n in names if "/sim/" in n or n.startswith("jupyterhub_ov/sim")]
    assert "jupyterhub-ov-sim" not in scripts and "jupyterhub_ov_sim" not in scripts
    assert "Provides-Extra: sim" not in extras
