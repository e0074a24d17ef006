"""The one interface every build backend implements (BinderHub's builder abstraction).

The build manager (``builder.manager``) drives a backend through a build:

1. ``resolve(request, report)`` pins everything that decides the image's content (the
   package lock, the commit, the import source) — phase Resolving, or Preparing for imports;
2. ``find(resolved)``: an image already published under ``resolved.tag`` means no build;
3. ``build(resolved, report)`` does the rest and reports ``Building`` (not for imports),
   ``Importing`` and ``Validating`` through ``report.phase`` in that order, streams log lines
   through ``report.log``, and returns the published, validated image;
4. ``reattach(resolved, reference, report)`` after a service restart, for a build whose
   work outlived the service (a cluster Build); backends that cannot raise `BuildFailed`.
   An empty ``reference`` is a build killed in Building before it remembered one: the
   backend finds its work (the cluster Build it had just started) or raises `BuildFailed`;
5. ``sweep(following)`` once after a restart: the backend stops its work that no build
   follows (e.g. a cluster Build of a build whose record never remembered it).

Cancelling is asyncio cancellation of the task running ``build``: the backend stops all of
its work (kills processes, cancels cluster builds), removes what it half-made, and lets
``CancelledError`` propagate. A cancellation whose message is `DETACH` is the service
stopping, not a cancel: a backend that can reattach leaves its cluster work running (the
next service start follows it again); others stop as for a cancel. `BuildFailed` carries a
message meant for the admin. After a restart, a build that cannot be followed again is
ended with Failure and ``discard`` removes what it left behind.

The manager owns the phase machine, the store, the concurrency limit and the timeout; a
backend only does the work. Success and Failure are the manager's to report.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from typing import ClassVar, Protocol

from traitlets import Unicode, default
from traitlets.config import LoggingConfigurable

from ..errors import BuildFailed
from ..model.phases import Phase
from ..model.published import Package, PublishedImage
from ..model.spec import BuildRequest, ResolvedBuild

#: the interface of a backend, with what its methods take and give
__all__ = [
    "DETACH",
    "BuildBackend",
    "BuildFailed",
    "Package",
    "PublishedImage",
    "Reporter",
    "detaching",
]

#: the cancellation message of a service stop (see the module docstring)
DETACH = "jupyterhub-ov build service stopping"


def detaching(error: asyncio.CancelledError) -> bool:
    """Whether this cancellation is the service stopping rather than a cancel."""
    return DETACH in error.args


class Reporter(Protocol):
    """What a backend tells the manager while it works (persisted and streamed live)."""

    async def phase(self, phase: Phase, message: str = "") -> None:
        """Enter ``phase`` (Building, Importing, Validating)."""

    async def log(self, line: str) -> None:
        """One line of build output (no trailing newline needed)."""

    async def remember(self, reference: str) -> None:
        """Persist what `reattach` needs after a restart (e.g. the cluster Build's name)."""


class BuildBackend(LoggingConfigurable):
    """What every build backend shares: the options of all of them (set one for all as
    `c.BuildBackend.<option>`, or per backend as `c.LocalBuildBackend.<option>`), and the
    interface the build manager drives (`jupyterhub_ov.builds.backends.base`)."""

    #: short name used in configuration and in build records ("local", "openshift", "tekton")
    kind: ClassVar[str] = ""
    #: whether it works in a Kubernetes/OpenShift cluster (`working_namespace`, `kubeconfig`):
    #: the features that reconcile cluster resources run only with such a backend
    in_cluster: ClassVar[bool] = False
    #: whether `reattach` can follow a build that outlived a service restart
    can_reattach: ClassVar[bool] = False
    #: what an ImportImage request's ``fromImage`` names for this backend: "image" (a
    #: container image reference) or "path" (a local environment directory); the service's
    #: `SpecPolicy.import_source` follows it
    import_source: ClassVar[str] = "image"
    #: whether a repository can be built from its own Dockerfile (`spec.DOCKERFILE`);
    #: backends that cannot build environments and take extra packages instead
    builds_dockerfiles: ClassVar[bool] = False

    work_dir = Unicode(
        config=True,
        help="""Directory of the builds' temporary files (a lock being resolved, a repository
        fetched, a validation's home), made if missing (mode 0700). When the service starts
        it removes what builds killed with an earlier service (SIGKILL, the OOM killer) left
        there: only names starting with jupyterhub-ov-, nothing else. Give every service its
        own. Default: jupyterhub-ov-work in the service's working directory (the shipped
        configurations start the service in its state directory).""",
    )

    @default("work_dir")
    def _default_work_dir(self) -> str:
        """jupyterhub-ov-work in the working directory."""
        return os.path.abspath("jupyterhub-ov-work")

    async def start(self) -> None:
        """Called once when the service starts (open clients, check tools)."""

    async def stop(self) -> None:
        """Called once when the service stops."""

    async def resolve(self, request: BuildRequest, report: Reporter) -> ResolvedBuild:
        raise NotImplementedError

    async def find(self, resolved: ResolvedBuild) -> PublishedImage | None:
        raise NotImplementedError

    async def build(self, resolved: ResolvedBuild, report: Reporter) -> PublishedImage:
        raise NotImplementedError

    async def reattach(
        self, resolved: ResolvedBuild, reference: str, report: Reporter
    ) -> PublishedImage:
        raise BuildFailed(f"The {self.kind} build backend cannot resume a build after a restart.")

    async def discard(
        self, resolved: ResolvedBuild | None, reference: str, reason: str = ""
    ) -> None:
        """Remove what a build interrupted by a restart left behind (default: nothing);
        ``reason`` is why it failed (what the record says), for what the backend shows."""

    async def sweep(self, following: Sequence[ResolvedBuild]) -> list[str]:
        """After a restart, once every record was resumed, followed or failed: stop the work
        of ours that no build follows any more (a cluster build started just before the
        service was killed, before its record remembered it), leaving that of the builds
        ``following``; what was stopped (default: nothing)."""
        return []
