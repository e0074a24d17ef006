"""The product's wheel ships no simulator: it is a distribution of its own (sim/)."""

from __future__ import annotations

import ast
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
    # the panel's shell and each feature's templates and scripts ship with it
    for data in (
        "service/web/templates/panel.html",
        "service/web/static/panel.js",
        "service/features/builds/templates/section.html",
        "service/features/builds/static/builds.js",
        "service/features/notebooks/templates/section.html",
        "service/features/notebooks/static/notebooks.js",
        # the notebook servers' start-up configuration (buckets in the file browser)
        "jupyter-config/jupyter_server_config.py",
    ):
        assert f"jupyterhub_ov/{data}" in names, data
    assert "jupyterhub-ov-service" in scripts
    assert not [n for n in names if n.startswith(("jupyterhub_ov_sim/", "sim/"))]
    assert not [n for n in names if "/sim/" in n or n.startswith("jupyterhub_ov/sim")]
    assert "jupyterhub-ov-sim" not in scripts and "jupyterhub_ov_sim" not in scripts
    assert "Provides-Extra: sim" not in extras


def imported_roots(package: Path) -> dict[str, set[str]]:
    """Each module's imported top-level package names (absolute imports)."""
    found: dict[str, set[str]] = {}
    for module in package.rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(module.read_text(), str(module))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
            elif (
                isinstance(node, ast.ImportFrom)
                and node.level > len(module.parent.parts) - len(package.parts) + 1
            ):
                names.add("..")  # a relative import out of the package
        found[str(module.relative_to(REPO))] = names
    return found


def test_the_product_and_the_simulator_never_import_each_other() -> None:
    product = imported_roots(REPO / "jupyterhub_ov")
    simulator = imported_roots(REPO / "sim" / "jupyterhub_ov_sim")
    assert len(simulator) > 30 and len(product) > 30
    assert [m for m, names in product.items() if "jupyterhub_ov_sim" in names] == []
    assert [m for m, names in simulator.items() if names & {"jupyterhub_ov", ".."}] == []
    # pytest only in the plugin module, which pytest alone loads
    assert [m for m, names in simulator.items() if "pytest" in names] == [
        "sim/jupyterhub_ov_sim/testing.py"
    ]
