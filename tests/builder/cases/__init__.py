"""Backends the contract suite runs against, one module each (``cases/<kind>.py``).

Each module has an async context manager ``case(request)`` (``request`` is pytest's, so a
module can ask for the fixtures its backend needs) yielding a `BackendCase`.
"""

from __future__ import annotations

from typing import Protocol

from jupyterhub_ov.builder import spec
from jupyterhub_ov.builder.backends.base import BuildBackend
from jupyterhub_ov.images.model import NotebookImage

BACKENDS = ["local"]


class BackendCase(Protocol):
    backend: BuildBackend
    #: a log line (regex) that shows the backend's work running (e.g. a process, a cluster
    #: build): the cancel test cancels there
    busy_marker: str

    def request(self, build_type: str) -> spec.BuildRequest:
        """A valid request of that build type that succeeds."""

    def failing_request(self) -> spec.BuildRequest:
        """A request that resolves but whose build fails (after Building started)."""

    def unresolvable_request(self) -> spec.BuildRequest:
        """A package list naming a package that does not exist."""

    async def catalog_images(self) -> list[NotebookImage]:
        """The images the catalog the spawner reads offers now."""

    async def leftovers(self) -> list[str]:
        """What builds left behind besides published images (must be empty after a failure)."""

    async def running_work(self) -> list[str]:
        """The backend's work still going on (processes, cluster builds)."""
