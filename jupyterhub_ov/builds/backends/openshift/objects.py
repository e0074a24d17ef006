"""Pure: the OpenShift objects of one image build, as plain dicts (tested against literals).

A build of ``<name>:<tag>`` (a `ResolvedBuild`) uses:

- the ImageStream ``<name>``: the notebook image (ODH's label and annotations); a tag is added
  to its ``spec.tags`` only once validated, so the menu never offers an unvalidated image;
- a BuildConfig ``<name>-<tag>`` for package lists and repositories, whose output is the
  ImageStreamTag ``<name>:<tag>`` (a push lands in ``status.tags`` only); builds are started by
  ``instantiate`` with a `build_request`, so a retry runs the same recipe again;
- an ImageStream ``<name>-<tag>`` for imports, where the import is staged while the image is
  validated: neither labelled nor named ``*-notebook``, so no menu ever shows it;
- a Pod ``<name>-<tag>-validate`` running the image check (`validation`).

Names fit: ``<name>`` has at most 40 characters (`spec.NAME_MAX`), the tag 12.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jupyterhub_ov.builds.model import spec
from jupyterhub_ov.builds.model.index import PackageIndex
from jupyterhub_ov.builds.model.spec import BuildRequest, ResolvedBuild
from jupyterhub_ov.images import model

CREATED_BY = "jupyterhub-ov-builder"
PART_OF = "jupyterhub-ov"
LABEL_COMPONENT = "app.kubernetes.io/component"
LABEL_INSTANCE = "app.kubernetes.io/instance"
LABEL_PART_OF = "app.kubernetes.io/part-of"

IMAGE_GROUP, BUILD_GROUP, VERSION = "image.openshift.io", "build.openshift.io", "v1"
#: (group, version, plural) of the custom objects used
STREAMS = (IMAGE_GROUP, VERSION, "imagestreams")
BUILD_CONFIGS = (BUILD_GROUP, VERSION, "buildconfigs")
BUILDS = (BUILD_GROUP, VERSION, "builds")

#: ODH's phases of a custom image (annotation opendatahub.io/notebook-image-phase)
VALIDATING, SUCCEEDED, FAILED = "Validating", "Succeeded", "Failed"
TRIGGER_MESSAGE = "Started by the jupyterhub-ov build service"


def instance_name(resolved: ResolvedBuild) -> str:
    """``<name>-<tag>``: the BuildConfig of a build, the staging stream of an import."""
    return f"{resolved.request.name}-{resolved.tag}"


def validation_pod_name(resolved: ResolvedBuild) -> str:
    return f"{instance_name(resolved)}-validate"


def labels(resolved: ResolvedBuild, component: str) -> dict[str, str]:
    """What every object of one build carries (the stream has ODH's labels instead)."""
    return {
        model.LABEL_CREATED_BY: CREATED_BY,
        LABEL_PART_OF: PART_OF,
        LABEL_COMPONENT: component,
        LABEL_INSTANCE: instance_name(resolved),
    }


def stream_annotations(request: BuildRequest) -> dict[str, str]:
    """The request's metadata as ODH stream annotations (refreshed by every build)."""
    return request.annotations()


def image_stream(request: BuildRequest, *, phase: str) -> dict[str, Any]:
    """The notebook image ``<name>``, created without tags before its first build."""
    return {
        "apiVersion": f"{IMAGE_GROUP}/{VERSION}",
        "kind": "ImageStream",
        "metadata": {
            "name": request.name,
            "labels": {model.NOTEBOOK_IMAGE_LABEL: "true", model.LABEL_CREATED_BY: CREATED_BY},
            "annotations": {
                **stream_annotations(request),
                model.ANN_PHASE: phase,
                model.ANN_MESSAGES: "[]",
            },
        },
        "spec": {"lookupPolicy": {"local": True}},
    }


def import_tag(
    tag: str, reference: str, annotations: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A spec tag that OpenShift imports from a registry (``oc tag --source=docker``)."""
    entry: dict[str, Any] = {
        "name": tag,
        "from": {"kind": "DockerImage", "name": reference},
        "importPolicy": {},
        "referencePolicy": {"type": "Source"},
    }
    if annotations:
        entry["annotations"] = dict(annotations)
    return entry


def staging_stream(resolved: ResolvedBuild) -> dict[str, Any]:
    """Where an import lands while it is validated (see the module docstring)."""
    return {
        "apiVersion": f"{IMAGE_GROUP}/{VERSION}",
        "kind": "ImageStream",
        "metadata": {
            "name": instance_name(resolved),
            "labels": labels(resolved, "image-import"),
        },
        "spec": {
            "lookupPolicy": {"local": False},
            "tags": [import_tag(resolved.tag, resolved.source)],
        },
    }


def published_tag(
    tag: str, annotations: Mapping[str, str], *, imported_from: str = "", pinned: str = ""
) -> dict[str, Any]:
    """The validated tag added to the notebook image's ``spec.tags``.

    An import is tagged from its digest-pinned reference (what was validated), recording
    where it came from; a built image is already in ``status.tags`` (pushed by the build).
    """
    if pinned:
        return import_tag(tag, pinned, {model.ANN_IMPORTED_FROM: imported_from, **annotations})
    return {"name": tag, "annotations": dict(annotations), "referencePolicy": {"type": "Source"}}


@dataclass(frozen=True)
class BuildNetwork:
    """How the cluster's build pods reach the network (the backend's configuration): the
    proxies, for git (the source's fields) and for the build's tools (``*_PROXY`` in both
    cases), and further variables of the admin's."""

    http_proxy: str = ""
    https_proxy: str = ""
    no_proxy: str = ""
    #: (name, value) pairs added last: they win over the derived ones
    env: tuple[tuple[str, str], ...] = ()

    def git_proxy(self) -> dict[str, str]:
        """The fields of ``spec.source.git`` OpenShift clones the repository with."""
        fields = {
            "httpProxy": self.http_proxy,
            "httpsProxy": self.https_proxy,
            "noProxy": self.no_proxy,
        }
        return {k: v for k, v in fields.items() if v}


def build_env(network: BuildNetwork, index: PackageIndex) -> list[dict[str, str]]:
    """The build strategy's ``env``: the proxies in both cases (curl takes ``http_proxy`` in
    lower case only), pip's index (an s2i assemble or a repository's Dockerfile runs pip),
    then the admin's variables."""
    values: dict[str, str] = {}
    for name, value in (
        ("HTTP_PROXY", network.http_proxy),
        ("HTTPS_PROXY", network.https_proxy),
        ("NO_PROXY", network.no_proxy),
    ):
        if value:
            values[name] = values[name.lower()] = value
    if index.index_url:
        values["PIP_INDEX_URL"] = index.index_url
    if index.extra_index_urls:
        values["PIP_EXTRA_INDEX_URL"] = " ".join(index.extra_index_urls)
    values.update(network.env)
    return [{"name": name, "value": value} for name, value in values.items()]


def pip_index_args(index: PackageIndex) -> list[str]:
    """The index options a cluster build can use (URLs; local find-links stay local)."""
    args: list[str] = []
    if index.index_url:
        args += ["--index-url", index.index_url]
    for url in index.extra_index_urls:
        args += ["--extra-index-url", url]
    return args


def dockerfile(builder: str, lock: Sequence[str], index: PackageIndex) -> str:
    """Install exactly the locked set on the builder image (``--no-deps``: the lock is whole)."""
    words = ["python3", "-m", "pip", "install", "--no-cache-dir", "--no-deps"]
    words += pip_index_args(index)
    lines = [" ".join(shlex.quote(w) for w in words)] + [shlex.quote(pin) for pin in lock]
    run = " \\\n    ".join(lines)
    return f"FROM {builder}\nRUN {run}\n"


def _source_and_strategy(
    resolved: ResolvedBuild, index: PackageIndex, network: BuildNetwork
) -> dict[str, Any]:
    builder = {"kind": "DockerImage", "name": resolved.base}
    env = build_env(network, index)
    extra = {"env": env} if env else {}
    if resolved.request.build_type == spec.BuildType.PACKAGE_LIST:
        return {
            "source": {
                "type": "Dockerfile",
                "dockerfile": dockerfile(resolved.base, resolved.lock, index),
            },
            "strategy": {"type": "Docker", "dockerStrategy": {"from": builder, **extra}},
        }
    git = {"uri": resolved.request.repository_url, "ref": resolved.commit}
    source = {"type": "Git", "git": {**git, **network.git_proxy()}}
    if resolved.request.strategy == spec.DOCKERFILE:  # the repository's own Dockerfile
        return {"source": source, "strategy": {"type": "Docker", "dockerStrategy": extra}}
    strategy = {"type": "Source", "sourceStrategy": {"from": builder, **extra}}
    return {"source": source, "strategy": strategy}


def build_config(
    resolved: ResolvedBuild, *, index: PackageIndex, network: BuildNetwork | None = None
) -> dict[str, Any]:
    """The recipe of a package list (Docker, inline Dockerfile) or a repository (s2i, or
    Docker with the repository's Dockerfile); its build pods reach the network as
    ``network`` says (nothing added without one)."""
    return {
        "apiVersion": f"{BUILD_GROUP}/{VERSION}",
        "kind": "BuildConfig",
        "metadata": {
            "name": instance_name(resolved),
            "labels": labels(resolved, "image-build"),
            "annotations": {model.ANN_NAME: resolved.request.display_name},
        },
        "spec": {
            "runPolicy": "Serial",
            **_source_and_strategy(resolved, index, network or BuildNetwork()),
            "output": {"to": {"kind": "ImageStreamTag", "name": resolved.image}},
            "triggers": [],
            "successfulBuildsHistoryLimit": 1,
            "failedBuildsHistoryLimit": 2,
        },
    }


def build_request(config_name: str) -> dict[str, Any]:
    """The body of ``POST buildconfigs/<name>/instantiate`` (what ``oc start-build`` sends)."""
    return {
        "kind": "BuildRequest",
        "apiVersion": f"{BUILD_GROUP}/{VERSION}",
        "metadata": {"name": config_name},
        "triggeredBy": [{"message": TRIGGER_MESSAGE}],
    }


def validation_pod(
    resolved: ResolvedBuild,
    image: str,
    *,
    command: Sequence[str],
    resources: Mapping[str, Any],
    deadline: float,
) -> dict[str, Any]:
    """A pod that runs the image check in ``image`` once, with the least privileges."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": validation_pod_name(resolved),
            "labels": labels(resolved, "image-validation"),
        },
        "spec": {
            "restartPolicy": "Never",
            "activeDeadlineSeconds": max(1, int(deadline)),
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "containers": [
                {
                    "name": "check",
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": list(command),
                    "resources": dict(resources),
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "capabilities": {"drop": ["ALL"]},
                        "runAsNonRoot": True,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                }
            ],
        },
    }
