"""A ModelServer's status from its Deployment, and when its objects need an update: tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from jupyterhub_ov.service.features.modelservers import status
from jupyterhub_ov.service.features.modelservers.model import parse_model_server

SPEC = parse_model_server(
    "demo",
    {
        "models_settings": {"model_name": "resnet", "model_path": "s3://models/resnet"},
        "service_parameters": {"grpc_port": 9000, "rest_port": 9001},
    },
)
T0 = datetime(2026, 12, 1, 10, tzinfo=UTC)
T1 = datetime(2026, 12, 1, 11, tzinfo=UTC)
AT0, AT1 = "2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z"


def deployment(
    wanted: int = 1, generation: int = 1, conditions: tuple[dict[str, Any], ...] = (), **st: Any
) -> dict[str, Any]:
    return {
        "metadata": {"name": "demo-ovms", "generation": generation},
        "spec": {"replicas": wanted},
        "status": {**st, "conditions": list(conditions)},
    }


def summary(conditions: list[dict[str, Any]]) -> dict[str, tuple[str, str, str]]:
    return {c["type"]: (c["status"], c["reason"], c["message"]) for c in conditions}


ROLLED_OUT = {"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2}
STUCK = {
    "type": "Progressing",
    "status": "False",
    "reason": "ProgressDeadlineExceeded",
    "message": 'ReplicaSet "demo-ovms-1" has timed out progressing.',
}
QUOTA = {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": "quota"}


@pytest.mark.parametrize(
    ("live", "expected"),
    [
        pytest.param(
            None,
            {
                "Available": ("False", "Creating", "The Deployment is being created"),
                "Progressing": ("True", "Creating", "The Deployment is being created"),
                "Degraded": ("False", "AsExpected", ""),
            },
            id="not-made-yet",
        ),
        pytest.param(
            deployment(2, **ROLLED_OUT),
            {
                "Available": (
                    "True",
                    "MinimumReplicasAvailable",
                    "2 of 2 replicas of Deployment demo-ovms available",
                ),
                "Progressing": ("False", "RolloutComplete", "2 of 2 replicas updated, 2 available"),
                "Degraded": ("False", "AsExpected", ""),
            },
            id="rolled-out",
        ),
        pytest.param(
            deployment(2, observedGeneration=1, replicas=2, updatedReplicas=1, availableReplicas=1),
            {
                "Available": (
                    "True",
                    "MinimumReplicasAvailable",
                    "1 of 2 replicas of Deployment demo-ovms available",
                ),
                "Progressing": ("True", "RollingOut", "1 of 2 replicas updated, 1 available"),
                "Degraded": ("False", "AsExpected", ""),
            },
            id="scaling-up",
        ),
        pytest.param(
            deployment(2, generation=2, **ROLLED_OUT),
            {
                "Available": (
                    "True",
                    "MinimumReplicasAvailable",
                    "2 of 2 replicas of Deployment demo-ovms available",
                ),
                "Progressing": ("True", "RollingOut", "2 of 2 replicas updated, 2 available"),
                "Degraded": ("False", "AsExpected", ""),
            },
            id="new-generation-not-observed",
        ),
        pytest.param(
            deployment(1, conditions=(STUCK,), observedGeneration=1, replicas=1),
            {
                "Available": (
                    "False",
                    "NoReplicasAvailable",
                    "0 of 1 replicas of Deployment demo-ovms available",
                ),
                "Progressing": ("True", "RollingOut", "0 of 1 replicas updated, 0 available"),
                "Degraded": ("True", "ProgressDeadlineExceeded", STUCK["message"]),
            },
            id="deadline-exceeded",
        ),
        pytest.param(
            deployment(1, conditions=(QUOTA,), observedGeneration=1),
            {
                "Available": (
                    "False",
                    "NoReplicasAvailable",
                    "0 of 1 replicas of Deployment demo-ovms available",
                ),
                "Progressing": ("True", "RollingOut", "0 of 1 replicas updated, 0 available"),
                "Degraded": ("True", "FailedCreate", "quota"),
            },
            id="replica-failure",
        ),
        pytest.param(
            deployment(0, observedGeneration=1, replicas=0),
            {
                "Available": (
                    "False",
                    "ScaledToZero",
                    "0 of 0 replicas of Deployment demo-ovms available",
                ),
                "Progressing": ("False", "RolloutComplete", "0 of 0 replicas updated, 0 available"),
                "Degraded": ("False", "AsExpected", ""),
            },
            id="scaled-to-zero",
        ),
    ],
)
def test_conditions_from_the_deployment(
    live: dict[str, Any] | None, expected: dict[str, tuple[str, str, str]]
) -> None:
    assert summary(status.deployment_conditions(live)) == expected


def test_the_whole_status_of_a_running_server() -> None:
    found = status.status_for(
        name="demo",
        namespace="ml",
        spec=SPEC,
        deployment=deployment(2, **ROLLED_OUT),
        generation=3,
        at=T0,
    )
    assert found == {
        "replicas": 2,
        "labelSelector": "release=demo",
        "conditions": [
            {**c, "lastTransitionTime": AT0}
            for c in status.deployment_conditions(deployment(2, **ROLLED_OUT))
        ],
        "endpoints": {"rest": "demo-ovms.ml.svc:9001", "grpc": "demo-ovms.ml.svc:9000"},
        "observedGeneration": 3,
    }


READY_MODEL = {"name": "resnet", "ready": True, "versions": ["1"]}
MISSING = "the model path: NOT_FOUND: the model path s3://models/resnet does not exist"
MISSING_MODEL = {"name": "other", "ready": False, "versions": [], "message": MISSING}


def test_per_model_readiness_in_the_status() -> None:
    found = status.status_for(
        name="demo",
        namespace="ml",
        spec=SPEC,
        deployment=deployment(2, **ROLLED_OUT),
        models=[READY_MODEL],
        at=T0,
    )
    assert found == {
        "replicas": 2,
        "labelSelector": "release=demo",
        "conditions": [
            {**c, "lastTransitionTime": AT0}
            for c in status.deployment_conditions(deployment(2, **ROLLED_OUT))
        ],
        "endpoints": {"rest": "demo-ovms.ml.svc:9001", "grpc": "demo-ovms.ml.svc:9000"},
        "models": [READY_MODEL],
    }


def test_a_model_without_a_version_degrades_the_server_naming_it_and_its_path() -> None:
    running = deployment(1, observedGeneration=1, replicas=1, updatedReplicas=1)
    found = status.status_for(
        name="demo",
        namespace="ml",
        spec=SPEC,
        deployment=running,
        models=[READY_MODEL, MISSING_MODEL],
        at=T0,
    )
    assert found["models"] == [READY_MODEL, MISSING_MODEL]
    assert summary(found["conditions"]) == {
        "Available": (
            "False",
            "NoReplicasAvailable",
            "0 of 1 replicas of Deployment demo-ovms available",
        ),
        "Progressing": ("True", "RollingOut", "1 of 1 replicas updated, 0 available"),
        "Degraded": ("True", "ModelUnavailable", f"model other: {MISSING}"),
    }
    # a Deployment degraded already says so; the models are still listed
    stuck = deployment(1, conditions=(STUCK,), observedGeneration=1, replicas=1)
    found = status.status_for(
        name="demo", namespace="ml", spec=SPEC, deployment=stuck, models=[MISSING_MODEL], at=T0
    )
    assert summary(found["conditions"])["Degraded"][1] == "ProgressDeadlineExceeded"
    assert found["models"] == [MISSING_MODEL]


@pytest.mark.parametrize(
    ("models", "degraded"),
    [
        ([], None),
        ([READY_MODEL], None),
        ([{"name": "a", "ready": False, "versions": []}], None),  # still loading
        (
            [
                {"name": "a", "ready": False, "message": "why"},
                {"name": "b", "ready": False},
                {"name": "c", "ready": False, "message": "because"},
            ],
            {
                "type": "Degraded",
                "status": "True",
                "reason": "ModelUnavailable",
                "message": "model a: why; model c: because",
            },
        ),
    ],
)
def test_model_degraded(models: list[dict[str, Any]], degraded: dict[str, Any] | None) -> None:
    assert status.model_degraded(models) == degraded


def test_an_invalid_spec_says_every_problem_and_has_no_endpoints() -> None:
    problem = status.Problem(status.INVALID_SPEC, "a is wrong; b is wrong")
    found = status.status_for(
        name="demo", namespace="ml", spec=None, deployment=None, problem=problem, at=T0
    )
    assert found == {
        "replicas": 0,
        "labelSelector": "release=demo",
        "conditions": [
            {"type": kind, "status": value, "reason": "InvalidSpec", "message": problem.message}
            | {"lastTransitionTime": AT0}
            for kind, value in (
                ("Available", "False"),
                ("Progressing", "False"),
                ("Degraded", "True"),
            )
        ],
    }


def test_a_condition_keeps_its_transition_time_while_its_status_stays() -> None:
    before = status.status_for(name="demo", namespace="ml", spec=SPEC, deployment=None, at=T0)
    after = status.status_for(
        name="demo",
        namespace="ml",
        spec=SPEC,
        deployment=deployment(2, **ROLLED_OUT),
        previous=before,
        at=T1,
    )
    times = {c["type"]: c["lastTransitionTime"] for c in after["conditions"]}
    # Available False → True and Progressing True → False changed; Degraded stayed False
    assert times == {"Available": AT1, "Progressing": AT1, "Degraded": AT0}


@pytest.mark.parametrize(
    ("current", "desired", "patch"),
    [
        ({"replicas": 1}, {"replicas": 1}, None),
        ({"replicas": 1}, {"replicas": 2}, {"status": {"replicas": 2}}),
        (
            {"replicas": 1, "endpoints": {"rest": "x"}},
            {"replicas": 0},
            {"status": {"replicas": 0, "endpoints": None}},
        ),
        ({}, {"labelSelector": "release=a"}, {"status": {"labelSelector": "release=a"}}),
    ],
)
def test_the_status_patch(
    current: dict[str, Any], desired: dict[str, Any], patch: dict[str, Any] | None
) -> None:
    assert status.status_patch(current, desired) == patch


DESIRED = {
    "kind": "Service",
    "metadata": {
        "name": "demo-ovms",
        "labels": {"app": "demo-ovms"},
        "ownerReferences": [{"uid": "u"}],
    },
    "spec": {"type": "ClusterIP", "ports": [{"name": "rest", "port": 8081}]},
}
LIVE = {
    "kind": "Service",
    "metadata": {
        "name": "demo-ovms",
        "resourceVersion": "7",
        "labels": {"app": "demo-ovms", "team": "ml"},
        "ownerReferences": [{"uid": "u"}],
    },
    "spec": {
        "type": "ClusterIP",
        "clusterIP": "10.0.0.9",
        "clusterIPs": ["10.0.0.9"],
        "sessionAffinity": "None",
        "ports": [{"name": "rest", "port": 8081, "protocol": "TCP"}],
    },
}


@pytest.mark.parametrize(
    ("live", "needed"),
    [
        pytest.param(LIVE, False, id="server-filled-fields-are-no-difference"),
        pytest.param({**LIVE, "spec": {**LIVE["spec"], "type": "NodePort"}}, True, id="a-field"),
        pytest.param(
            {**LIVE, "spec": {**LIVE["spec"], "ports": []}}, True, id="a-list-of-other-length"
        ),
        pytest.param(
            {**LIVE, "metadata": {**LIVE["metadata"], "labels": {"team": "ml"}}},
            True,
            id="a-label-gone",
        ),
        pytest.param(
            {**LIVE, "metadata": {**LIVE["metadata"], "ownerReferences": []}}, True, id="no-owner"
        ),
    ],
)
def test_needs_update(live: dict[str, Any], needed: bool) -> None:
    assert status.needs_update(live, DESIRED) is needed


def test_a_replacement_keeps_the_version_others_labels_and_the_cluster_ip() -> None:
    assert status.replacement(LIVE, {**DESIRED, "spec": {"type": "NodePort"}}) == {
        "kind": "Service",
        "metadata": {
            "name": "demo-ovms",
            "labels": {"app": "demo-ovms", "team": "ml"},
            "ownerReferences": [{"uid": "u"}],
            "resourceVersion": "7",
        },
        "spec": {"type": "NodePort", "clusterIP": "10.0.0.9", "clusterIPs": ["10.0.0.9"]},
    }
    deployment_body = {"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"replicas": 2}}
    live_deployment = {
        "metadata": {"resourceVersion": "3"},
        "spec": {"replicas": 1, "paused": False},
    }
    assert status.replacement(live_deployment, deployment_body) == {
        "kind": "Deployment",
        "metadata": {"name": "d", "resourceVersion": "3"},
        "spec": {"replicas": 2},
    }


@pytest.mark.parametrize(
    ("refs", "owned"),
    [([{"uid": "u"}], True), ([{"uid": "other"}], False), ([], False), (None, False)],
)
def test_owned_by(refs: list[dict[str, str]] | None, owned: bool) -> None:
    assert status.owned_by({"metadata": {"ownerReferences": refs}}, "u") is owned
