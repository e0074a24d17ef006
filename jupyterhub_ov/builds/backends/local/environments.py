"""Layered Python environments: the local analogue of container image layers.

A layer is a uv venv made with its base environment's interpreter. A ``.pth`` file adds the
base's site directories after the layer's own (``site.addsitedir``, so the base's own
``.pth`` files — editable installs, namespace packages, a base that is itself a layer — work
too): JupyterHub and JupyterLab come from the base, only the user's packages are installed
into the layer. Jupyter's data and config (``share/jupyter``: JupyterLab's assets and
kernels; ``etc/jupyter``: the config that enables its server extension) are found under
``sys.prefix``, so the base's entries are merged into the layer where it has none of its own
(`link_jupyter_dirs`): what packages install into (``labextensions``, ``kernels``, the
config directories) are real directories of the layer, so a later ``pip install`` in the
layer adds to the layer and never writes through a symlink into the base.

The file work here is synchronous (callers run it with ``asyncio.to_thread``); the
interpreters and uv run through `builder.process.run`.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyterhub_ov.builds.process import Completed, LineSink, run, tool_env
from jupyterhub_ov.images.local import python_of

from ...errors import BuildFailed

BASE_PTH = "jupyterhub-ov-base.pth"
#: scripts run by `ask_python` print this, then their answer as JSON, on one line
ANSWER = "JUPYTERHUB-OV-ANSWER "

# Runs in the inspected interpreter: standard library only, old syntax kept simple.
INSPECT = (
    f"ANSWER = {ANSWER!r}\n"
    + r"""
import importlib.metadata, importlib.util, json, os, re, site, sys
packages = {}
for dist in importlib.metadata.distributions():
    name = dist.metadata["Name"]
    if name:
        packages.setdefault(re.sub(r"[-_.]+", "-", name).lower(), dist.version)
print(ANSWER + json.dumps({
    "prefix": os.path.realpath(sys.prefix),
    "version": "%d.%d.%d" % sys.version_info[:3],
    "site_dirs": [d for d in site.getsitepackages() if os.path.isdir(d)],
    "packages": packages,
    "missing": [m for m in ("jupyterhub", "jupyterlab") if importlib.util.find_spec(m) is None],
}))
"""
)


@dataclass(frozen=True)
class EnvironmentInfo:
    """What a base environment is made of (its interpreter's own answer)."""

    prefix: str
    python: str
    #: ``3.11.7``
    version: str
    site_dirs: tuple[str, ...]
    #: canonical name → version of everything importable (first on sys.path wins)
    packages: Mapping[str, str] = field(default_factory=dict)
    #: of jupyterhub and jupyterlab, those not found
    missing: tuple[str, ...] = ()

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])


async def ask_python(
    python: str, script: str, *, env: Mapping[str, str], on_line: LineSink | None = None
) -> tuple[dict[str, Any] | None, Completed]:
    """Run ``script`` with ``python -I``; its `ANSWER` (None if it printed none) and how it
    ended. The other output lines go to ``on_line``."""

    async def shown(line: str) -> None:
        if on_line is not None and not line.startswith(ANSWER):
            await on_line(line)

    done = await run(
        [python, "-I", "-c", script], env=env, on_line=shown, capture=True, check=False
    )
    line = next((x for x in done.output.splitlines() if x.startswith(ANSWER)), None)
    return (json.loads(line[len(ANSWER) :]) if line else None), done


async def inspect_environment(prefix: str) -> EnvironmentInfo:
    """Ask ``prefix``'s interpreter for its version, site directories and packages."""
    python = await asyncio.to_thread(python_of, prefix)
    if python is None:
        raise BuildFailed(f"{prefix} is not a Python environment: it has no bin/python")
    data, done = await ask_python(python, INSPECT, env=tool_env())
    if data is None:
        tail = "\n".join(done.tail[-10:])
        raise BuildFailed(f"The Python of {prefix} does not run (exit {done.returncode}):\n{tail}")
    return EnvironmentInfo(
        prefix=str(data["prefix"]),
        python=python,
        version=str(data["version"]),
        site_dirs=tuple(data["site_dirs"]),
        packages=dict(data["packages"]),
        missing=tuple(data["missing"]),
    )


def base_pth(site_dirs: Sequence[str]) -> str:
    """The ``.pth`` text that appends a base's site directories (with their .pth files)."""
    return "".join(f"import site; site.addsitedir({d!r})\n" for d in site_dirs)


