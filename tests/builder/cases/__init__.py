"""Per-backend set-ups for the backend contract suite (`tests/builder/test_backend_contract.py`).

Each module here (named after the backend's ``kind``) provides ``case(tmp_path)``, an async
context manager yielding a `BackendCase`: a started backend plus what the suite needs to
check it from outside (the menu's catalog, leftovers, whether work stopped). Adding a backend
to the suite is adding a module and its kind to ``conftest.BACKEND_KINDS``.
"""

from __future__ import annotations

from typing import Protocol

from jupyterhub_ov.builder.backends.base import BuildBackend
from jupyterhub_ov.builder.spec import BuildRequest, ResolvedBuild

from ..harness import RecordingReporter

#: request variants a case provides for each build type it supports
OK, FAIL, SLOW = "ok", "fail", "slow"


class BackendCase(Protocol):
    kind: str
    backend: BuildBackend
    #: build types the case can run (every one of them in every variant)
    build_types: tuple[str, ...]

    def request(self, build_type: str, variant: str = OK) -> BuildRequest:
        """A valid request of ``build_type`` that succeeds (OK), fails in its build (FAIL) or
        keeps working until cancelled (SLOW); each variant names a different image."""

    async def offered(self) -> dict[str, str]:
        """What the spawner menu offers now: ``<name>:<tag>`` → reference."""

    async def leftovers(self, resolved: ResolvedBuild) -> list[str]:
        """Anything half-made for ``resolved`` that a failed or cancelled build must not leave."""

    async def working(self, resolved: ResolvedBuild, reporter: RecordingReporter) -> None:
        """Return once the build's real work (a process, a cluster build) is under way."""

    async def stopped(self, resolved: ResolvedBuild) -> list[str]:
        """Work of ``resolved`` still going on after a cancel (empty: all of it stopped)."""
