"""Pure: build requests in the CustomNBImage shape, validated before anything runs.

A request is what an admin sends to the build service (REST body or panel form)::

    {"metadata": {"name": "pandas",
                  "annotations": {"opendatahub.io/notebook-image-name": "Pandas",
                                  "opendatahub.io/notebook-image-desc": "Pandas and boto3"}},
     "spec": {"buildType": "PackageList",
              "runtimeEnvironment": {"osName": "ubi", "osVersion": "8", "pythonVersion": "3.11"},
              "packageVersions": ["pandas>=2", "boto3>=1.24.0"]}}

`parse_request` checks every field (names, PEP 508 requirements, git URLs against the policy;
the rules of one field are in `spec_rules`) and returns a `BuildRequest`, or raises
`InvalidBuildRequest` listing every problem: nothing is ever run for a request that fails
here. The creator is always the requesting user. The published JSON Schema of the body
(`request_schema`) is made from the keys, patterns and limits used here.

A build is identified twice: `BuildRequest.key` (the normalized request: identical requests
join one running build) and `ResolvedBuild.tag` (a hash of the resolved spec: the locked
package set, the resolved commit, the import source; an image already published under that
tag means no build at all).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from jupyterhub_ov.images import model

from .spec_rules import (
    MAX_DISPLAY,
    MAX_FIELD,
    MAX_PACKAGES,
    MIN_PYTHON,
    NAME_MAX,
    NAME_SUFFIX,
    InvalidBuildRequest,
    SpecPolicy,
    git_ref_problem,
    git_url_problem,
    image_name,
    import_source_problem,
    name_problem,
    os_field_problem,
    python_version_problem,
    requirement_problem,
    text_problem,
)

__all__ = [
    "BUILD_TYPES",
    "DOCKERFILE",
    "MAX_DISPLAY",
    "MAX_FIELD",
    "MAX_PACKAGES",
    "MIN_PYTHON",
    "NAME_MAX",
    "NAME_SUFFIX",
    "BuildRequest",
    "BuildType",
    "InvalidBuildRequest",
    "ResolvedBuild",
    "RuntimeEnvironment",
    "SpecPolicy",
    "image_name",
    "name_problem",
    "parse_request",
    "requirement_problem",
]


class BuildType(StrEnum):
    """``spec.buildType``: the values are the wire strings (JSON bodies, the database)."""

    PACKAGE_LIST = "PackageList"
    GIT_REPOSITORY = "GitRepository"
    IMPORT_IMAGE = "ImportImage"


BUILD_TYPES = tuple(BuildType)
#: `BuildRequest.strategy` of a repository built from its own Dockerfile (set by the service,
#: never a ``buildType`` of a request body)
DOCKERFILE = "Dockerfile"
TAG_LENGTH = 12

#: the keys a request's ``spec`` may have, per build type (`request_schema` publishes these)
SPEC_KEYS = {
    BuildType.PACKAGE_LIST: ("buildType", "runtimeEnvironment", "builderImage", "packageVersions"),
    BuildType.GIT_REPOSITORY: ("buildType", "repositoryUrl", "gitRef", "builderImage"),
    BuildType.IMPORT_IMAGE: ("buildType", "fromImage"),
}
RUNTIME_KEYS = ("osName", "osVersion", "pythonVersion")
ANNOTATION_KEYS = (model.ANN_NAME, model.ANN_DESC, model.ANN_CREATOR, model.ANN_URL)


@dataclass(frozen=True)
class RuntimeEnvironment:
    os_name: str = ""
    os_version: str = ""
    python_version: str = ""


@dataclass(frozen=True)
class BuildRequest:
    #: the image (ImageStream / environment) name, always ending in ``-notebook``
    name: str
    build_type: BuildType
    display_name: str
    description: str
    creator: str
    url: str = ""
    from_image: str = ""
    runtime_environment: RuntimeEnvironment | None = None
    builder_image: str = ""
    #: normalized PEP 508 strings, sorted by canonical project name
    package_versions: tuple[str, ...] = ()
    repository_url: str = ""
    git_ref: str = ""
    #: set by the service itself, never by a request body (the OpenVINO notebook images):
    #: a fixed image tag instead of the content hash; ``DOCKERFILE`` to build a repository
    #: from its own Dockerfile; for a repository, ``package_versions`` are added to its
    #: requirements (backends that build environments)
    tag: str = ""
    strategy: str = ""
    #: set by the service, not part of `key` nor kept by a retry: the cluster resource the
    #: build is for (``customnbimages.meteor.zone/<namespace>/<name>``), shown with the record
    resource: str = ""

    def __post_init__(self) -> None:
        # a stored request comes back with the wire string: always hold the enum
        object.__setattr__(self, "build_type", BuildType(self.build_type))

    @property
    def internal(self) -> dict[str, Any]:
        """What the service set beyond the CustomNBImage body (see above)."""
        found: dict[str, Any] = {}
        if self.tag:
            found["tag"] = self.tag
        if self.strategy:
            found["strategy"] = self.strategy
        if self.build_type is BuildType.GIT_REPOSITORY and self.package_versions:
            found["package_versions"] = self.package_versions
        return found

    def annotations(self) -> dict[str, str]:
        """The request's ODH metadata annotations (name, description, creator, url)."""
        annotations = {
            model.ANN_NAME: self.display_name,
            model.ANN_DESC: self.description,
            model.ANN_CREATOR: self.creator,
        }
        if self.url:
            annotations[model.ANN_URL] = self.url
        return annotations

    def to_json(self) -> dict[str, Any]:
        """The CustomNBImage-shaped body this request was parsed from (normalized)."""
        annotations = self.annotations()
        spec: dict[str, Any] = {"buildType": self.build_type}
        if self.build_type is BuildType.IMPORT_IMAGE:
            spec["fromImage"] = self.from_image
        if self.build_type is BuildType.PACKAGE_LIST:
            spec["packageVersions"] = list(self.package_versions)
            if self.runtime_environment is not None:
                rt = self.runtime_environment
                spec["runtimeEnvironment"] = {
                    k: v
                    for k, v in (
                        ("osName", rt.os_name),
                        ("osVersion", rt.os_version),
                        ("pythonVersion", rt.python_version),
                    )
                    if v
                }
        if self.build_type is BuildType.GIT_REPOSITORY:
            spec["repositoryUrl"] = self.repository_url
            if self.git_ref:
                spec["gitRef"] = self.git_ref
        if self.builder_image:
            spec["builderImage"] = self.builder_image
        return {"metadata": {"name": self.name, "annotations": annotations}, "spec": spec}

    @property
    def key(self) -> str:
        """Identical requests (whoever sends them) have the same key."""
        body = self.to_json()
        body["metadata"]["annotations"].pop(model.ANN_CREATOR)
        if self.internal:
            body["internal"] = self.internal
        return _digest(body)


