"""Pure: build requests in the CustomNBImage shape, validated before anything runs.

A request is what an admin sends to the build service (REST body or panel form)::

    {"metadata": {"name": "pandas",
                  "annotations": {"opendatahub.io/notebook-image-name": "Pandas",
                                  "opendatahub.io/notebook-image-desc": "Pandas and boto3"}},
     "spec": {"buildType": "PackageList",
              "runtimeEnvironment": {"osName": "ubi", "osVersion": "8", "pythonVersion": "3.11"},
              "packageVersions": ["pandas>=2", "boto3>=1.24.0"]}}

`parse_request` checks every field (names, PEP 508 requirements, git URLs against the policy)
and returns a `BuildRequest`, or raises `InvalidBuildRequest` listing every problem: nothing
is ever run for a request that fails here. The creator is always the requesting user.

A build is identified twice: `BuildRequest.key` (the normalized request: identical requests
join one running build) and `ResolvedBuild.tag` (a hash of the resolved spec: the locked
package set, the resolved commit, the import source; an image already published under that
tag means no build at all).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from jupyterhub_ov.errors import Invalid
from jupyterhub_ov.images import model

PACKAGE_LIST = "PackageList"
#: `BuildRequest.strategy` of a repository built from its own Dockerfile
DOCKERFILE = "Dockerfile"
GIT_REPOSITORY = "GitRepository"
IMPORT_IMAGE = "ImportImage"
BUILD_TYPES = (PACKAGE_LIST, GIT_REPOSITORY, IMPORT_IMAGE)

NAME_SUFFIX = "-notebook"
#: the image (ImageStream) name's limit: room for derived object names (BuildConfig
#: ``<name>-<tag>``, its builds and their pods) within a 63 character DNS label
NAME_MAX = 40
TAG_LENGTH = 12
MAX_PACKAGES = 200
MAX_FIELD = 500
MAX_DISPLAY = 100
MIN_PYTHON = (3, 8)

_NAME = re.compile(r"^[a-z]([a-z0-9-]*[a-z0-9])?$")
_PYTHON = re.compile(r"^3\.(\d{1,2})$")
_SIMPLE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._+-]{0,62}$")
_GIT_REF = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._/+-]{0,199}$")
_IMAGE_REF = re.compile(
    r"^(?:[a-z0-9]([a-z0-9.-]*[a-z0-9])?(?::\d{1,5})?/)?"  # registry
    r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"  # repository
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"  # tag
    r"(?:@sha256:[a-f0-9]{64})?$"  # digest
)

SPEC_KEYS = {
    PACKAGE_LIST: {"buildType", "runtimeEnvironment", "builderImage", "packageVersions"},
    GIT_REPOSITORY: {"buildType", "repositoryUrl", "gitRef", "builderImage"},
    IMPORT_IMAGE: {"buildType", "fromImage"},
}
RUNTIME_KEYS = {"osName", "osVersion", "pythonVersion"}
ANNOTATION_KEYS = {model.ANN_NAME, model.ANN_DESC, model.ANN_CREATOR, model.ANN_URL}


class InvalidBuildRequest(Invalid):
    """A build request that must not run; ``problems`` says everything that is wrong."""

    summary = "The build request is invalid."


@dataclass(frozen=True)
class SpecPolicy:
    """What the admin allows (configured on the build service)."""

    #: requirements with a direct URL (``pkg @ https://...``)
    allow_urls: bool = False
    git_schemes: tuple[str, ...] = ("https",)
    #: hosts a repository may come from; empty: any host
    git_hosts: tuple[str, ...] = ("github.com", "gitlab.com")
    #: what ``fromImage`` names: "image" (a container image reference) or "path" (an absolute
    #: path of a local environment)
    import_source: str = "image"


@dataclass(frozen=True)
class RuntimeEnvironment:
    os_name: str = ""
    os_version: str = ""
    python_version: str = ""


@dataclass(frozen=True)
class BuildRequest:
    #: the image (ImageStream / environment) name, always ending in ``-notebook``
    name: str
    build_type: str
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

    @property
    def internal(self) -> dict[str, Any]:
        """What the service set beyond the CustomNBImage body (see above)."""
        found: dict[str, Any] = {}
        if self.tag:
            found["tag"] = self.tag
        if self.strategy:
            found["strategy"] = self.strategy
        if self.build_type == GIT_REPOSITORY and self.package_versions:
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
        if self.build_type == IMPORT_IMAGE:
            spec["fromImage"] = self.from_image
        if self.build_type == PACKAGE_LIST:
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
        if self.build_type == GIT_REPOSITORY:
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


# -- validation -------------------------------------------------------------------------------


def image_name(raw: str) -> str:
    """The image name for a requested name: ``-notebook`` appended unless already there."""
    return raw if raw.endswith(NAME_SUFFIX) else raw + NAME_SUFFIX


def name_problem(raw: Any) -> str | None:
    if not isinstance(raw, str) or not raw:
        return "metadata.name is required"
    name = image_name(raw)
    if not _NAME.match(raw) or "--" in raw:
        return (
            f"metadata.name {raw!r} must be lowercase letters, digits and single hyphens,"
            " starting with a letter and not ending with a hyphen"
        )
    if len(name) > NAME_MAX:
        return f"metadata.name {raw!r} is too long: the image name {name!r} exceeds {NAME_MAX}"
    return None


def _text_problem(what: str, value: Any, *, required: bool, limit: int) -> str | None:
    if value is None or value == "":
        return f"{what} is required" if required else None
    if not isinstance(value, str):
        return f"{what} must be a string"
    if len(value) > limit:
        return f"{what} is longer than {limit} characters"
    if any(unicodedata.category(ch).startswith("C") and ch not in "\n\t" for ch in value):
        return f"{what} contains control characters"
    return None


def requirement_problem(raw: Any, policy: SpecPolicy) -> tuple[str | None, str | None]:
    """(normalized requirement, None) or (None, problem) for one package list entry."""
    if not isinstance(raw, str) or not raw.strip():
        return None, f"package {raw!r} must be a non-empty string"
    text = raw.strip()
    if len(text) > MAX_FIELD:
        return None, f"package {text[:40]!r}... is longer than {MAX_FIELD} characters"
    if text.startswith("-"):
        return None, f"package {text!r}: pip options are not allowed, only requirements"
    if any(ch in text for ch in "\r\n\x00"):
        return None, f"package {text!r} must be a single line"
    try:
        req = Requirement(text)
    except InvalidRequirement as e:
        return None, f"package {text!r} is not a valid PEP 508 requirement ({e})"
    if req.url and not policy.allow_urls:
        return None, f"package {text!r}: direct URLs are not allowed"
    return str(req), None


def git_url_problem(raw: Any, policy: SpecPolicy) -> str | None:
    problem = _text_problem("spec.repositoryUrl", raw, required=True, limit=MAX_FIELD)
    if problem:
        return problem
    try:
        parts = urlsplit(raw)
        port = parts.port  # raises ValueError for a bad port
    except ValueError as e:
        return f"spec.repositoryUrl {raw!r} is not a URL ({e})"
    del port
    if parts.scheme not in policy.git_schemes:
        allowed = ", ".join(policy.git_schemes)
        return f"spec.repositoryUrl {raw!r}: the scheme must be one of {allowed}"
    if parts.username or parts.password:
        return f"spec.repositoryUrl {raw!r} must not carry credentials"
    if parts.query or parts.fragment:
        return f"spec.repositoryUrl {raw!r} must not have a query or fragment"
    if parts.scheme != "file":
        host = (parts.hostname or "").lower()
        if not host:
            return f"spec.repositoryUrl {raw!r} has no host"
        if policy.git_hosts and host not in policy.git_hosts:
            return f"spec.repositoryUrl {raw!r}: host {host!r} is not allowed"
    elif not parts.path.startswith("/") or ".." in parts.path.split("/"):
        return f"spec.repositoryUrl {raw!r} must be an absolute file path without '..'"
    return None


def git_ref_problem(raw: Any) -> str | None:
    if raw in (None, ""):
        return None
    if not isinstance(raw, str) or not _GIT_REF.match(raw):
        return f"spec.gitRef {raw!r} is not a valid branch, tag or commit"
    if ".." in raw or raw.endswith((".lock", "/", ".")) or "//" in raw or "@{" in raw:
        return f"spec.gitRef {raw!r} is not a valid branch, tag or commit"
    return None


def import_source_problem(raw: Any, policy: SpecPolicy) -> str | None:
    problem = _text_problem("spec.fromImage", raw, required=True, limit=MAX_FIELD)
    if problem:
        return problem
    if policy.import_source == "path":
        parts = raw.split("/")
        if not raw.startswith("/") or ".." in parts or any(c in raw for c in "\n\r\x00"):
            return f"spec.fromImage {raw!r} must be an absolute path of an environment"
        return None
    if not _IMAGE_REF.match(raw):
        return f"spec.fromImage {raw!r} is not a container image reference"
    return None


def _runtime(raw: Any, problems: list[str]) -> RuntimeEnvironment | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        problems.append("spec.runtimeEnvironment must be an object")
        return None
    unknown = sorted(set(raw) - RUNTIME_KEYS)
    if unknown:
        problems.append(f"spec.runtimeEnvironment: unknown keys {unknown}")
    for key in ("osName", "osVersion"):
        value = raw.get(key, "")
        if value and not (isinstance(value, str) and _SIMPLE.match(value)):
            problems.append(f"spec.runtimeEnvironment.{key} {value!r} is not valid")
    python = raw.get("pythonVersion", "")
    if python:
        match = _PYTHON.match(python) if isinstance(python, str) else None
        if not match:
            problems.append(f"spec.runtimeEnvironment.pythonVersion {python!r} must look like 3.11")
        elif (3, int(match.group(1))) < MIN_PYTHON:
            problems.append(f"spec.runtimeEnvironment.pythonVersion {python} is older than 3.8")
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


def parse_request(body: Any, *, creator: str, policy: SpecPolicy) -> BuildRequest:
    """Validate a CustomNBImage-shaped request; InvalidBuildRequest lists all problems."""
    if not isinstance(body, Mapping):
        raise InvalidBuildRequest(["the request must be a JSON object"])
    problems: list[str] = []
    unknown = sorted(set(body) - {"metadata", "spec"})
    if unknown:
        problems.append(f"unknown keys {unknown}")
    meta = body.get("metadata")
    spec = body.get("spec")
    if not isinstance(meta, Mapping):
        raise InvalidBuildRequest([*problems, "metadata must be an object"])
    if not isinstance(spec, Mapping):
        raise InvalidBuildRequest([*problems, "spec must be an object"])
    unknown = sorted(set(meta) - {"name", "annotations"})
    if unknown:
        problems.append(f"metadata: unknown keys {unknown}")
    name_error = name_problem(meta.get("name"))
    if name_error:
        problems.append(name_error)
    annotations = meta.get("annotations") or {}
    if not isinstance(annotations, Mapping):
        problems.append("metadata.annotations must be an object")
        annotations = {}
    unknown = sorted(set(annotations) - ANNOTATION_KEYS)
    if unknown:
        problems.append(f"metadata.annotations: unknown keys {unknown}")
    display = annotations.get(model.ANN_NAME)
    description = annotations.get(model.ANN_DESC)
    url = annotations.get(model.ANN_URL, "")
    for what, value, required, limit in (
        (model.ANN_NAME, display, True, MAX_DISPLAY),
        (model.ANN_DESC, description, True, MAX_FIELD),
        (model.ANN_URL, url, False, MAX_FIELD),
    ):
        where = f"metadata.annotations[{what}]"
        problem = _text_problem(where, value, required=required, limit=limit)
        if problem:
            problems.append(problem)
    if url and isinstance(url, str) and model.link_url(url) is None:  # the menu's link rule
        problems.append(f"metadata.annotations[{model.ANN_URL}] must be an http(s) URL")

    build_type = spec.get("buildType")
    if build_type not in BUILD_TYPES:
        raise InvalidBuildRequest(
            [*problems, f"spec.buildType {build_type!r} must be one of {', '.join(BUILD_TYPES)}"]
        )
    unknown = sorted(set(spec) - SPEC_KEYS[build_type])
    if unknown:
        problems.append(f"spec: keys {unknown} do not apply to a {build_type} build")
    fields: dict[str, Any] = {}
    builder = spec.get("builderImage", "")
    if builder:
        problem = import_source_problem(builder, policy)
        if problem:
            problems.append(problem.replace("spec.fromImage", "spec.builderImage"))
        fields["builder_image"] = builder
    if build_type == PACKAGE_LIST:
        fields["runtime_environment"] = _runtime(spec.get("runtimeEnvironment"), problems)
        if builder and fields["runtime_environment"] is not None:
            problems.append("give spec.runtimeEnvironment or spec.builderImage, not both")
        fields["package_versions"] = _packages(spec.get("packageVersions"), policy, problems)
    elif build_type == GIT_REPOSITORY:
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
    if problems:
        raise InvalidBuildRequest(problems)
    return BuildRequest(
        name=image_name(meta["name"]),
        build_type=build_type,
        display_name=str(display).strip(),
        description=str(description).strip(),
        creator=creator,
        url=url or "",
        **fields,
    )
