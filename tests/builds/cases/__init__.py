"""Per-backend set-ups for the backend contract suite (`tests/builds/test_backend_contract.py`).

Each module here (named after the backend's ``kind``) provides ``case(request)``, an async
context manager taking pytest's ``request`` (so a module can ask for the fixtures its backend
needs) and yielding a `BackendCase`: a started backend plus what the suite needs to check it
from outside (the menu's catalog, leftovers, whether work stopped). Adding a backend to the
suite is adding a module and its kind to `BACKENDS`.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from jupyterhub_ov.builds.backends.base import BuildBackend
from jupyterhub_ov.builds.model.spec import BuildRequest, ResolvedBuild
from jupyterhub_ov.images.model import NotebookImage

from ..harness import RecordingReporter

BACKENDS = ["local", "openshift", "tekton"]

#: request variants a case provides for each build type: one that succeeds (OK), one that
#: fails in its build (FAIL), one that keeps working long enough to be cancelled (SLOW), and
#: (package lists only) one naming a package that does not exist (UNRESOLVABLE)
OK, FAIL, SLOW, UNRESOLVABLE = "ok", "fail", "slow", "unresolvable"


class BackendCase(Protocol):
    kind: str
    backend: BuildBackend
    #: build types the case can run (every one of them in every variant)
    build_types: tuple[str, ...]

    def request(self, build_type: str, variant: str = OK) -> BuildRequest:
        """A valid request of ``build_type`` in ``variant``; each variant names another image."""

    async def catalog_images(self) -> list[NotebookImage]:
        """The images the catalog the spawner menu reads offers now."""

    async def offered(self) -> dict[str, str]:
        """What the spawner menu offers now: ``<name>:<tag>`` → reference."""

    async def leftovers(self, resolved: ResolvedBuild) -> list[str]:
        """Anything half-made for ``resolved`` that a failed or cancelled build must not leave."""

    async def working(self, resolved: ResolvedBuild, reporter: RecordingReporter) -> None:
        """Return once the build's real work (a process, a cluster build) is under way."""

    async def stopped(self, resolved: ResolvedBuild) -> list[str]:
        """Work of ``resolved`` still going on after a cancel (empty: all of it stopped)."""


def offered_by(images: list[NotebookImage]) -> dict[str, str]:
    """``<name>:<tag>`` → reference of every tag the images offer."""
    return {f"{i.name}:{t.name}": t.reference for i in images for t in i.tags}


async def offered_within(case: BackendCase, image: str, timeout: float = 10) -> dict[str, str]:
    """The menu's images once ``image`` is among them (catalogs update by themselves)."""
    async with asyncio.timeout(timeout):
        while image not in (offered := await case.offered()):  # noqa: ASYNC110 - no event
            await asyncio.sleep(0.05)  # the catalog updates from its own watch or scan
    return offered
