"""A scripted build backend for testing what sits above backends (manager, service, panel).

It implements the `BuildBackend` contract for real, without building anything: every build
reports the phase path of its type, writes log lines, and publishes into an in-memory
registry that `find` reads, so dedupe, joining, cancel, timeouts and restarts can be
exercised in milliseconds. Behaviour per build comes from the request's first package (or
the import source): ``fail`` fails while Building, ``slow`` waits on `release`
(``unremembered`` too, never remembering a reference), ``bad-phase``
reports a phase out of order. Usable from a service config file as
``c.PlatformService.backend_class = "tests.builds.scripted.ScriptedBackend"``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import ClassVar

from traitlets import Float, Int

from jupyterhub_ov.builds.backends.base import (
    BuildBackend,
    BuildFailed,
    Package,
    PublishedImage,
    Reporter,
    detaching,
)
from jupyterhub_ov.builds.model.phases import Phase
from jupyterhub_ov.builds.model.spec import BuildRequest, BuildType, ResolvedBuild


class ScriptedBackend(BuildBackend):
    kind: ClassVar[str] = "scripted"
    can_reattach: ClassVar[bool] = True

    step_delay = Float(0.0, config=True, help="Seconds each phase takes.")
    log_lines = Int(3, config=True, help="Log lines written while Building.")

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.published: dict[str, PublishedImage] = {}
        self.release = asyncio.Event()
        self.started: list[str] = []
        #: set once a build reported Building and remembered its reference
        self.building = asyncio.Event()
        self.cancelled: list[str] = []
        self.detached: list[str] = []
        self.discarded: list[str] = []
        #: the images each `sweep` was told are followed
        self.swept: list[list[str]] = []

    @staticmethod
    def behaviour(request: BuildRequest) -> str:
        first = request.package_versions[0] if request.package_versions else request.from_image
        return first.split("=")[0].split("/")[-1]

    async def resolve(self, request: BuildRequest, report: Reporter) -> ResolvedBuild:
        await report.log(f"resolving {request.name}")
        lock = tuple(p if "==" in p else f"{p}==1.0" for p in request.package_versions)
        return ResolvedBuild(request, lock=lock, source=request.from_image, python_version="3.11")

    async def find(self, resolved: ResolvedBuild) -> PublishedImage | None:
        return self.published.get(resolved.image)

    async def build(self, resolved: ResolvedBuild, report: Reporter) -> PublishedImage:
        behaviour = self.behaviour(resolved.request)
        self.started.append(resolved.image)
        try:
            return await self._work(resolved, report, behaviour)
        except asyncio.CancelledError as e:
            (self.detached if detaching(e) else self.cancelled).append(resolved.image)
            raise

    async def _work(
        self, resolved: ResolvedBuild, report: Reporter, behaviour: str
    ) -> PublishedImage:
        if resolved.request.build_type is not BuildType.IMPORT_IMAGE:
            await report.phase(Phase.BUILDING, "building")
            if behaviour != "unremembered":  # as if killed before the record remembered it
                await report.remember(f"build/{resolved.tag}")
            self.building.set()
            for i in range(self.log_lines):
                await report.log(f"step {i + 1}/{self.log_lines}")
            if behaviour in ("slow", "unremembered"):
                await self.wait_for_release(resolved)
            if behaviour == "fail":
                raise BuildFailed("pip install failed: no matching distribution")
            await asyncio.sleep(self.step_delay)
        if behaviour == "bad-phase":
            await report.phase(Phase.SUCCESS, "too early")
        await report.phase(Phase.IMPORTING, "importing")
        await asyncio.sleep(self.step_delay)
        await report.phase(Phase.VALIDATING, "validating")
        await asyncio.sleep(self.step_delay)
        image = PublishedImage(
            resolved.image,
            f"registry/{resolved.image}",
            "3.11.7",
            tuple(Package(p.split("==")[0], p.split("==")[1]) for p in resolved.lock),
        )
        self.published[image.image] = image
        return image

    async def reattach(
        self, resolved: ResolvedBuild, reference: str, report: Reporter
    ) -> PublishedImage:
        if not reference:  # killed before remembering: nothing of it runs on here
            raise BuildFailed("The scripted build was killed before it remembered its work")
        await report.log(f"following {reference} again")
        if self.behaviour(resolved.request) == "slow":
            await self.wait_for_release(resolved)
        await report.phase(Phase.IMPORTING, "importing")
        await report.phase(Phase.VALIDATING, "validating")
        image = PublishedImage(resolved.image, f"registry/{resolved.image}", "3.11.7")
        self.published[image.image] = image
        return image

    async def wait_for_release(self, resolved: ResolvedBuild) -> None:
        """Where a ``slow`` build waits (a subclass in another process waits otherwise)."""
        await self.release.wait()

    async def discard(
        self, resolved: ResolvedBuild | None, reference: str, reason: str = ""
    ) -> None:
        self.discarded.append(reference)

    async def sweep(self, following: Sequence[ResolvedBuild]) -> list[str]:
        self.swept.append(sorted(r.image for r in following))
        return []


class NoReattachBackend(ScriptedBackend):
    kind: ClassVar[str] = "scripted-local"
    can_reattach: ClassVar[bool] = False
