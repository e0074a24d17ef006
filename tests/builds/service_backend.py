"""The scripted backend for a build service running in its own process (under a real hub).

The test and the service share a directory: the backend appends what it resolved and
started to ``events.jsonl`` there (so a test can prove that nothing ran for a refused
request), and a ``slow`` build waits until the file ``release-<image name>`` appears.
Configure it as ``--PlatformService.backend_class=tests.builds.service_backend.RecordingBackend
--RecordingBackend.record_dir=DIR`` (the repository root on ``PYTHONPATH``).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import ClassVar

from traitlets import Unicode

from jupyterhub_ov.builds.backends.base import PublishedImage, Reporter
from jupyterhub_ov.builds.model.spec import BuildRequest, ResolvedBuild

from .scripted import ScriptedBackend

POLL = 0.05


class RecordingBackend(ScriptedBackend):
    kind: ClassVar[str] = "recording"

    record_dir = Unicode(help="Directory shared with the test.").tag(config=True)

    def _record(self, what: str, image: str) -> None:
        with open(Path(self.record_dir) / "events.jsonl", "a") as f:
            f.write(json.dumps({"event": what, "image": image}) + "\n")

    async def resolve(self, request: BuildRequest, report: Reporter) -> ResolvedBuild:
        self._record("resolve", request.name)
        return await super().resolve(request, report)

    async def build(self, resolved: ResolvedBuild, report: Reporter) -> PublishedImage:
        self._record("build", resolved.image)
        try:
            return await super().build(resolved, report)
        except asyncio.CancelledError:
            self._record("cancelled", resolved.image)
            raise

    async def reattach(
        self, resolved: ResolvedBuild, reference: str, report: Reporter
    ) -> PublishedImage:
        self._record("reattach", resolved.image)
        return await super().reattach(resolved, reference, report)

    async def wait_for_release(self, resolved: ResolvedBuild) -> None:
        release = Path(self.record_dir) / f"release-{resolved.request.name}"
        # another process creates the file: there is no Event to wait on across processes
        while not release.exists():  # noqa: ASYNC110
            await asyncio.sleep(POLL)


def recorded(record_dir: Path) -> list[dict[str, str]]:
    path = record_dir / "events.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]
