"""Tiny wheels made on the spot (a wheel is a zip with a dist-info), so no test downloads.

`make_wheel` writes a real, installable ``py3-none-any`` wheel with a module that knows its
own version; `tiny_index` fills a find-links directory with the set the tests use.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def make_wheel(
    directory: Path,
    name: str,
    version: str,
    *,
    requires: Sequence[str] = (),
    files: Mapping[str, str] | None = None,
) -> Path:
    """``<name>-<version>-py3-none-any.whl`` in ``directory``; by default with a module
    ``<name>`` whose ``VERSION`` is ``version``."""
    module = name.replace("-", "_")
    info = f"{module}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires
    )
    contents = dict(files or {f"{module}/__init__.py": f"VERSION = {version!r}\n"})
    contents[f"{info}/METADATA"] = metadata
    contents[f"{info}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: jupyterhub-ov-tests\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n"
    )
    record = [_record_line(p, c.encode()) for p, c in contents.items()]
    contents[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for member, text in contents.items():
            wheel.writestr(member, text)
    return path


def base_version(name: str) -> str:
    return importlib.metadata.version(name)


def tiny_index(directory: Path) -> Path:
    """The wheels the builder tests install, in a find-links directory.

    - ``ovtiny`` 1.0 (no dependencies) and 2.0 (needs ``ovdep``);
    - ``ovneeds`` needs ``packaging``, which the find-links directory offers at 0.5, at the
      hub environment's own version, and at 99.0: constrained to the base, the lock must
      take the base's version (and not install it);
    - ``ovconflict`` needs ``packaging<1``: resolvable without the constraint, not with it;
    - ``ovbreak`` installs a ``jupyterlab`` package that cannot be imported (a package that
      breaks the environment: validation must catch it).
    """
    directory.mkdir(parents=True, exist_ok=True)
    make_wheel(directory, "ovtiny", "1.0")
    make_wheel(directory, "ovtiny", "2.0", requires=["ovdep>=1"])
    make_wheel(directory, "ovdep", "1.0")
    make_wheel(directory, "ovneeds", "1.0", requires=["packaging>=0.1"])
    make_wheel(directory, "ovconflict", "1.0", requires=["packaging<1"])
    for version in ("0.5", base_version("packaging"), "99.0"):
        make_wheel(
            directory,
            "packaging",
            version,
            files={"packaging/__init__.py": "raise ImportError('a test wheel, never installed')\n"},
        )
    make_wheel(
        directory,
        "ovbreak",
        "1.0",
        files={"jupyterlab/__init__.py": "raise ImportError('ovbreak shadows jupyterlab')\n"},
    )
    return directory
