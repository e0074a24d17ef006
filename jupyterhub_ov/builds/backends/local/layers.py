"""A layer's environment made (async): the uv venv on the base environment, exactly the
resolved lock installed into it (what the base has already is not installed again), a
repository's files brought along, the base's Jupyter data and config linked in.

`LocalBuildBackend.build` decides where and when, checks the base and publishes the result;
this is the work in between.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from jupyterhub_ov.builds.model import spec
from jupyterhub_ov.builds.model.index import PackageIndex
from jupyterhub_ov.builds.process import CommandFailed, run

from ...errors import BuildFailed
from ...process import tool_env
from ..base import Reporter
from . import pins
from .environments import EnvironmentInfo, copy_files, create_layer, link_jupyter_dirs
from .repository import checkout

#: the full lock of a layer, kept beside it for the record
LOCK_FILE = "jupyterhub-ov-lock.txt"
NOTEBOOKS = "notebooks"


@dataclass(frozen=True)
class LayerTools:
    """What making a layer uses, from the backend's configuration."""

    uv: str
    index: PackageIndex
    git_schemes: Sequence[str]
    work_dir: str


async def make_layer(
    resolved: spec.ResolvedBuild,
    base: EnvironmentInfo,
    directory: str,
    tools: LayerTools,
    report: Reporter,
) -> str | None:
    """The layer of ``resolved`` on ``base`` made in ``directory``; the name of its
    notebooks directory (a repository's files), None without one."""
    try:
        await create_layer(base, directory, uv=tools.uv, on_line=report.log)
        await _install(resolved, base, directory, tools, report)
        notebooks = None
        if resolved.request.build_type == spec.BuildType.GIT_REPOSITORY:
            notebooks = await _bring_notebooks(resolved, directory, tools, report)
        links = await asyncio.to_thread(link_jupyter_dirs, base.prefix, directory)
    except (CommandFailed, OSError) as e:
        raise BuildFailed(f"The environment could not be created: {e}") from None
    await report.log(f"Linked {links} Jupyter data and config files of {base.prefix}")
    return notebooks


async def _install(
    resolved: spec.ResolvedBuild,
    base: EnvironmentInfo,
    directory: str,
    tools: LayerTools,
    report: Reporter,
) -> None:
    text = "".join(f"{line}\n" for line in resolved.lock)
    await asyncio.to_thread(Path(directory, LOCK_FILE).write_text, text)
    installs = pins.layer_installs(resolved.lock, base.packages)
    if not installs:
        await report.log("Nothing to install: the base has every locked package")
        return
    python = os.path.join(directory, "bin", "python")
    cmd = [tools.uv, "pip", "install", "--python", python, "--no-deps", *tools.index.uv_args()]
    await run([*cmd, *installs], on_line=report.log, env=tool_env())


async def _bring_notebooks(
    resolved: spec.ResolvedBuild, directory: str, tools: LayerTools, report: Reporter
) -> str:
    async with checkout(
        resolved.request.repository_url,
        resolved.commit,
        schemes=tools.git_schemes,
        on_line=report.log,
        work_dir=tools.work_dir,
    ) as tmp:
        skipped = await asyncio.to_thread(copy_files, tmp, os.path.join(directory, NOTEBOOKS))
    for path in skipped:
        await report.log(f"Not copied from the repository: {path} (a symbolic link)")
    return NOTEBOOKS
