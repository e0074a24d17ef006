"""The local backend in the contract suite: a catalog in a temp directory, the test
process's environment as the base, wheels from a find-links directory, repos over file://."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from jupyterhub_ov.builds.backends.local.backend import LocalBuildBackend
from jupyterhub_ov.builds.model import spec
from jupyterhub_ov.images.local import LocalImageCatalog
from jupyterhub_ov.images.model import NotebookImage

from ..gitrepos import Repo
from ..harness import RecordingReporter, processes_mentioning
from . import FAIL, OK, UNRESOLVABLE, offered_by

POLICY = spec.SpecPolicy(git_schemes=("https", "file"), git_hosts=(), import_source="path")
PYTHON = ".".join(map(str, sys.version_info[:2]))


def request_body(name: str, build_type: str, **fields: Any) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "annotations": {
                "opendatahub.io/notebook-image-name": f"Test {name}",
                "opendatahub.io/notebook-image-desc": f"A {build_type} test build",
            },
        },
        "spec": {"buildType": build_type, **fields},
    }


def parse(name: str, build_type: str, **fields: Any) -> spec.BuildRequest:
    return spec.parse_request(
        request_body(name, build_type, **fields), creator="tester", policy=POLICY
    )


def package_list(name: str, *packages: str, python: str = PYTHON) -> spec.BuildRequest:
    return parse(
        name,
        spec.BuildType.PACKAGE_LIST,
        packageVersions=list(packages),
        runtimeEnvironment={"pythonVersion": python},
    )


def local_backend(catalog: Path, wheels: Path, **config: Any) -> LocalBuildBackend:
    return LocalBuildBackend(
        catalog_dir=str(catalog),
        work_dir=str(catalog.parent / "work"),
        find_links=[str(wheels)],
        no_index=True,
        git_schemes=["file"],
        validation_timeout=120,
        **config,
    )


#: the validation server of a build answering: the build's real work is under way
BUSY = r"Jupyter Server .* is running at"


@dataclass
class LocalCase:
    backend: LocalBuildBackend
    catalog: Path
    repo: Repo
    broken_repo: Repo
    #: an environment without JupyterLab: importing it fails validation
    bare_environment: Path
    kind: str = "local"
    build_types: tuple[str, ...] = spec.BUILD_TYPES

    def request(self, build_type: str, variant: str = OK) -> spec.BuildRequest:
        suffix = "" if variant == OK else f"-{variant}"
        if build_type == spec.BuildType.PACKAGE_LIST:
            package = {FAIL: "ovbreak", UNRESOLVABLE: "ovdoesnotexist"}.get(variant, "ovtiny>=2")
            return package_list(f"tiny{suffix}", package)
        if build_type == spec.BuildType.GIT_REPOSITORY:
            repo = self.broken_repo if variant == FAIL else self.repo
            return parse(f"repo{suffix}", spec.BuildType.GIT_REPOSITORY, repositoryUrl=repo.url)
        source = str(self.bare_environment) if variant == FAIL else sys.prefix
        return parse(f"hub-env{suffix}", spec.BuildType.IMPORT_IMAGE, fromImage=source)

    async def catalog_images(self) -> list[NotebookImage]:
        catalog = LocalImageCatalog(
            catalog_dir=str(self.catalog), rescan_interval=0, include_hub_environment=False
        )
        return await asyncio.to_thread(catalog.images)

    async def offered(self) -> dict[str, str]:
        return offered_by(await self.catalog_images())

    async def leftovers(self, resolved: spec.ResolvedBuild) -> list[str]:
        # each case has a catalog and a work_dir of its own: after a failure or cancel
        # both must be empty
        work = Path(self.backend.work_dir)
        left = await asyncio.to_thread(os.listdir, self.catalog)
        scratch = await asyncio.to_thread(lambda: [p.name for p in work.glob("*")])
        return sorted([*left, *(f"work_dir: {name}" for name in scratch)])

    async def working(self, resolved: spec.ResolvedBuild, reporter: RecordingReporter) -> None:
        await reporter.until(lambda: any(re.search(BUSY, line) for line in reporter.lines), 120)

    async def stopped(self, resolved: spec.ResolvedBuild) -> list[str]:
        return await asyncio.to_thread(processes_mentioning, str(self.catalog))


@asynccontextmanager
async def case(request: pytest.FixtureRequest) -> AsyncIterator[LocalCase]:
    tmp_path = request.getfixturevalue("tmp_path")
    catalog = tmp_path / "environments"
    bare = tmp_path / "bare"
    await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True
    )
    backend = local_backend(catalog, request.getfixturevalue("wheels"))
    await backend.start()
    try:
        yield LocalCase(
            backend,
            catalog,
            request.getfixturevalue("notebook_repo"),
            request.getfixturevalue("broken_repo"),
            bare,
        )
    finally:
        await backend.stop()