@dataclass(frozen=True)
class ResolvedBuild:
    """A request with everything pinned that decides the image's content."""

    request: BuildRequest
    #: pinned requirements (``name==version``), for package lists and repositories
    lock: tuple[str, ...] = ()
    #: the commit a repository's ref resolved to
    commit: str = ""
    #: what an import takes: a digest-pinned reference or a resolved path
    source: str = ""
    #: what the image is built on: a builder image or a base environment
    base: str = ""
    #: Python version of the result (``3.11``), when known before building
    python_version: str = ""
    #: anything else the backend wants to keep (recorded, not hashed)
    details: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def tag(self) -> str:
        """The image tag: a hash of the resolved content (not of names or descriptions),
        unless the request fixes it."""
        if self.request.tag:
            return self.request.tag
        content = {
            "type": self.request.build_type,
            "lock": list(self.lock),
            "commit": self.commit,
            "repository": self.request.repository_url,
            "source": self.source,
            "base": self.base,
            "python": self.python_version,
        }
        return _digest(content)[:TAG_LENGTH]

    @property
    def image(self) -> str:
        """``<name>:<tag>``: the menu's image reference for the result."""
        return f"{self.request.name}:{self.tag}"


def _digest(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


# -- parsing ----------------------------------------------------------------------------------


def _runtime(raw: Any, problems: list[str]) -> RuntimeEnvironment | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        problems.append("spec.runtimeEnvironment must be an object")
        return None
    unknown = sorted(set(raw) - set(RUNTIME_KEYS))
    if unknown:
        problems.append(f"spec.runtimeEnvironment: unknown keys {unknown}")
    python = raw.get("pythonVersion")
    for problem in (
        os_field_problem("osName", raw.get("osName")),
        os_field_problem("osVersion", raw.get("osVersion")),
        python_version_problem(python),
    ):
        if problem:
            problems.append(problem)
    return RuntimeEnvironment(
        str(raw.get("osName") or ""), str(raw.get("osVersion") or ""), str(python or "")
    )


def _packages(raw: Any, policy: SpecPolicy, problems: list[str]) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw:
        problems.append("spec.packageVersions must be a non-empty list of requirements")
        return ()
    if len(raw) > MAX_PACKAGES:
        problems.append(f"spec.packageVersions has more than {MAX_PACKAGES} entries")
        return ()
    found: dict[str, str] = {}
    for entry in raw:
        normalized, problem = requirement_problem(entry, policy)
        if problem:
            problems.append(problem)
            continue
        assert normalized is not None
        project = canonicalize_name(Requirement(normalized).name)
        if project in found:
            problems.append(f"package {project!r} is listed more than once")
        found[project] = normalized
    return tuple(found[p] for p in sorted(found))


def _unknown(where: str, raw: Mapping[str, Any], known: tuple[str, ...]) -> list[str]:
    unknown = sorted(set(raw) - set(known))
    return [f"{where}unknown keys {unknown}"] if unknown else []


def _metadata(meta: Mapping[str, Any], problems: list[str]) -> dict[str, Any]:
    """The name and annotations' fields of ``metadata`` (problems added to ``problems``)."""
    problems += _unknown("metadata: ", meta, ("name", "annotations"))
    name_error = name_problem(meta.get("name"))
    if name_error:
        problems.append(name_error)
    annotations = meta.get("annotations")
    if annotations is None:
        annotations = {}
    if not isinstance(annotations, Mapping):
        problems.append("metadata.annotations must be an object")
        annotations = {}
    problems += _unknown("metadata.annotations: ", annotations, ANNOTATION_KEYS)
    display = annotations.get(model.ANN_NAME)
    description = annotations.get(model.ANN_DESC)
    url = annotations.get(model.ANN_URL)
    for what, value, required, limit in (
        (model.ANN_NAME, display, True, MAX_DISPLAY),
        (model.ANN_DESC, description, True, MAX_FIELD),
        (model.ANN_URL, url, False, MAX_FIELD),
    ):
        problem = text_problem(
            f"metadata.annotations[{what}]", value, required=required, limit=limit
        )
        if problem:
            problems.append(problem)
    if not isinstance(annotations.get(model.ANN_CREATOR, ""), str | None):  # ignored, but typed
        problems.append(f"metadata.annotations[{model.ANN_CREATOR}] must be a string")
    if url and isinstance(url, str) and model.link_url(url) is None:  # the menu's link rule
        problems.append(f"metadata.annotations[{model.ANN_URL}] must be an http(s) URL")
    return {
        "name": image_name(meta["name"]) if not name_error else "",
        "display_name": str(display).strip(),
        "description": str(description).strip(),
        "url": url or "",
    }


def _spec_fields(
    build_type: BuildType, spec: Mapping[str, Any], policy: SpecPolicy, problems: list[str]
) -> dict[str, Any]:
    """The `BuildRequest` fields of a ``spec`` of ``build_type``."""
    unknown = sorted(set(spec) - set(SPEC_KEYS[build_type]))
    if unknown:
        problems.append(f"spec: keys {unknown} do not apply to a {build_type} build")
    fields: dict[str, Any] = {}
    builder = spec.get("builderImage")
    if builder not in (None, ""):
        problem = import_source_problem(builder, policy)
        if problem:
            problems.append(problem.replace("spec.fromImage", "spec.builderImage"))
        fields["builder_image"] = builder
    if build_type is BuildType.PACKAGE_LIST:
        fields["runtime_environment"] = _runtime(spec.get("runtimeEnvironment"), problems)
        if builder and fields["runtime_environment"] is not None:
            problems.append("give spec.runtimeEnvironment or spec.builderImage, not both")
        fields["package_versions"] = _packages(spec.get("packageVersions"), policy, problems)
    elif build_type is BuildType.GIT_REPOSITORY:
        for problem in (
            git_url_problem(spec.get("repositoryUrl"), policy),
            git_ref_problem(spec.get("gitRef")),
        ):
            if problem:
                problems.append(problem)
        fields["repository_url"] = spec.get("repositoryUrl")
        fields["git_ref"] = spec.get("gitRef") or ""
    else:
        problem = import_source_problem(spec.get("fromImage"), policy)
        if problem:
            problems.append(problem)
        fields["from_image"] = spec.get("fromImage")
    return fields


def parse_request(body: Any, *, creator: str, policy: SpecPolicy) -> BuildRequest:
    """Validate a CustomNBImage-shaped request; InvalidBuildRequest lists all problems."""
    if not isinstance(body, Mapping):
        raise InvalidBuildRequest(["the request must be a JSON object"])
    problems = _unknown("", body, ("metadata", "spec"))
    meta = body.get("metadata")
    spec = body.get("spec")
    if not isinstance(meta, Mapping):
        raise InvalidBuildRequest([*problems, "metadata must be an object"])
    if not isinstance(spec, Mapping):
        raise InvalidBuildRequest([*problems, "spec must be an object"])
    metadata = _metadata(meta, problems)
    build_type = spec.get("buildType")
    if build_type not in BUILD_TYPES:
        raise InvalidBuildRequest(
            [*problems, f"spec.buildType {build_type!r} must be one of {', '.join(BUILD_TYPES)}"]
        )
    fields = _spec_fields(BuildType(build_type), spec, policy, problems)
    if problems:
        raise InvalidBuildRequest(problems)
    return BuildRequest(build_type=BuildType(build_type), creator=creator, **metadata, **fields)
