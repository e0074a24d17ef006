"""Pure: the naming rules of the systems our names land in, written from their documentation
(not from jupyterhub_ov.names, which is what they check), the names the platform itself may
give objects, and collision counting. No I/O."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable

from jupyterhub_ov.builds.model.spec_rules import name_problem as image_name_problem
from jupyterhub_ov.service.features.modelservers.model import parse_model_server
from jupyterhub_ov.service.features.modelservers.spec import (
    InvalidModelServer,
    server_object_name,
)

# Kubernetes (k8s.io/apimachinery validation): IsDNS1123Label / IsDNS1123Subdomain
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
# IAM CreateUser: UserName [\w+=,.@-]+, 1 to 64 characters (\w is ASCII there)
_IAM = re.compile(r"[A-Za-z0-9_+=,.@-]{1,64}")
# useradd (shadow-utils) on Debian and Red Hat without --badname; 32 is its length limit
_POSIX = re.compile(r"[a-z_][a-z0-9_-]*\$?")
POSIX_MAX = 32
# S3 general purpose buckets (docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules)
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]*[a-z0-9]")
_S3_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_S3_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def dns_label_problem(name: str) -> str | None:
    if len(name) > 63 or not _LABEL.fullmatch(name):
        return "not a DNS-1123 label"
    return None


def dns_subdomain_problem(name: str) -> str | None:
    if len(name) > 253 or not _SUBDOMAIN.fullmatch(name):
        return "not a DNS-1123 subdomain"
    return None


def iam_user_problem(name: str) -> str | None:
    return None if _IAM.fullmatch(name) else "not an IAM user name"


def posix_user_problem(name: str) -> str | None:
    if len(name) > POSIX_MAX:
        return f"longer than {POSIX_MAX} characters"
    return None if _POSIX.fullmatch(name) else "not a portable POSIX user name"


def s3_bucket_problem(name: str) -> str | None:
    if not 3 <= len(name) <= 63 or not _BUCKET.fullmatch(name):
        return "not 3-63 lowercase letters, digits, '.' and '-'"
    if ".." in name or ".-" in name or "-." in name:
        return "adjacent '.' and '-'"
    if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name):
        return "looks like an IP address"
    if name.startswith(_S3_PREFIXES) or name.endswith(_S3_SUFFIXES):
        return "a prefix or suffix S3 reserves"
    return None


def path_component_problem(name: str) -> str | None:
    """One directory entry on Linux (and on a case-insensitive file system, see `fold`)."""
    if name in ("", ".", ".."):
        return "empty, '.' or '..'"
    if "/" in name or "\0" in name:
        return "contains '/' or NUL"
    if name.startswith("."):
        return "a hidden file"
    if len(name.encode()) > 255:
        return "longer than 255 bytes"
    return None


def collisions(names: Iterable[tuple[str, str]]) -> int:
    """How many target names were given to more than one user: ``(user, name)`` pairs."""
    users: dict[str, set[str]] = defaultdict(set)
    for user, name in names:
        users[name].add(user)
    return sum(1 for owners in users.values() if len(owners) > 1)


# -- names the platform gives its own objects ----------------------------------------------

#: the tag of a build (`spec.TAG_LENGTH` hex characters of a digest), generous on purpose
_TAG = r"[a-z0-9]{1,12}"


def _image(name: str) -> bool:
    return name.endswith("-notebook") and image_name_problem(name) is None


def _model_server_object(name: str) -> bool:
    """``name`` is the Deployment of a ModelServer whose name the service would accept."""
    for server in {name, name.removesuffix("-ovms")}:
        try:
            spec = parse_model_server(server, {})
        except InvalidModelServer as e:
            if any(p.startswith("metadata.name") for p in e.problems):
                continue
            if server_object_name(server) == name:
                return True
            continue
        if spec.object_name == name:
            return True
    return False


#: the platform's pods named after something it accepts: (what, suffix after the owner
#: name, whether the owner name is one the platform would accept)
_PLATFORM_PODS: list[tuple[str, re.Pattern[str], Callable[[str], bool]]] = [
    ("build validation pod", re.compile(rf"-{_TAG}-validate"), _image),
    ("OpenShift build pod", re.compile(rf"-{_TAG}-\d+-build"), _image),
    ("Tekton build pod", re.compile(rf"-{_TAG}-build-pod"), _image),
    ("model server pod", re.compile(r"-[a-z0-9]{1,10}-[a-z0-9]{5}"), _model_server_object),
]


def platform_pod(name: str) -> str | None:
    """Which of the platform's own pods could be named ``name`` (None: none): build
    validation pods ``<image>-<tag>-validate``, OpenShift build pods
    ``<image>-<tag>-<n>-build``, Tekton's ``<image>-<tag>-build-pod``, a model server
    Deployment's ``<deployment>-<replicaset hash>-<5>``."""
    cuts = [i for i, ch in enumerate(name) if ch == "-"]
    for what, suffix, owner_is_valid in _PLATFORM_PODS:
        for i in cuts:
            if suffix.fullmatch(name[i:]) and owner_is_valid(name[:i]):
                return what
    return None
