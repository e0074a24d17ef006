"""The local backend in the contract suite: a catalog in a temp directory, the test
process's environment as the base, wheels from a find-links directory, repos over file://."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from jupyterhub_ov.builder import spec
from jupyterhub_ov.builder.backends.local import LocalBuildBackend
from jupyterhub_ov.images.local import LocalImageCatalog
from jupyterhub_ov.images.model import NotebookImage

from ..gitrepos import Repo
from ..harness import processes_mentioning

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
        spec.PACKAGE_LIST,
        packageVersions=list(packages),
        runtimeEnvironment={"pythonVersion": python},
    )


def local_backend(catalog: Path, wheels: Path, **config: Any) -> LocalBuildBackend:
    return LocalBuildBackend(
        catalog_dir=str(catalog),
        find_links=[str(wheels)],
        no_index=True,
        git_schemes=["file"],
        validation_timeout=120,
        **config,
    )


@dataclass
class LocalCase:
    backend: LocalBuildBackend
    catalog: Path
    repo: Repo
    busy_marker: str = r"Jupyter Server .* is running at"

    def request(self, build_type: str) -> spec.BuildRequest:
        if build_type == spec.PACKAGE_LIST:
            return package_list("tiny", "ovtiny>=2")
        if build_type == spec.GIT_REPOSITORY:
            return parse("repo", spec.GIT_REPOSITORY, repositoryUrl=self.repo.url)
        return parse("hub-env", spec.IMPORT_IMAGE, fromImage=sys.prefix)

    def failing_request(self) -> spec.BuildRequest:
        return package_list("broken", "ovbreak")

    def unresolvable_request(self) -> spec.BuildRequest:
        return package_list("missing", "ovdoesnotexist")

    async def catalog_images(self) -> list[NotebookImage]:
        catalog = LocalImageCatalog(
            catalog_dir=str(self.catalog), rescan_interval=0, include_hub_environment=False
        )
        return await asyncio.to_thread(catalog.images)

    async def leftovers(self) -> list[str]:
        return sorted(await asyncio.to_thread(os.listdir, self.catalog))

    async def running_work(self) -> list[str]:
        return await asyncio.to_thread(processes_mentioning, str(self.catalog))


@asynccontextmanager
async def case(request: pytest.FixtureRequest) -> AsyncIterator[LocalCase]:
    catalog = request.getfixturevalue("tmp_path") / "environments"
    backend = local_backend(catalog, request.getfixturevalue("wheels"))
    await backend.start()
    try:
        yield LocalCase(backend, catalog, request.getfixturevalue("notebook_repo"))
    finally:
        await backend.stop()
