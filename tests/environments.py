"""Test fixtures for the local catalog: small but real Python environments.

A venv made with the stdlib (`--without-pip`, ~50 ms) that sees the hub environment's
packages through a .pth file and has one module of its own, ``ovmarker``, so a test can tell
which environment a server really runs in without downloading anything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from jupyterhub_ov.images.manifest import MANIFEST_FILE


def make_environment(path: Path, manifest: dict) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    site = Path(
        subprocess.check_output(
            [
                str(path / "bin" / "python"),
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            ],
            text=True,
        ).strip()
    )
    (site / "hub-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    (site / "ovmarker.py").write_text(f"ENVIRONMENT = {manifest['name']!r}\n")
    # what installing JupyterLab into it would add under sys.prefix: assets and the
    # server-extension config that enables it
    for sub in ("share", "etc"):
        (path / sub).mkdir(exist_ok=True)
        os.symlink(Path(sys.prefix) / sub / "jupyter", path / sub / "jupyter")
    (path / MANIFEST_FILE).write_text(json.dumps(manifest))
    return path


MARKER = {
    "name": "marker-notebook",
    "display_name": "Marker environment",
    "description": "A test environment with the ovmarker module",
    "creator": "tests",
    "python_version": ".".join(map(str, sys.version_info[:3])),
    "packages": [{"name": "ovmarker", "version": "1.0"}],
    "phase": "Succeeded",
    "order": 50,
}