async def create_layer(base: EnvironmentInfo, prefix: str, *, uv: str, on_line: LineSink) -> str:
    """A venv at ``prefix`` (which may exist) on ``base``'s interpreter; its site dir."""
    await run(
        [uv, "venv", "--no-project", "--allow-existing", "--python", base.python, prefix],
        on_line=on_line,
        env=tool_env(),
    )
    python = os.path.join(prefix, "bin", "python")
    done = await run(
        [python, "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        env=tool_env(),
        capture=True,
    )
    site_dir = done.output.strip().splitlines()[-1]
    text = base_pth(base.site_dirs)
    await asyncio.to_thread(Path(site_dir, BASE_PTH).write_text, text)
    return site_dir


def merge_links(
    source: Path, target: Path, *, depth: int, copy: bool = False, _seen: set[str] | None = None
) -> int:
    """Give ``target`` every entry of ``source`` it has none of; returns how many were made.

    Directories down to ``depth`` levels below ``target``, and npm scope directories
    (``@scope``) at any level, are real directories merged entry by entry, so that what a
    package installs into the layer later lands in the layer; deeper entries are symlinks to
    the base's, whole directories at a time. That keeps the layer in step with its base, and
    JupyterLab can serve its assets: tornado serves a symlinked file only when it stays
    inside the served directory's real path, which a symlinked directory does. With ``copy``
    every directory is real and files are copied (config files are written in place by
    ``jupyter ... enable``: a link would let that write into the base).

    The layer's own entries always win; a ``target`` that is itself a symlink is left alone.
    """
    seen = _seen if _seen is not None else set()
    real = os.path.realpath(source)
    if real in seen or not source.is_dir() or target.is_symlink():
        return 0
    seen.add(real)
    target.mkdir(parents=True, exist_ok=True)
    made = 0
    for entry in sorted(os.scandir(source), key=lambda e: e.name):
        dest = target / entry.name
        if entry.is_dir():  # follows symlinks: a linked directory of the base counts too
            mirror = copy or depth > 0 or entry.name.startswith("@") or dest.is_dir()
            if mirror and not dest.is_symlink():
                deeper = depth if entry.name.startswith("@") else depth - 1
                made += merge_links(Path(entry.path), dest, depth=deeper, copy=copy, _seen=seen)
                continue
        if os.path.lexists(dest):
            continue
        if copy:
            shutil.copy2(entry.path, dest)
        else:
            os.symlink(entry.path, dest)
        made += 1
    return made


def link_jupyter_dirs(base_prefix: str, prefix: str) -> int:
    """The base's ``share/jupyter`` (linked) and ``etc/jupyter`` (copied) in the layer.

    In ``share/jupyter`` the containers packages install into (``labextensions``,
    ``kernels``, ``lab``…) are real, their entries linked.
    """
    share = merge_links(Path(base_prefix, "share/jupyter"), Path(prefix, "share/jupyter"), depth=1)
    etc = merge_links(
        Path(base_prefix, "etc/jupyter"), Path(prefix, "etc/jupyter"), depth=0, copy=True
    )
    return share + etc


def write_manifest(directory: str, manifest: Mapping[str, Any], name: str) -> None:
    """Write ``directory/name`` atomically: a reader sees the old or the new file, whole."""
    path = Path(directory, name)
    tmp = path.with_name(f".{name}.tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def copy_files(source: str, target: str, *, skip: Sequence[str] = (".git",)) -> list[str]:
    """Copy the regular files and directories of ``source`` into ``target`` (created).

    Symlinks are not copied (a repository's link could point anywhere on this machine);
    their paths, relative to ``source``, are returned so the caller can say so.
    """
    skipped: list[str] = []

    def ignore(directory: str, names: list[str]) -> set[str]:
        out = {n for n in names if directory == source and n in skip}
        for n in names:
            if os.path.islink(os.path.join(directory, n)):
                out.add(n)
                skipped.append(os.path.relpath(os.path.join(directory, n), source))
        return out

    shutil.copytree(source, target, ignore=ignore, symlinks=True)
    # a temporary source directory is private (0700); what every user's account gets a copy
    # of from here must not be
    os.chmod(target, 0o755)
    return skipped


def remove_tree(path: str) -> None:
    """Remove ``path`` if it exists (never following a symlink out of it)."""
    if os.path.islink(path):
        os.unlink(path)
    elif os.path.exists(path):
        shutil.rmtree(path)
