"""Local package sources for build tests: wheels in a directory and git repositories.

Nothing is downloaded: resolving uses ``--no-index --find-links <dir>`` with wheels made
here (a wheel is a zip with METADATA, WHEEL and RECORD), and repositories are local
``file://`` ones made with the git command line.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import zipfile
from collections.abc import Sequence
from pathlib import Path


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def make_wheel(directory: Path, name: str, version: str, requires: Sequence[str] = ()) -> Path:
    """A pure-Python wheel ``<name>-<version>-py3-none-any.whl`` with one module."""
    module = name.replace("-", "_")
    info = f"{module}-{version}.dist-info"
    metadata = "Metadata-Version: 2.1\nName: {}\nVersion: {}\n{}".format(
        name, version, "".join(f"Requires-Dist: {r}\n" for r in requires)
    )
    files = {
        f"{module}/__init__.py": f"__version__ = {version!r}\n".encode(),
        f"{info}/METADATA": metadata.encode(),
        f"{info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: jupyterhub-ov-tests\n"
            b"Root-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = [_record_line(path, data) for path, data in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for name_in_zip, data in files.items():
            wheel.writestr(name_in_zip, data)
    return path


def git_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        HOME=str(home),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Test",
        GIT_AUTHOR_EMAIL="test@example.com",
        GIT_COMMITTER_NAME="Test",
        GIT_COMMITTER_EMAIL="test@example.com",
    )
    return env


def make_repository(path: Path, files: dict[str, str], *, branch: str = "main") -> str:
    """A git repository at ``path`` with one commit of ``files``; the commit's sha."""
    path.mkdir(parents=True, exist_ok=True)
    env = git_env(path.parent)
    for name, text in files.items():
        (path / name).write_text(text)

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=path, env=env, check=True, capture_output=True, text=True
        )
        return done.stdout.strip()

    git("init", "-q", "-b", branch)
    git("add", "-A")
    git("commit", "-q", "-m", "notebook image sources")
    return git("rev-parse", "HEAD")
