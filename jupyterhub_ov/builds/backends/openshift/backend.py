"""The OpenShift build backend: notebook images built, imported and validated in the cluster.

Resolving happens in the service (the package lock with uv, the commit with ``git
ls-remote``), so a cluster build is reproducible and its tag names its content. Then:

- package list: a BuildConfig with the Docker strategy builds an inline Dockerfile, ``FROM``
  the builder image for the Python version, ``pip install --no-deps`` of exactly the lock (no
  repository needed, nothing resolved again in the cluster);
- git repository: a BuildConfig with the Source (s2i) strategy, the builder image on the
  resolved commit — the ODH notebook images are s2i builders;
- import: the image is imported into a staging ImageStream (OpenShift pins it to a digest).

Builds start through ``instantiate`` (a retry reruns the same recipe, a running build of it
is joined) and are followed by watch, their log streamed live. Every image is then validated
by a pod running `imagecheck`; only a validated image gets its tag in the notebook stream's
``spec.tags`` — imports tagged from the validated digest — with ODH's software annotations.

Stream phase (``opendatahub.io/notebook-image-phase``) during a build: ``Validating`` while
the stream has no validated tag, ``Succeeded`` once it has one; a rebuild (a new tag of an
image already offered) keeps ``Succeeded``, so users keep the old tags while the new one is
built and validated (unvalidated tags never reach ``spec.tags``, so they cannot be offered).
A failure sets ``Failed`` only if no validated tag remains; its messages always say why.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from kubernetes_asyncio import client
from traitlets import Dict, Float, List, TraitError, Unicode, validate

from jupyterhub_ov.builds import validation
from jupyterhub_ov.builds.model import phases, spec
from jupyterhub_ov.builds.model.phases import Phase
from jupyterhub_ov.builds.model.spec import BuildRequest, ResolvedBuild, RuntimeEnvironment
from jupyterhub_ov.builds.resolve import PackageIndexOptions, compile_lock, resolve_commit
from jupyterhub_ov.kube.client import KubeIO, connect
from jupyterhub_ov.netenv import describe

from ...errors import BuildFailed
from ...process import tool_env
from ..base import BuildBackend, PublishedImage, Reporter
from . import objects, status
from .guard import guarded
from .steps import Attempt, ImageSteps, StepSettings, Unreported

#: what Kubernetes accepts as an EnvVar name (a C identifier; dots and dashes are allowed
#: too, but no shell or tool could read them)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: suffix of the remembered reference once a cluster build has completed
VALIDATING_STAGE = "validating"
DEFAULT_BUILDERS = {
    "3.8": "quay.io/thoth-station/s2i-minimal-py38-notebook:v0.2.2",
    "3.9": "quay.io/opendatahub/notebooks:jupyter-minimal-ubi9-python-3.9",
    "3.11": "quay.io/opendatahub/notebooks:jupyter-minimal-ubi9-python-3.11",
}


class OpenShiftBuildBackend(PackageIndexOptions, BuildBackend):
    """The build service's OpenShift backend (`PlatformService.backend_class` `openshift`):
    builds, imports and validates notebook images in the cluster. The result is an
    ImageStream tag that `KubeImageCatalog` offers (set `namespace` to a namespace the catalog
    reads). Least privileges: `deploy/builder-rbac.yaml`.

    The lock and the commit are resolved in the service (the package index options below
    apply there: a cluster build cannot see local paths); the cluster builds exactly that.
    BuildConfigs, validation pods, the phases of the ImageStream, and following a build again
    after a restart: [docs/builder.md](builder.md#the-openshift-backend).
    """

    kind = "openshift"
    #: where the least privileges it needs are (named in a 403's message)
    rbac_file = "deploy/builder-rbac.yaml"
    in_cluster = True
    can_reattach = True
    builds_dockerfiles = True

    namespace = Unicode(
        "",
        config=True,
        help="""Namespace of the ImageStreams, BuildConfigs, Builds and validation pods
        (where the hub's KubeImageCatalog must look). Empty: the kubeconfig context's
        namespace, else the service account's.""",
    )
    kubeconfig = Unicode(
        "",
        config=True,
        help="""Kubeconfig file to use. Empty: $KUBECONFIG, else ~/.kube/config, else the
        in-cluster configuration (the pod's service account).""",
    )
    builder_images = Dict(
        Unicode(),
        default_value=DEFAULT_BUILDERS,
        config=True,
        help="""Builder image per runtime environment: key '<osName><osVersion>-<python>'
        (e.g. 'ubi9-3.11') or the Python version alone ('3.11'), value an image reference.
        Package lists are installed on it; repositories are built with it as the s2i
        builder. A request's spec.builderImage wins. The defaults are ODH/Thoth s2i minimal
        notebook images: check them against the images your cluster may pull.""",
    )
    default_python_version = Unicode(
        "3.11",
        config=True,
        help="""Python version (3.X) of requests that name none in
        runtimeEnvironment.pythonVersion: the lock is resolved for it and the builder image
        chosen by it.""",
    )
    git_schemes = List(
        Unicode(),
        default_value=["https"],
        config=True,
        help="""URL schemes git may use when the service resolves a repository's branch or
        tag to its commit (git ls-remote with GIT_ALLOW_PROTOCOL). Keep it to what
        PlatformService.git_schemes allows for spec.repositoryUrl.""",
    )
    git_hosts = List(
        Unicode(),
        default_value=["github.com", "gitlab.com"],
        config=True,
        help="""Hosts a repository may come from, checked again before resolving (as
        PlatformService.git_hosts is for requests). Empty: any host.""",
    )
    validation_timeout = Float(
        600,
        config=True,
        help="""Seconds a validation pod may take, image pull included (also its
        activeDeadlineSeconds); afterwards the build fails.""",
    )
    server_start_timeout = Float(
        120,
        config=True,
        help="""Seconds the check in the validation pod waits for jupyterhub-singleuser,
        started in the new image, to answer.""",
    )
    validation_resources = Dict(
        default_value={
            "requests": {"cpu": "100m", "memory": "256Mi"},
            "limits": {"cpu": "1", "memory": "2Gi"},
        },
        config=True,
        help="""Resources of the validation pod's container, as in a pod spec:
        {"requests": {"cpu", "memory"}, "limits": {"cpu", "memory"}}.""",
    )
    import_timeout = Float(
        300,
        config=True,
        help="""Seconds an image import (or a build's pushed tag) may take to appear in the
        ImageStream's status.tags; afterwards the build fails.""",
    )
    api_timeout = Float(
        60,
        config=True,
        help="""Seconds one Kubernetes API call is retried on 429 (honouring Retry-After) and
        5xx answers before it fails.""",
    )
    http_proxy = Unicode(
        "",
        config=True,
        help="""Proxy for http:// URLs in the cluster's builds: git's clone of a repository
        (the BuildConfig's source.git.httpProxy) and HTTP_PROXY/http_proxy of the build's
        tools. Empty: none of ours (OpenShift's cluster-wide proxy, if any, still applies).""",
    )
    https_proxy = Unicode(
        "",
        config=True,
        help="""Proxy for https:// URLs in the cluster's builds (source.git.httpsProxy,
        HTTPS_PROXY/https_proxy). May hold credentials: it is stored in the BuildConfig and,
        with the Docker strategy, in the built image's environment.""",
    )
    no_proxy = Unicode(
        "",
        config=True,
        help="Hosts reached without the proxies in the cluster's builds (source.git.noProxy,"
        " NO_PROXY/no_proxy), comma-separated.",
    )
    build_env = Dict(
        Unicode(),
        config=True,
        help="""Further environment variables of the cluster's builds (the build strategy's
        env, e.g. PIP_CERT naming a CA bundle the builder image has); names must be
        environment variable names. They win over the proxy variables and the
        PIP_INDEX_URL / PIP_EXTRA_INDEX_URL derived from the other options. OpenShift puts
        the Docker strategy's env into the built image too.""",
    )

    @validate("build_env")
    def _valid_build_env(self, proposal: Any) -> dict[str, str]:
        bad = sorted(name for name in proposal["value"] if not _ENV_NAME.match(name))
        if bad:
            raise TraitError(
                f"OpenShiftBuildBackend.build_env: not environment variable names: {bad}"
            )
        return dict(proposal["value"])

    @property
    def build_network(self) -> objects.BuildNetwork:
        return objects.BuildNetwork(
            http_proxy=self.http_proxy,
            https_proxy=self.https_proxy,
            no_proxy=self.no_proxy,
            env=tuple(self.build_env.items()),
        )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._api: client.ApiClient | None = None
        self._steps: ImageSteps | None = None
        #: set by `stop`: builds cancelled from then on keep running in the cluster, for
        #: `reattach` after the restart (the service stopping is not the admin cancelling)
        self._detached = False

    @property
    def steps(self) -> ImageSteps:
        if self._steps is None:
            raise RuntimeError("OpenShiftBuildBackend.start() was not called")
        return self._steps

    @property
    def working_namespace(self) -> str:
        """The namespace it works in: `namespace`, or the one found at `start`."""
        return self.steps.kube.namespace

    async def start(self) -> None:
        self._api, namespace = await connect(self.kubeconfig, self.namespace)
        kube = KubeIO(self._api, namespace, timeout=self.api_timeout, log=self.log)
        settings = StepSettings(
            index=self.package_index,
            import_timeout=self.import_timeout,
            validation_timeout=self.validation_timeout,
            server_start_timeout=self.server_start_timeout,
            resources=dict(self.validation_resources),
            network=self.build_network,
        )
        self._steps = self.make_steps(kube, settings)
        self._detached = False
        self.log.info("%s build backend working in namespace %s", self.kind, namespace)

    def make_steps(self, kube: KubeIO, settings: StepSettings) -> ImageSteps:
        """The cluster steps of a build (a backend with another build engine makes its own)."""
        return ImageSteps(kube, settings, self.log)

    async def stop(self) -> None:
        self._detached = True
        if self._api is not None:
            await self._api.close()

    # -- resolving -------------------------------------------------------------------------

    def builder_for(self, runtime: RuntimeEnvironment | None, python: str) -> str:
        """The configured builder image: for the OS and Python version, or the Python alone."""
        keys = [python]
        if runtime is not None and runtime.os_name:
            keys.insert(0, f"{runtime.os_name}{runtime.os_version}-{python}")
        for key in keys:
            if self.builder_images.get(key):
                return str(self.builder_images[key])
        configured = ", ".join(sorted(self.builder_images)) or "none"
        raise BuildFailed(f"No builder image is configured for {keys[0]} (only for {configured})")

    async def resolve(self, request: BuildRequest, report: Reporter) -> ResolvedBuild:
        if request.build_type == spec.BuildType.IMPORT_IMAGE:
            return ResolvedBuild(request, source=request.from_image)
        if request.build_type == spec.BuildType.PACKAGE_LIST:
            runtime = request.runtime_environment
            python = (runtime.python_version if runtime else "") or self.default_python_version
            base = request.builder_image or self.builder_for(runtime, python)
            await report.log(f"Locking the packages for Python {python}; builder image {base}")
            env = tool_env()  # the service's network settings, not its JupyterHub token
            await report.log(describe(env))  # names only: a proxy URL may hold a password
            lock = await compile_lock(
                request.package_versions,
                python_version=python,
                index=self.package_index,
                on_line=report.log,
                env=env,
                work_dir=self.work_dir,
            )
            return ResolvedBuild(request, lock=lock, base=base, python_version=python)
        schemes, hosts = tuple(self.git_schemes), tuple(self.git_hosts)
        policy = spec.SpecPolicy(git_schemes=schemes, git_hosts=hosts)
        problem = spec.git_url_problem(request.repository_url, policy)
        if problem:
            raise BuildFailed(problem)
        if request.package_versions:
            raise BuildFailed("Packages cannot be added to a repository build in the cluster")
        commit = await resolve_commit(
            request.repository_url, request.git_ref, schemes=schemes, on_line=report.log
        )
        await report.log(f"{request.repository_url} {request.git_ref or 'HEAD'} is {commit}")
        if request.strategy == spec.DOCKERFILE:  # the Dockerfile names its own base
            return ResolvedBuild(request, commit=commit)
        python = "" if request.builder_image else self.default_python_version
        base = request.builder_image or self.builder_for(None, python)
        return ResolvedBuild(request, commit=commit, base=base, python_version=python)

    async def find(self, resolved: ResolvedBuild) -> PublishedImage | None:
        stream = await self.steps.kube.get(objects.STREAMS, resolved.request.name)
        return status.published_image(stream, resolved.tag) if stream else None

    # -- building --------------------------------------------------------------------------

    async def build(self, resolved: ResolvedBuild, report: Reporter) -> PublishedImage:
        attempt = Attempt(resolved, report)
        return await self._guarded(attempt, lambda: self._build(attempt))

    async def reattach(
        self, resolved: ResolvedBuild, reference: str, report: Reporter
    ) -> PublishedImage:
        """Follow the remembered cluster Build (``<build>`` or ``<build>/validating``) on."""
        name, _, stage = reference.partition("/")
        attempt = Attempt(resolved, report, build=name)

        async def resume() -> PublishedImage:
            await self.steps.ensure_stream(attempt)
            if not name:  # killed after starting the cluster build, before remembering it
                attempt.build = await self.steps.started_build(resolved)
                if not attempt.build:
                    raise BuildFailed(phases.interrupted_message(Phase.BUILDING))
                await report.remember(attempt.build)
            elif not await self.steps.build_exists(name):
                raise BuildFailed(f"The cluster build {name} no longer exists; retry the build.")
            await report.log(f"Reattached to the cluster build {attempt.build}")
            return await self._after_build(attempt, validating=stage == VALIDATING_STAGE)

        return await self._guarded(attempt, resume)

    async def discard(
        self, resolved: ResolvedBuild | None, reference: str, reason: str = ""
    ) -> None:
        """After a restart, a build that cannot be followed again (an import, or a build
        killed before its cluster Build was remembered): undo what it half-made, as for a
        failure — the staging stream, the validation pod, the unvalidated tag — and mark the
        stream with why, so it does not stay ``Validating`` with nothing validating it."""
        if resolved is None:
            return
        attempt = Attempt(resolved, Unreported(), build=reference.partition("/")[0])
        stream = await self.steps.kube.get(objects.STREAMS, resolved.request.name)
        attempt.owns_stream = stream is not None and not status.owner_problem(stream)
        reason = reason or "The build service restarted during this build; the work was lost."
        await self.steps.clean_up(attempt, validation.failure_messages(resolved.tag, reason))

    async def sweep(self, following: Sequence[ResolvedBuild]) -> list[str]:
        """Cancel the cluster builds of ours that no build follows (started just before the
        service was killed, by a build whose record never remembered them)."""
        keep = {objects.instance_name(r) for r in following}
        stray = [
            name for name, instance in await self.steps.working_builds() if instance not in keep
        ]
        for name in stray:
            await self.steps.cancel_build(name)
        return stray

    async def _build(self, attempt: Attempt) -> PublishedImage:
        resolved, report, steps = attempt.resolved, attempt.report, self.steps
        await steps.ensure_stream(attempt)
        if resolved.request.build_type != spec.BuildType.IMPORT_IMAGE:
            await report.phase(Phase.BUILDING, f"Building {resolved.image} in the cluster")
            attempt.build = await steps.start_build(attempt)
            return await self._after_build(attempt, validating=False)
        await report.phase(Phase.IMPORTING, f"Importing {resolved.source}")
        pinned = await steps.stage_import(attempt)
        await report.phase(Phase.VALIDATING, f"Validating {pinned}")
        check = await steps.validate(attempt, pinned)
        return await steps.publish(attempt, check, pinned=pinned)

    async def _after_build(self, attempt: Attempt, *, validating: bool) -> PublishedImage:
        """From a started cluster Build to the published image (`build` and `reattach`)."""
        resolved, report, name, steps = attempt.resolved, attempt.report, attempt.build, self.steps
        if validating:  # the build had completed before the restart
            digest = await steps.finished_digest(name)
        else:
            digest = await steps.follow_build(attempt)
            await report.phase(Phase.IMPORTING, f"Waiting for {resolved.image} in the registry")
        reference = await steps.pushed(attempt, digest)
        if not validating:
            await report.phase(Phase.VALIDATING, f"Validating {reference}")
            await report.remember(f"{name}/{VALIDATING_STAGE}")
        check = await steps.validate(attempt, reference)
        return await steps.publish(attempt, check)

    async def _guarded(
        self, attempt: Attempt, work: Callable[[], Awaitable[PublishedImage]]
    ) -> PublishedImage:
        return await guarded(
            self.steps, attempt, work, detached=lambda: self._detached, rbac_file=self.rbac_file
        )
