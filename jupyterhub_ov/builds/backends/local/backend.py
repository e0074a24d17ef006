"""The local build backend: notebook images as layered Python environments in the catalog.

Every build is a directory ``<catalog_dir>/<name>--<tag>/`` that the local image catalog
(and so the spawner menu) reads. A package list or a repository becomes a *layer*: a uv venv
on the base environment's interpreter that sees the base's packages (JupyterHub, JupyterLab)
and holds only the user's (`builder.environments`). An import becomes an entry that only
references an existing environment. Either way the manifest is written with phase
``Validating`` (hidden from the menu), the environment is validated as BYON images are
(`builder.validate`), and the manifest is rewritten with phase ``Succeeded``. A failed or
cancelled build removes its directory: there are no half-made environments. A build killed
with the service leaves a directory carrying `MARKER` and no ``Succeeded`` manifest, hidden
from the menu; the next `start` removes it.

Requests name environments by absolute path only (``fromImage``, ``builderImage``): a
relative path is refused, never resolved against the service's working directory, and so
is an environment inside `refused_roots` (the hub's user work directories, the data
directory's private state), where anyone but the admin may have put it.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from typing import Any, ClassVar

from traitlets import Bool, Float, List, TraitError, Unicode, default, validate

from jupyterhub_ov.builds.model import spec
from jupyterhub_ov.builds.model.phases import Phase
from jupyterhub_ov.builds.resolve import (
    PackageIndexOptions,
    compile_lock,
    resolve_commit,
    uv_binary,
)
from jupyterhub_ov.images.local import LocalImageCatalog
from jupyterhub_ov.images.manifest import MANIFEST_FILE
from jupyterhub_ov.netenv import describe

from ...errors import BuildFailed
from ...model.published import Package, PublishedImage
from ...process import tool_env
from ..base import BuildBackend, Reporter
from . import pins
from .entries import (
    checked_environment,
    claim_entry,
    entry_manifest,
    is_leftover,
    published_image,
    remove_leftovers,
)
from .environments import (
    EnvironmentInfo,
    inspect_environment,
    remove_tree,
    write_manifest,
)
from .layers import LayerTools, make_layer
from .repository import read_requirements
from .validate import validate_environment


class LocalBuildBackend(PackageIndexOptions, BuildBackend):
    """The build service's local backend (`PlatformService.backend_class` `local`): builds
    notebook images as Python environments with uv into the local image catalog, one
    directory per build, `<catalog_dir>/<name>--<tag>/` (the tag is a hash of what was
    resolved: the locked packages, the commit, the base). The menu shows an image's builds as
    one image with several tags, newest first, once their validation succeeded. One service
    builds into a `catalog_dir`.

    Package lists and repositories become *layers* on a base environment, imports reference
    an existing environment, and every result is validated as BYON images are; how, and what
    a failed, cancelled or killed build leaves: [docs/builder.md](builder.md#the-local-backend).
    """

    kind: ClassVar[str] = "local"
    can_reattach: ClassVar[bool] = False
    import_source: ClassVar[str] = "path"

    catalog_dir = Unicode(
        config=True,
        help="""Directory the built environments go to, one sub-directory each
        (<name>--<tag>); made if missing. Default: LocalImageCatalog.catalog_dir, so the menu
        offers them. Sub-directories without the build marker (.jupyterhub-ov-build) are never
        touched. The backend does not start without one.""",
    )
    base_environment = Unicode(
        config=True,
        help="""The environment (a prefix with bin/python, jupyterhub and jupyterlab) every
        layer is built on, when a request names no spec.builderImage. Layers take JupyterHub
        and JupyterLab from it and see it live: upgrading it in place changes existing layers
        too. Default: the environment the build service runs in (sys.prefix).""",
    )
    git_schemes = List(
        Unicode(),
        default_value=["https"],
        config=True,
        help="""Protocols git may use to resolve and fetch a repository (its
        GIT_ALLOW_PROTOCOL: git refuses any other). Keep it to what
        PlatformService.git_schemes allows for spec.repositoryUrl.""",
    )
    allow_urls = Bool(
        False,
        config=True,
        help="""Whether a repository's requirements.txt may name direct URLs
        (pkg @ https://...), as PlatformService.allow_package_urls allows them in package
        lists. Off: a build whose requirements.txt has one fails, naming the line.""",
    )
    validation_timeout = Float(
        300,
        config=True,
        help="""Seconds the validation of a result may take (the check script, then starting
        a notebook server until it answers /api/status and serves /lab); afterwards the build
        fails.""",
    )
    uv = Unicode(
        config=True,
        help="""The uv executable that locks (uv pip compile) and installs (uv pip install)
        every build. Default: the one installed with jupyterhub-ov (the uv package).""",
    )
    refused_roots = List(
        Unicode(),
        config=True,
        help="""Directories no environment named by a request (spec.fromImage,
        spec.builderImage) may lie in, nor its interpreter: e.g. the hub's user work
        directories and the data directory with the hub's database and secrets. Absolute
        paths, compared after resolving symlinks, for the environment and for its bin/python;
        catalog_dir is always allowed. The shipped config refuses its data directory.""",
    )

    @validate("refused_roots")
    def _absolute_roots(self, proposal: Any) -> list[str]:
        for root in proposal.value:
            if not os.path.isabs(root):
                raise TraitError(f"LocalBuildBackend.refused_roots: {root!r} is not absolute")
        return list(proposal.value)

    @default("catalog_dir")
    def _default_catalog_dir(self) -> str:
        """LocalImageCatalog.catalog_dir of the same configuration."""
        return str(LocalImageCatalog(config=self.config).catalog_dir)

    @default("base_environment")
    def _default_base(self) -> str:
        """The build service's own environment, sys.prefix."""
        return sys.prefix

    @default("uv")
    def _default_uv(self) -> str:
        """The uv installed with jupyterhub-ov."""
        return uv_binary()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._locks: dict[str, asyncio.Lock] = {}

    def entry_dir(self, resolved: spec.ResolvedBuild) -> str:
        """Where a build's environment (or, for an import, its manifest) lives."""
        if not self.catalog_dir:
            raise BuildFailed("LocalBuildBackend.catalog_dir is not set: nowhere to build")
        return os.path.join(self.catalog_dir, f"{resolved.request.name}--{resolved.tag}")

    async def start(self) -> None:
        """Make the catalog; remove what builds killed with an earlier service left there
        (one service builds into a catalog_dir: none of its builds runs yet)."""
        if not self.catalog_dir:
            raise BuildFailed("LocalBuildBackend.catalog_dir is not set: nowhere to build")
        await asyncio.to_thread(os.makedirs, self.catalog_dir, exist_ok=True)
        removed = await asyncio.to_thread(remove_leftovers, self.catalog_dir)
        if removed:
            self.log.warning(
                "Removed %d directories of builds that did not finish from %s: %s",
                len(removed),
                self.catalog_dir,
                ", ".join(removed),
            )

    async def discard(
        self, resolved: spec.ResolvedBuild | None, reference: str, reason: str = ""
    ) -> None:
        if resolved is not None and self.catalog_dir:
            directory = self.entry_dir(resolved)
            if await asyncio.to_thread(is_leftover, directory):
                await asyncio.to_thread(remove_tree, directory)

    def requested_environment(self, raw: str, what: str) -> str:
        """The real path of an environment a request names (blocking: run in a thread)."""
        return checked_environment(raw, what, allowed=self.catalog_dir, refused=self.refused_roots)

    # -- resolving -----------------------------------------------------------------------------

    async def resolve(self, request: spec.BuildRequest, report: Reporter) -> spec.ResolvedBuild:
        if request.build_type == spec.BuildType.IMPORT_IMAGE:
            source = await asyncio.to_thread(
                self.requested_environment, request.from_image, "spec.fromImage"
            )
            info = await inspect_environment(source)
            return spec.ResolvedBuild(request, source=source, python_version=info.minor)
        if request.strategy == spec.DOCKERFILE:
            raise BuildFailed("The local build backend cannot build a Dockerfile")
        base = await self._base(request)
        commit = ""
        if request.build_type == spec.BuildType.GIT_REPOSITORY:
            commit, requirements = await self._repository_requirements(request, report)
        else:
            requirements = request.package_versions
            wanted = (
                request.runtime_environment.python_version if request.runtime_environment else ""
            )
            problem = pins.python_mismatch(wanted, base.version)
            if problem:
                raise BuildFailed(problem)
        lock: tuple[str, ...] = ()
        if requirements:
            env = tool_env(UV_PYTHON=base.python)
            await report.log(describe(env))  # names only: a proxy URL may hold a password
            lock = await compile_lock(
                requirements,
                python_version=base.minor,
                index=self.package_index,
                on_line=report.log,
                constraints=pins.base_constraints(base.packages),
                uv=self.uv,
                env=env,
                work_dir=self.work_dir,
            )
        return spec.ResolvedBuild(
            request,
            lock=lock,
            commit=commit,
            base=pins.base_identity(base.prefix, base.version, base.packages),
            python_version=base.minor,
        )

    async def _base(self, request: spec.BuildRequest) -> EnvironmentInfo:
        """The base environment a request builds on, checked to be able to serve notebooks."""
        prefix = request.builder_image or self.base_environment
        if request.builder_image:
            real = await asyncio.to_thread(
                self.requested_environment, request.builder_image, "spec.builderImage"
            )
        else:  # the admin's own configuration
            real = await asyncio.to_thread(os.path.realpath, prefix)
        base = await inspect_environment(real)
        if base.missing:
            raise BuildFailed(
                f"The base environment {prefix} cannot serve notebooks:"
                f" {' and '.join(base.missing)} not installed"
            )
        return base

    async def _repository_requirements(
        self, request: spec.BuildRequest, report: Reporter
    ) -> tuple[str, tuple[str, ...]]:
        url = request.repository_url
        commit = await resolve_commit(
            url, request.git_ref, schemes=self.git_schemes, on_line=report.log
        )
        await report.log(f"{url} {request.git_ref or 'HEAD'} is commit {commit}")
        text = await read_requirements(
            url, commit, schemes=self.git_schemes, on_line=report.log, work_dir=self.work_dir
        )
        extra = request.package_versions  # what the service adds (the OpenVINO image)
        if text is None:
            await report.log("The repository has no requirements.txt: no packages to add")
            return commit, extra
        policy = spec.SpecPolicy(allow_urls=self.allow_urls)
        requirements, problems = pins.requirements_from_file(text, policy)
        if problems:
            raise BuildFailed(
                f"The repository's requirements.txt cannot be used: {'; '.join(problems)}"
            )
        return commit, (*extra, *requirements)

    # -- finding -------------------------------------------------------------------------------

    async def find(self, resolved: spec.ResolvedBuild) -> PublishedImage | None:
        directory = self.entry_dir(resolved)
        return await asyncio.to_thread(published_image, directory, resolved)

    # -- building ------------------------------------------------------------------------------

    async def build(self, resolved: spec.ResolvedBuild, report: Reporter) -> PublishedImage:
        directory = self.entry_dir(resolved)
        lock = self._locks.setdefault(directory, asyncio.Lock())
        async with lock:  # one build per directory at a time, however they were requested
            found = await self.find(resolved)
            if found is not None:
                await report.log(f"{resolved.image} was published meanwhile: {found.reference}")
                return found
            if await asyncio.to_thread(claim_entry, directory):
                await report.log(f"Removed {directory}, left by a build that did not finish")
            try:
                if resolved.request.build_type == spec.BuildType.IMPORT_IMAGE:
                    return await self._import(resolved, directory, report)
                return await self._layer(resolved, directory, report)
            except BaseException as e:
                await asyncio.to_thread(remove_tree, directory)
                if isinstance(e, OSError):
                    raise BuildFailed(f"The build could not write {directory}: {e}") from None
                raise

    async def _layer(
        self, resolved: spec.ResolvedBuild, directory: str, report: Reporter
    ) -> PublishedImage:
        await report.phase(Phase.BUILDING, f"Creating the environment {directory}")
        base = await self._base(resolved.request)
        if pins.base_identity(base.prefix, base.version, base.packages) != resolved.base:
            raise BuildFailed(
                f"The base environment {base.prefix} changed since the build was resolved;"
                " retry the build."
            )
        tools = LayerTools(
            uv=self.uv,
            index=self.package_index,
            git_schemes=tuple(self.git_schemes),
            work_dir=self.work_dir,
        )
        notebooks = await make_layer(resolved, base, directory, tools, report)
        await report.phase(Phase.IMPORTING, "Adding the environment to the catalog, hidden")
        manifest = entry_manifest(resolved, base.version, notebooks=notebooks)
        await asyncio.to_thread(write_manifest, directory, manifest, MANIFEST_FILE)
        return await self._publish(resolved, directory, directory, manifest, report)

    async def _import(
        self, resolved: spec.ResolvedBuild, directory: str, report: Reporter
    ) -> PublishedImage:
        await report.phase(Phase.IMPORTING, f"Adding {resolved.source} to the catalog, hidden")
        manifest = entry_manifest(resolved, resolved.python_version, environment=resolved.source)
        await asyncio.to_thread(write_manifest, directory, manifest, MANIFEST_FILE)
        return await self._publish(resolved, directory, resolved.source, manifest, report)

    async def _publish(
        self,
        resolved: spec.ResolvedBuild,
        directory: str,
        environment: str,
        manifest: Mapping[str, Any],
        report: Reporter,
    ) -> PublishedImage:
        """Validate ``environment``, then make the entry visible (phase Succeeded)."""
        await report.phase(Phase.VALIDATING, f"Validating {environment}")
        result = await validate_environment(
            environment,
            timeout=self.validation_timeout,
            on_line=report.log,
            work_dir=self.work_dir,
        )
        packages = [{"name": n, "version": v} for n, v in result.packages]
        final = {
            **manifest,
            "phase": "Succeeded",
            "python_version": result.python_version,
            "packages": packages,
        }
        await asyncio.to_thread(write_manifest, directory, final, MANIFEST_FILE)
        return PublishedImage(
            image=resolved.image,
            reference=environment,
            python_version=result.python_version,
            packages=tuple(Package(n, v) for n, v in result.packages),
        )
