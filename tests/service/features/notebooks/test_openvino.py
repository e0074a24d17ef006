"""The OpenVINO Notebook integration's pure rules: parameters, preconditions, tags, updates,
and the status of a cluster Notebook resource."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from jupyterhub_ov.builds.model.spec import InvalidBuildRequest, SpecPolicy
from jupyterhub_ov.service.features.notebooks import model as openvino
from jupyterhub_ov.service.features.notebooks import status as nbstatus
from jupyterhub_ov.service.features.notebooks.record import BUILDING, FAILED, READY, NotebookRecord

POLICY = SpecPolicy()
AT = datetime(2026, 11, 24, 13, 5, 9, tzinfo=UTC)


def test_the_operators_defaults() -> None:
    params = openvino.parse_params("v2024", {}, policy=POLICY)
    assert params == openvino.NotebookParams(
        name="v2024",
        git_uri="https://github.com/openvinotoolkit/openvino_notebooks",
        git_ref="main",
        auto_update_image=False,
        reconcile_duration_multiplier=120,
    )
    assert params.period == timedelta(hours=2)
    assert openvino.parse_params("v2024", None, policy=POLICY) == params


def test_parameters_given() -> None:
    spec = {
        "git_uri": "https://github.com/me/openvino_notebooks",
        "git_ref": "releases/2024/4",
        "auto_update_image": True,
        "reconcile_duration_multiplier": 5,
    }
    params = openvino.parse_params("mine", spec, policy=POLICY)
    assert params.to_json() == spec and params.period == timedelta(minutes=5)


@pytest.mark.parametrize(
    "name,spec,message",
    [
        ("Bad_Name", {}, "name 'Bad_Name' must be"),
        ("x" * 41, {}, "must be 1-40"),
        ("ok", {"git_uri": "http://github.com/a/b"}, "spec.git_uri"),
        ("ok", {"git_uri": "https://evil.example/a"}, "is not allowed"),
        ("ok", {"git_ref": "a..b"}, "spec.git_ref"),
        ("ok", {"auto_update_image": "yes"}, "must be true or false"),
        ("ok", {"reconcile_duration_multiplier": 0}, "whole number of minutes"),
        ("ok", {"reconcile_duration_multiplier": 1.5}, "whole number of minutes"),
        ("ok", {"reconcile_duration_multiplier": True}, "whole number of minutes"),
        ("ok", {"image": "x"}, "unknown keys ['image']"),
        ("ok", [], "spec must be an object"),
    ],
)
def test_bad_parameters(name: str, spec: Any, message: str) -> None:
    with pytest.raises(InvalidBuildRequest, match=message.replace("[", r"\[").replace("(", r"\(")):
        openvino.parse_params(name, spec, policy=POLICY)


RHODS = ("redhat-ods-operator", "rhods-operator")
ODH = ("openshift-operators", "opendatahub-operator")


@pytest.mark.parametrize(
    "namespace,present,expected",
    [
        ("redhat-ods-applications", [RHODS], None),
        ("redhat-ods-applications", [ODH], None),
        ("redhat-ods-applications", [RHODS, ODH], None),
        ("redhat-ods-applications", [], openvino.OPERATOR_MISSING),
        # the right names in the wrong places do not count
        ("redhat-ods-applications", [("default", "rhods-operator")], openvino.OPERATOR_MISSING),
        ("redhat-ods-applications", [("redhat-ods-operator", "other")], openvino.OPERATOR_MISSING),
        ("default", [RHODS], openvino.wrong_namespace()),
        ("default", [], openvino.wrong_namespace()),  # the namespace is reported first
    ],
)
def test_preconditions(namespace: str, present: list, expected: str | None) -> None:
    assert openvino.precondition_problem(namespace, present) == expected


def test_the_operators_exact_messages() -> None:
    assert openvino.wrong_namespace() == (
        "notebook resource should be created in redhat-ods-applications project to integrate"
        " notebook image with the jupyter hub"
    )
    assert openvino.OPERATOR_MISSING == (
        "RHODS operator or ODH operator is required to deploy the notebook image integration"
        " with the JupyterHub"
    )
    # another distribution's namespace, configured: the same message naming it
    assert openvino.precondition_problem("odh", [ODH], required_namespace="opendatahub") == (
        "notebook resource should be created in opendatahub project to integrate notebook"
        " image with the jupyter hub"
    )


def test_tags_names_and_descriptions() -> None:
    assert openvino.image_tag("v2024", AT, first=True) == "v2024"
    assert openvino.image_tag("v2024", AT, first=False) == "v2024-20261124130509"
    later = AT.astimezone(timezone(timedelta(hours=2)))  # any zone: the tag is in UTC
    assert openvino.image_tag("v2024", later, first=False) == "v2024-20261124130509"
    assert openvino.display_name("v2024") == "OpenVINO™ Toolkit v2024"
    text = openvino.description(AT, "0123456789abcdef0123456789abcdef01234567")
    assert "2026-11-24" in text and "0123456789ab" in text


def test_auto_update_decisions() -> None:
    params = openvino.parse_params("n", {"reconcile_duration_multiplier": 10}, policy=POLICY)
    assert openvino.needs_rebuild(None, "a" * 40)
    assert openvino.needs_rebuild("a" * 40, "b" * 40)
    assert not openvino.needs_rebuild("a" * 40, "a" * 40)
    period = params.period
    assert period == timedelta(minutes=10)

    def when(last: datetime | None, **state: bool) -> datetime | None:
        flags = {"built": False, "auto_update": False, "building": False, **state}
        return openvino.next_check(last, AT, period, **flags)

    assert when(None) == AT  # a first image: at once
    assert when(AT - period / 2) == AT + period / 2  # a failed first build: a period later
    assert when(None, built=True) is None  # built, no auto-update: never again
    assert when(AT, built=True, auto_update=True) == AT + period
    assert when(None, built=True, auto_update=True) == AT
    assert when(None, building=True) is None
    assert when(AT, built=True, auto_update=True, building=True) is None


def test_conditions() -> None:
    assert nbstatus.condition("Ready", False, "PreconditionFailed", "why", AT) == {
        "type": "Ready",
        "status": "False",
        "reason": "PreconditionFailed",
        "message": "why",
        "lastTransitionTime": "2026-11-24T13:05:09Z",
    }


# -- the status of a cluster Notebook resource ---------------------------------------------------

COMMIT = "0123456789abcdef0123456789abcdef01234567"
LATER = AT + timedelta(minutes=7)


def record(**fields: Any) -> NotebookRecord:
    params = openvino.parse_params("v2024", {}, policy=POLICY)
    base = NotebookRecord(params, "notebooks.intel.com/ns/v2024", AT, AT, namespace="ns")
    return dataclasses.replace(base, **fields)


PUBLISHED = record(
    state=READY,
    message="Published registry/ns/openvino-notebook@sha256:1",
    commit=COMMIT,
    build_date=AT,
    latest_update_date=AT + timedelta(minutes=3),
    last_check=AT,
    tags=("v2024",),
    build_id="b1",
)


def conditions(status: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    return {c["type"]: (c["status"], c["reason"], c["message"]) for c in status["conditions"]}


def test_the_status_of_a_published_notebook() -> None:
    status = nbstatus.status_for(PUBLISHED, generation=3, at=LATER)

    assert status == {
        "state": "Ready",
        "message": "Published registry/ns/openvino-notebook@sha256:1",
        "warning": "",
        "commit": COMMIT,
        "build_date": "2026-11-24T13:05:09Z",
        "latest_update_date": "2026-11-24T13:08:09Z",
        "last_check": "2026-11-24T13:05:09Z",
        "image": "openvino-notebook:v2024",
        "tags": ["v2024"],
        "build_id": "b1",
        "observedGeneration": 3,
        "conditions": [
            nbstatus.condition(
                "Ready",
                True,
                "Published",
                "openvino-notebook:v2024 is offered as OpenVINO™ Toolkit v2024",
                LATER,
            ),
            nbstatus.condition("Building", False, "Idle", "", LATER),
            nbstatus.condition("Degraded", False, "AsExpected", "", LATER),
        ],
    }


@pytest.mark.parametrize(
    "fields,ready,building,degraded",
    [
        (
            {},
            ("False", "Pending", "Waiting for the first build"),
            ("False", "Idle", ""),
            ("False", "AsExpected", ""),
        ),
        (
            {"state": BUILDING, "message": "Building openvino-notebook:v2024"},
            ("False", "Building", "Building openvino-notebook:v2024"),
            ("True", "Building", "Building openvino-notebook:v2024"),
            ("False", "AsExpected", ""),
        ),
        (
            {"state": FAILED, "message": "The build failed: boom"},
            ("False", "BuildFailed", "The build failed: boom"),
            ("False", "Idle", ""),
            ("True", "BuildFailed", "The build failed: boom"),
        ),
        (  # a failed rebuild: the published image is still offered
            {"state": FAILED, "message": "boom", "tags": ("v2024",)},
            ("True", "Published", "openvino-notebook:v2024 is offered as OpenVINO™ Toolkit v2024"),
            ("False", "Idle", ""),
            ("True", "BuildFailed", "boom"),
        ),
        (
            {"state": READY, "tags": ("v2024",), "warning": "git ls-remote failed"},
            ("True", "Published", "openvino-notebook:v2024 is offered as OpenVINO™ Toolkit v2024"),
            ("False", "Idle", ""),
            ("True", "RepositoryUnreachable", "git ls-remote failed"),
        ),
    ],
)
def test_conditions_follow_the_record(
    fields: dict[str, Any], ready: tuple, building: tuple, degraded: tuple
) -> None:
    status = nbstatus.status_for(record(**fields), at=AT)
    assert conditions(status) == {"Ready": ready, "Building": building, "Degraded": degraded}
    assert "commit" in status and "build_date" not in status  # unknown dates are left out


def test_the_status_of_a_notebook_nothing_is_built_for() -> None:
    problem = nbstatus.Problem(nbstatus.PRECONDITION_FAILED, openvino.OPERATOR_MISSING)

    status = nbstatus.status_for(None, problem=problem, generation=1, at=AT)

    assert status == {
        "state": "Failed",
        "message": openvino.OPERATOR_MISSING,
        "observedGeneration": 1,
        "conditions": [
            nbstatus.condition("Ready", False, "PreconditionFailed", openvino.OPERATOR_MISSING, AT),
            nbstatus.condition("Building", False, "Idle", "", AT),
            nbstatus.condition(
                "Degraded", True, "PreconditionFailed", openvino.OPERATOR_MISSING, AT
            ),
        ],
    }
    # parameters changed to invalid ones: the problem shows, the earlier image stays listed
    invalid = nbstatus.Problem(nbstatus.INVALID_PARAMETERS, "spec.git_ref 'a..b' is bad")
    shown = nbstatus.status_for(PUBLISHED, problem=invalid, at=AT)
    assert shown["tags"] == ["v2024"] and shown["message"] == "spec.git_ref 'a..b' is bad"
    assert conditions(shown)["Ready"] == ("False", "InvalidParameters", invalid.message)
    with pytest.raises(ValueError):
        nbstatus.status_for(None, at=AT)


def test_an_unchanged_record_gives_no_patch_and_transitions_keep_their_time() -> None:
    building = record(state=BUILDING, message="Building")
    first = nbstatus.status_for(building, generation=1, at=AT)
    assert nbstatus.status_patch({}, first) == {"status": first}

    again = nbstatus.status_for(building, generation=1, previous=first, at=LATER)
    assert again == first and nbstatus.status_patch(first, again) is None

    done = nbstatus.status_for(PUBLISHED, generation=1, previous=first, at=LATER)
    times = {c["type"]: c["lastTransitionTime"] for c in done["conditions"]}
    # Ready and Building flipped now; Degraded stayed False since AT
    assert times == {
        "Ready": "2026-11-24T13:12:09Z",
        "Building": "2026-11-24T13:12:09Z",
        "Degraded": "2026-11-24T13:05:09Z",
    }
    patch = nbstatus.status_patch(first, done)
    assert patch is not None
    assert set(patch["status"]) == {
        "state",
        "message",
        "commit",
        "build_date",
        "latest_update_date",
        "last_check",
        "image",
        "tags",
        "build_id",
        "conditions",
    }


def test_a_status_patch_drops_what_the_new_status_lacks() -> None:
    problem = nbstatus.Problem(nbstatus.PRECONDITION_FAILED, openvino.wrong_namespace())
    blocked = nbstatus.status_for(None, problem=problem, at=AT)
    patch = nbstatus.status_patch({**blocked, "stale": "x"}, blocked)
    assert patch == {"status": {"stale": None}}
