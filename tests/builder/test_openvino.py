"""The OpenVINO Notebook integration's pure rules: parameters, preconditions, tags, updates."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from jupyterhub_ov.builder import openvino
from jupyterhub_ov.builder.spec import InvalidBuildRequest, SpecPolicy

POLICY = SpecPolicy()
AT = datetime(2026, 11, 24, 13, 5, 9, tzinfo=timezone.utc)


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
    assert openvino.condition("Ready", False, "PreconditionFailed", "why", AT) == {
        "type": "Ready",
        "status": "False",
        "reason": "PreconditionFailed",
        "message": "why",
        "lastTransitionTime": "2026-11-24T13:05:09Z",
    }
