"""Pure: the Tekton PipelineRun of one image build, as a plain dict (tested against literals).

A build of ``<name>:<tag>`` is the PipelineRun ``<name>-<tag>`` (`objects.instance_name`,
labelled like the BuildConfig of the OpenShift backend) with its whole pipeline embedded
(``pipelineSpec`` with one ``taskSpec``): nothing has to be installed in the cluster but
Tekton. The task's steps, in a workspace ``data`` (an emptyDir):

- package list: ``dockerfile`` writes the inline Dockerfile (the OpenShift backend's, FROM
  the builder image, ``pip install --no-deps`` of the lock); ``build`` and ``push`` run
  buildah on it;
- git repository: ``git-clone`` checks out the resolved commit; for s2i, ``generate`` makes
  the Dockerfile with ``s2i build --as-dockerfile`` (what Tekton's s2i task does); ``build``
  and ``push`` as above, with the repository's own Dockerfile for that strategy.

``push`` sends the image to ``outputImage``, the internal registry's repository of the
notebook ImageStream, so the stream's ``status.tags`` gets the tag (as for a Build); its
digest is the task's and the pipeline's result ``IMAGE_DIGEST``. Parameters follow the
meteor-operator's CNBi pipelines where they have the same meaning (``baseImage``, ``url``,
``ref``, ``name``, ``description``, ``creator``). Imports are not built: they are the
OpenShift backend's ImageStream imports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jupyterhub_ov.builds.model import spec
from jupyterhub_ov.builds.model.index import PackageIndex
from jupyterhub_ov.builds.model.spec import ResolvedBuild
from jupyterhub_ov.images import model

from ..openshift import objects

TEKTON_GROUP, TEKTON_VERSION = "tekton.dev", "v1"
PIPELINE_RUNS = (TEKTON_GROUP, TEKTON_VERSION, "pipelineruns")
TASK_RUNS = (TEKTON_GROUP, TEKTON_VERSION, "taskruns")
TASK = "build"
WORKSPACE = "data"
DIGEST_RESULT, URL_RESULT = "IMAGE_DIGEST", "IMAGE_URL"
#: the internal registry OpenShift pushes ImageStream images to
INTERNAL_REGISTRY = "image-registry.openshift-image-registry.svc:5000"
#: what ``spec.status`` says to stop a PipelineRun (its running tasks are cancelled)
CANCELLED = "Cancelled"

RESTRICTED = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}
_SOURCE = f"$(workspaces.{WORKSPACE}.path)"
_BUILDAH = "buildah --storage-driver=vfs"


@dataclass(frozen=True)
class TektonImages:
    """The step images (the backend's configuration)."""

    buildah: str
    git: str
    s2i: str


@dataclass(frozen=True)
class RunSettings:
    """What the backend's configuration puts into every PipelineRun."""

    images: TektonImages
    index: PackageIndex
    network: objects.BuildNetwork = objects.BuildNetwork()
    service_account: str = ""
    timeout: str = "1h0m0s"
    tls_verify: bool = True


def output_image(namespace: str, resolved: ResolvedBuild) -> str:
    """Where ``push`` sends the image: the notebook stream's repository, the build's tag."""
    return f"{INTERNAL_REGISTRY}/{namespace}/{resolved.image}"


def _params(resolved: ResolvedBuild, namespace: str, index: PackageIndex) -> dict[str, str]:
    request = resolved.request
    values = {
        "name": request.name,
        "description": request.description,
        "creator": request.creator,
        "outputImage": output_image(namespace, resolved),
    }
    if request.build_type == spec.BuildType.PACKAGE_LIST:
        dockerfile = objects.dockerfile(resolved.base, resolved.lock, index)
        return {**values, "baseImage": resolved.base, "dockerfile": dockerfile}
    values.update(url=request.repository_url, ref=resolved.commit)
    if request.strategy != spec.DOCKERFILE:
        values["baseImage"] = resolved.base
    return values


def _step(name: str, image: str, script: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": image, **extra, "script": script}


def _build_and_push(images: TektonImages, dockerfile: str, context: str, tls: bool) -> list[Any]:
    verify = f"--tls-verify={'true' if tls else 'false'}"
    build = (
        f'{_BUILDAH} bud --isolation=chroot --format=oci --no-cache {verify} -f "{dockerfile}"'
        f' -t "$(params.outputImage)" "{context}"\n'
    )
    push = (
        f"{_BUILDAH} push {verify}"
        f' --digestfile "$(results.{DIGEST_RESULT}.path)"'
        f' "$(params.outputImage)" "docker://$(params.outputImage)"\n'
        f'printf %s "$(params.outputImage)" > "$(results.{URL_RESULT}.path)"\n'
    )
    return [
        _step("build", images.buildah, "set -e\n" + build),
        _step("push", images.buildah, "set -e\n" + push),
    ]


def steps(resolved: ResolvedBuild, images: TektonImages, *, tls_verify: bool) -> list[Any]:
    """The task's steps for ``resolved`` (see the module docstring)."""
    request = resolved.request
    if request.build_type == spec.BuildType.PACKAGE_LIST:
        write = _step(
            "dockerfile",
            images.buildah,
            f'set -e\nprintf "%s" "$DOCKERFILE" > "{_SOURCE}/Dockerfile"\n',
            env=[{"name": "DOCKERFILE", "value": "$(params.dockerfile)"}],
        )
        return [write, *_build_and_push(images, f"{_SOURCE}/Dockerfile", _SOURCE, tls_verify)]
    clone = _step(
        "git-clone",
        images.git,
        f'set -e\ngit clone --no-checkout "$(params.url)" "{_SOURCE}/source"\n'
        f'cd "{_SOURCE}/source"\ngit checkout --quiet "$(params.ref)"\n'
        'echo "Checked out $(params.ref)"\n',
    )
    if request.strategy == spec.DOCKERFILE:
        source = f"{_SOURCE}/source"
        return [clone, *_build_and_push(images, f"{source}/Dockerfile", source, tls_verify)]
    generate = _step(
        "generate",
        images.s2i,
        f'set -e\ns2i build "{_SOURCE}/source" "$(params.baseImage)"'
        f' --as-dockerfile "{_SOURCE}/gen/Dockerfile"\n',
    )
    gen = f"{_SOURCE}/gen"
    return [clone, generate, *_build_and_push(images, f"{gen}/Dockerfile", gen, tls_verify)]


def _task_spec(resolved: ResolvedBuild, names: list[str], settings: RunSettings) -> dict[str, Any]:
    env = objects.build_env(settings.network, settings.index)
    template: dict[str, Any] = {"securityContext": dict(RESTRICTED)}
    if env:
        template["env"] = env
    return {
        "params": [{"name": n, "type": "string"} for n in names],
        "workspaces": [{"name": WORKSPACE}],
        "results": [{"name": DIGEST_RESULT}, {"name": URL_RESULT}],
        "stepTemplate": template,
        "steps": steps(resolved, settings.images, tls_verify=settings.tls_verify),
    }


def pipeline_run(
    resolved: ResolvedBuild, *, namespace: str, settings: RunSettings
) -> dict[str, Any]:
    """The PipelineRun that builds ``resolved`` into the notebook stream's repository."""
    values = _params(resolved, namespace, settings.index)
    names = list(values)
    task = {
        "name": TASK,
        "params": [{"name": n, "value": f"$(params.{n})"} for n in names],
        "workspaces": [{"name": WORKSPACE, "workspace": WORKSPACE}],
        "taskSpec": _task_spec(resolved, names, settings),
    }
    results = [
        {"name": r, "type": "string", "value": f"$(tasks.{TASK}.results.{r})"}
        for r in (DIGEST_RESULT, URL_RESULT)
    ]
    run_spec: dict[str, Any] = {
        "pipelineSpec": {
            "params": [{"name": n, "type": "string"} for n in names],
            "workspaces": [{"name": WORKSPACE}],
            "tasks": [task],
            "results": results,
        },
        "params": [{"name": n, "value": v} for n, v in values.items()],
        "workspaces": [{"name": WORKSPACE, "emptyDir": {}}],
        "timeouts": {"pipeline": settings.timeout},
    }
    if settings.service_account:
        run_spec["taskRunTemplate"] = {"serviceAccountName": settings.service_account}
    return {
        "apiVersion": f"{TEKTON_GROUP}/{TEKTON_VERSION}",
        "kind": "PipelineRun",
        "metadata": {
            "name": objects.instance_name(resolved),
            "labels": objects.labels(resolved, "image-build"),
            "annotations": {model.ANN_NAME: resolved.request.display_name},
        },
        "spec": run_spec,
    }


def cancel(run: Mapping[str, Any]) -> dict[str, Any]:
    """``run`` with ``spec.status: Cancelled`` (what ``tkn pipelinerun cancel`` sets)."""
    return {**run, "spec": {**(run.get("spec") or {}), "status": CANCELLED}}
