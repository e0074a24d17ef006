"""Pure: the OpenVINO Toolkit Operator's ``Notebook`` integration — parameters, preconditions,
names, tags and the auto-update decision (`status` writes the resource status, `record`
holds what the service knows of one Notebook).

A ``Notebook`` (``intel.com/v1alpha1``) asks for the OpenVINO notebook image built from the
openvino_notebooks repository and offered in the spawner menu as ``openvino-notebook``. The
parameters, their defaults and the precondition messages are the operator's (DOMAIN.md).
The first build of a resource is tagged with the resource's name, later builds with the
name plus the build date, so an image someone started stays available while a newer one
appears beside it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jupyterhub_ov.builds.model.spec import (
    InvalidBuildRequest,
    SpecPolicy,
    git_ref_problem,
    git_url_problem,
)

GROUP, VERSION, KIND, PLURAL = "intel.com", "v1alpha1", "Notebook", "notebooks"
DEFAULT_GIT_URI = "https://github.com/openvinotoolkit/openvino_notebooks"
DEFAULT_GIT_REF = "main"
DEFAULT_RECONCILE_MINUTES = 120
#: the image the spawner menu shows
IMAGE_NAME = "openvino-notebook"
DISPLAY_PREFIX = "OpenVINO™ Toolkit"

#: where the operator insists the resource lives (RHODS; configurable for other distributions)
DEFAULT_NAMESPACE = "redhat-ods-applications"
#: (namespace, deployment) of the operators that provide the JupyterHub to integrate with
OPERATOR_DEPLOYMENTS = (
    ("redhat-ods-operator", "rhods-operator"),
    ("openshift-operators", "opendatahub-operator"),
)
OPERATOR_MISSING = (
    "RHODS operator or ODH operator is required to deploy the notebook image integration"
    " with the JupyterHub"
)

PARAMETERS = {"git_uri", "git_ref", "auto_update_image", "reconcile_duration_multiplier"}
#: what the operator fills in (kept in the status and in the service's records)
RECORDED = ("commit", "latest_update_date", "build_date")
_NAME = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,38}[a-z0-9])?$")
_TAG_DATE = "%Y%m%d%H%M%S"


def wrong_namespace(required: str = DEFAULT_NAMESPACE) -> str:
    """The operator's message for a resource outside the required namespace."""
    return (
        f"notebook resource should be created in {required} project to integrate notebook"
        " image with the jupyter hub"
    )


@dataclass(frozen=True)
class NotebookParams:
    name: str
    git_uri: str = DEFAULT_GIT_URI
    git_ref: str = DEFAULT_GIT_REF
    auto_update_image: bool = False
    reconcile_duration_multiplier: int = DEFAULT_RECONCILE_MINUTES

    @property
    def period(self) -> timedelta:
        """Time between two checks of the branch head."""
        return timedelta(minutes=self.reconcile_duration_multiplier)

    def to_json(self) -> dict[str, Any]:
        return {
            "git_uri": self.git_uri,
            "git_ref": self.git_ref,
            "auto_update_image": self.auto_update_image,
            "reconcile_duration_multiplier": self.reconcile_duration_multiplier,
        }


def parse_params(name: Any, spec: Any, *, policy: SpecPolicy) -> NotebookParams:
    """A ``Notebook``'s name and spec (or a REST body's) with the operator's defaults;
    InvalidBuildRequest lists every problem."""
    problems: list[str] = []
    if not isinstance(name, str) or not _NAME.match(name):
        problems.append(
            f"name {name!r} must be 1-40 lowercase letters, digits, dots and hyphens,"
            " starting and ending with a letter or digit"
        )
    if spec is None:
        spec = {}
    if not isinstance(spec, Mapping):
        raise InvalidBuildRequest([*problems, "spec must be an object"])
    unknown = sorted(set(spec) - PARAMETERS)
    if unknown:
        problems.append(f"spec: unknown keys {unknown}")
    git_uri = spec.get("git_uri") or DEFAULT_GIT_URI
    git_ref = spec.get("git_ref") or DEFAULT_GIT_REF
    for problem in (git_url_problem(git_uri, policy), git_ref_problem(git_ref)):
        if problem:
            problems.append(
                problem.replace("spec.repositoryUrl", "spec.git_uri").replace(
                    "spec.gitRef", "spec.git_ref"
                )
            )
    auto = spec.get("auto_update_image", False)
    if not isinstance(auto, bool):
        problems.append(f"spec.auto_update_image {auto!r} must be true or false")
    minutes = spec.get("reconcile_duration_multiplier", DEFAULT_RECONCILE_MINUTES)
    if type(minutes) is not int or not 1 <= minutes <= 60 * 24 * 366:
        problems.append(
            f"spec.reconcile_duration_multiplier {minutes!r} must be a whole number of minutes"
            " (1 or more)"
        )
    if problems:
        raise InvalidBuildRequest(problems)
    return NotebookParams(name, git_uri, git_ref, auto, minutes)


def precondition_problem(
    namespace: str,
    present: Iterable[tuple[str, str]],
    *,
    required_namespace: str = DEFAULT_NAMESPACE,
) -> str | None:
    """Why the operator would build nothing, with its exact message; None when it may.

    ``present``: the (namespace, name) of the operator deployments that exist.
    """
    if namespace != required_namespace:
        return wrong_namespace(required_namespace)
    if not set(OPERATOR_DEPLOYMENTS) & set(present):
        return OPERATOR_MISSING
    return None


def image_tag(name: str, built_at: datetime, *, first: bool) -> str:
    """The first build of ``name`` is tagged ``name``; later ones ``name-<build date>``."""
    if first:
        return name
    return f"{name}-{built_at.astimezone(UTC).strftime(_TAG_DATE)}"


def display_name(name: str) -> str:
    return f"{DISPLAY_PREFIX} {name}"


def description(built_at: datetime, commit: str) -> str:
    day = built_at.astimezone(UTC).strftime("%Y-%m-%d")
    return f"OpenVINO™ Toolkit notebooks, built {day} from commit {commit[:12]}"


def needs_rebuild(last_built_commit: str | None, head_commit: str) -> bool:
    """Auto-update's decision: build when the branch head moved (or nothing was built)."""
    return last_built_commit != head_commit


def next_check(
    last_check: datetime | None,
    now: datetime,
    period: timedelta,
    *,
    built: bool,
    auto_update: bool,
    building: bool,
) -> datetime | None:
    """When a Notebook's branch head is compared next; None when nothing is to be done.

    A Notebook without an image is checked at once, and again a ``period`` after a failed
    attempt; one with an image only with auto-update, every ``period``; none while building.
    """
    if building or (built and not auto_update):
        return None
    if last_check is None:
        return now
    return last_check + period
