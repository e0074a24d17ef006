"""Test fixtures for the local catalog: small but real Python environments.

A venv made with the stdlib (`--without-pip`, ~50 ms) layered on the hub environment the way
the local build backend layers its environments (`builder.environments`: a .pth file that adds
the hub's site directory, Jupyter's data and config linked in), with one module of its own,
``ovmarker``, so a test can tell which environment a server really runs in without
downloading anything.
"""

from __future__ import annotations

import json
import site
import subprocess
import sys
from pathlib import Path

from jupyterhub_ov.builds.backends.local.environments import BASE_PTH, base_pth, link_jupyter_dirs
from jupyterhub_ov.images.manifest import MANIFEST_FILE


def make_environment(path: Path, manifest: dict) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    own_site = Path(
        subprocess.check_output(
            [
                str(path / "bin" / "python"),
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            ],
            text=True,
        ).strip()
    )
    (own_site / BASE_PTH).write_text(base_pth(site.getsitepackages()))
    (own_site / "ovmarker.py").write_text(f"ENVIRONMENT = {manifest['name']!r}\n")
    # what installing JupyterLab into it would add under sys.prefix: assets and the
    # server-extension config that enables it
    link_jupyter_dirs(sys.prefix, str(path))
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
