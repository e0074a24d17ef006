"""Pure: the rules one field of a build request must follow, and the admin's policy.

Each ``*_problem`` function checks one field and says what is wrong with it (or None); the
request parser (`spec.parse_request`) gathers them into one answer, and the request's JSON
Schema (`request_schema`) is made from the same constants, so the published schema and the
parser agree on every rule a schema can express. The rules a schema cannot express (the
policy, PEP 508, Unicode control characters, git ref forms) live only here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from packaging.requirements import InvalidRequirement, Requirement

from jupyterhub_ov.errors import Invalid
from jupyterhub_ov.names import USER_OBJECT_PREFIX, user_object_prefix_problem

NAME_SUFFIX = "-notebook"
#: the image (ImageStream) name's limit: room for derived object names (BuildConfig
#: ``<name>-<tag>``, its builds and their pods) within a 63 character DNS label
NAME_MAX = 40
MAX_PACKAGES = 200
MAX_FIELD = 500
MAX_DISPLAY = 100
#: the oldest Python a notebook environment may have: requested versions and the BYON check
#: (`imagecheck`, which receives it as an argument) both hold images to it
MIN_PYTHON = (3, 8)

#: lowercase letters, digits and single hyphens, starting with a letter, not ending in one, and
#: not starting as users' objects do (`names.USER_OBJECT_PREFIX`: the image's validation and
#: build pods are named after it)
NAME_PATTERN = rf"^(?!.*--)(?!{USER_OBJECT_PREFIX})[a-z](?:[a-z0-9-]*[a-z0-9])?$"
#: a branch, tag or commit as git allows them, without ``..``, ``//`` or a ``.lock``/``/``/``.``
#: ending (what git would refuse or read as a range)
GIT_REF_PATTERN = r"^(?!.*\.\.)(?!.*//)(?!.*(?:\.lock|/|\.)$)[A-Za-z0-9_][A-Za-z0-9._/+-]{0,199}$"
PYTHON_PATTERN = r"^3\.(\d{1,2})$"
SIMPLE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._+-]{0,62}$"
_NAME = re.compile(NAME_PATTERN)
_PYTHON = re.compile(PYTHON_PATTERN)
_SIMPLE = re.compile(SIMPLE_PATTERN)
_GIT_REF = re.compile(GIT_REF_PATTERN)
_IMAGE_REF = re.compile(
    r"^(?:[a-z0-9]([a-z0-9.-]*[a-z0-9])?(?::\d{1,5})?/)?"  # registry
    r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"  # repository
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"  # tag
    r"(?:@sha256:[a-f0-9]{64})?$"  # digest
)


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


def is_image_reference(raw: Any) -> bool:
    """A container image reference: ``[registry[:port]/]repository[:tag][@sha256:digest]``."""
    return isinstance(raw, str) and _IMAGE_REF.fullmatch(raw) is not None


def image_name(raw: str) -> str:
    """The image name for a requested name: ``-notebook`` appended unless already there."""
    return raw if raw.endswith(NAME_SUFFIX) else raw + NAME_SUFFIX


def name_problem(raw: Any) -> str | None:
    if not isinstance(raw, str) or not raw:
        return "metadata.name is required"
    name = image_name(raw)
    reserved = user_object_prefix_problem(raw)
    if reserved:
        return f"metadata.name {raw!r} {reserved}"
    if not _NAME.fullmatch(raw):
        return (
            f"metadata.name {raw!r} must be lowercase letters, digits and single hyphens,"
            " starting with a letter and not ending with a hyphen"
        )
    if len(name) > NAME_MAX:
        return f"metadata.name {raw!r} is too long: the image name {name!r} exceeds {NAME_MAX}"
    return None


def text_problem(what: str, value: Any, *, required: bool, limit: int) -> str | None:
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
    if len(raw) > MAX_FIELD:
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
    problem = text_problem("spec.repositoryUrl", raw, required=True, limit=MAX_FIELD)
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
    if not isinstance(raw, str) or not _GIT_REF.fullmatch(raw):
        return f"spec.gitRef {raw!r} is not a valid branch, tag or commit"
    return None


def import_source_problem(raw: Any, policy: SpecPolicy) -> str | None:
    problem = text_problem("spec.fromImage", raw, required=True, limit=MAX_FIELD)
    if problem:
        return problem
    if policy.import_source == "path":
        parts = raw.split("/")
        if not raw.startswith("/") or ".." in parts or any(c in raw for c in "\n\r\x00"):
            return f"spec.fromImage {raw!r} must be an absolute path of an environment"
        return None
    if not is_image_reference(raw):
        return f"spec.fromImage {raw!r} is not a container image reference"
    return None


def python_version_problem(raw: Any) -> str | None:
    """``3.X`` no older than `MIN_PYTHON`, or why not."""
    if raw in (None, ""):
        return None
    match = _PYTHON.fullmatch(raw) if isinstance(raw, str) else None
    if not match:
        return f"spec.runtimeEnvironment.pythonVersion {raw!r} must look like 3.11"
    if (3, int(match.group(1))) < MIN_PYTHON:
        floor = ".".join(map(str, MIN_PYTHON))
        return f"spec.runtimeEnvironment.pythonVersion {raw} is older than {floor}"
    return None


def os_field_problem(key: str, raw: Any) -> str | None:
    """``osName`` / ``osVersion``: a short plain word, if given."""
    if raw not in (None, "") and not (isinstance(raw, str) and _SIMPLE.fullmatch(raw)):
        return f"spec.runtimeEnvironment.{key} {raw!r} is not valid"
    return None
