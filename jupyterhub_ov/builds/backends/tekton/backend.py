"""The Tekton build backend: the OpenShift backend with PipelineRuns instead of BuildConfigs.

Everything but the build itself is the OpenShift backend's (`OpenShiftBuildBackend`):
resolving in the service, the notebook ImageStream and its ODH annotations and phases,
ImageStream imports, the validation pod, publishing the validated tag, following a build
again after a restart, and undoing a failed or cancelled one. A package list or repository
is built by the PipelineRun of `manifests.pipeline_run`, which pushes into the notebook
stream's repository of the internal registry; `steps.TektonSteps` follows it.
"""

from __future__ import annotations

from traitlets import Bool, Unicode

from jupyterhub_ov.kube.client import KubeIO

from ..openshift.backend import OpenShiftBuildBackend
from ..openshift.steps import ImageSteps, StepSettings
from .manifests import RunSettings, TektonImages
from .steps import TektonSteps


class TektonBuildBackend(OpenShiftBuildBackend):
    """The build service's Tekton backend (`PlatformService.backend_class` `tekton`): builds
    notebook images with Tekton PipelineRuns (OpenShift Pipelines), imports and validates
    them in the cluster like the `openshift` backend, whose options it has too. The result
    is an ImageStream tag that `KubeImageCatalog` offers. Least privileges:
    `deploy/builder-tekton-rbac.yaml`. What it creates:
    [docs/builder.md](builder.md#the-tekton-backend).
    """

    kind = "tekton"
    rbac_file = "deploy/builder-tekton-rbac.yaml"

    buildah_image = Unicode(
        "quay.io/buildah/stable:v1.37",
        config=True,
        help="""Image of the steps that write the Dockerfile, build the image and push it
        (buildah with the vfs storage driver and chroot isolation, running as a non-root
        user without privileges).""",
    )
    git_image = Unicode(
        "docker.io/alpine/git:2.45.2",
        config=True,
        help="Image of the step that clones a repository and checks out the resolved commit"
        " (needs git and sh).",
    )
    s2i_image = Unicode(
        "quay.io/openshift-pipeline/s2i:v1.15.0",
        config=True,
        help="""Image of the step that turns a repository and the s2i builder image into a
        Dockerfile (s2i build --as-dockerfile), for repositories built with s2i.""",
    )
    service_account = Unicode(
        "pipeline",
        config=True,
        help="""Service account the PipelineRun's pods run as (taskRunTemplate); it must be
        allowed to push to the namespace's ImageStreams (OpenShift Pipelines makes
        'pipeline' with that right). Empty: Tekton's default.""",
    )
    pipeline_timeout = Unicode(
        "1h0m0s",
        config=True,
        help="The PipelineRun's timeouts.pipeline (a Go duration): Tekton fails it afterwards.",
    )
    tls_verify = Bool(
        True,
        config=True,
        help="""Whether buildah checks the registries' TLS certificates when it pulls the
        builder image and pushes to the internal registry.""",
    )

    @property
    def run_settings(self) -> RunSettings:
        images = TektonImages(buildah=self.buildah_image, git=self.git_image, s2i=self.s2i_image)
        return RunSettings(
            images=images,
            index=self.package_index,
            network=self.build_network,
            service_account=self.service_account,
            timeout=self.pipeline_timeout,
            tls_verify=self.tls_verify,
        )

    def make_steps(self, kube: KubeIO, settings: StepSettings) -> ImageSteps:
        return TektonSteps(kube, settings, self.run_settings, self.log)
