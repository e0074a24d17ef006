"""The servicecrash reconcile modes' verdicts (reliability/reconcilecheck.py) on objects as the
simulator lists them."""

from __future__ import annotations

from typing import Any

from reliability import reconcilecheck as check

UID = "u-1"


def owned(kind: str, name: str, uid: str = UID, **extra: Any) -> dict[str, Any]:
    ref = {"apiVersion": check.OWNER_API, "kind": "ModelServer", "name": "demo", "uid": uid}
    return {
        "kind": kind,
        "metadata": {"name": name, "ownerReferences": [{**ref, "controller": True}]},
        **extra,
    }


def server(generation: int, **status: Any) -> dict[str, Any]:
    return {"metadata": {"name": "demo", "generation": generation}, "status": status}


def deployment(replicas: int, available: int) -> dict[str, Any]:
    counts = {"replicas": replicas, "availableReplicas": available}
    return owned("Deployment", "demo-ovms", spec={"replicas": replicas}, status=counts)


def available(value: str) -> list[dict[str, str]]:
    return [{"type": "Available", "status": value}]


def test_one_deployment_and_one_service_created_once_are_no_duplicates() -> None:
    objs = [owned("Deployment", "demo-ovms"), owned("Service", "demo-ovms")]
    creates = {"Deployment/demo-ovms": 1, "Service/demo-ovms": 1}
    assert check.duplicates(UID, objs, creates) == []
    # another ModelServer's objects do not count
    assert check.duplicates(UID, [*objs, owned("Service", "x-ovms", uid="u-2")], creates) == []


def test_a_missing_a_second_or_a_recreated_object_is_a_duplicate_problem() -> None:
    objs = [owned("Deployment", "demo-ovms"), owned("Deployment", "demo-2")]
    assert check.duplicates(UID, objs, {}) == [
        "Deployment: 2 owned (demo-ovms, demo-2)",
        "Service: 0 owned ()",
    ]
    recreated = [owned("Deployment", "demo-ovms"), owned("Service", "demo-ovms")]
    assert check.duplicates(UID, recreated, {"Service/demo-ovms": 2}) == [
        "Service demo-ovms: created 2 times"
    ]


def test_owner_references_must_be_exactly_the_controlling_model_server() -> None:
    good = owned("Service", "demo-ovms")
    assert check.owner_problems(good, "ModelServer", "demo", UID) == []
    not_controller = owned("Service", "demo-ovms")
    not_controller["metadata"]["ownerReferences"][0]["controller"] = False
    twice = owned("Service", "demo-ovms")
    twice["metadata"]["ownerReferences"] *= 2
    for bad in (not_controller, twice, {"kind": "Service", "metadata": {"name": "demo-ovms"}}):
        assert check.owner_problems(bad, "ModelServer", "demo", UID) != []


def test_a_status_is_truthful_only_with_its_generation_replicas_and_availability() -> None:
    ok = server(2, observedGeneration=2, replicas=1, conditions=available("True"))
    assert check.status_problems(ok, deployment(1, 1)) == []
    unavailable = server(2, observedGeneration=2, replicas=1, conditions=available("False"))
    assert check.status_problems(unavailable, deployment(1, 0)) == []

    assert len(check.status_problems(server(2, replicas=1), deployment(1, 1))) == 2
    stale = server(2, observedGeneration=1, replicas=1, conditions=available("True"))
    assert check.status_problems(stale, deployment(1, 1)) == [
        "ModelServer demo: observedGeneration 1, generation 2"
    ]
    lying = server(1, observedGeneration=1, replicas=1, conditions=available("True"))
    assert len(check.status_problems(lying, deployment(1, 0))) == 1
    assert check.status_problems(ok, None) == ["ModelServer demo: no Deployment"]


def test_a_deleted_model_servers_objects_are_found_by_owner_or_release_label() -> None:
    pod = {"kind": "Pod", "metadata": {"name": "demo-ovms-x", "labels": {"release": "demo"}}}
    other = {"kind": "Pod", "metadata": {"name": "y", "labels": {"release": "other"}}}
    found = check.leftovers("demo", UID, [owned("Deployment", "demo-ovms"), pod, other])
    assert found == ["Deployment demo-ovms", "Pod demo-ovms-x"]
    assert check.leftovers("demo", UID, [other]) == []


def notebook(generation: int = 1, **status: Any) -> dict[str, Any]:
    return {"metadata": {"name": "kept", "generation": generation}, "status": status}


READY = [{"type": "Ready", "status": "True"}]


def test_a_notebook_is_truthful_when_ready_from_a_successful_build_and_its_status_says_so() -> None:
    record = {"state": "Ready", "build_id": "b1"}
    builds = [{"id": "b1", "phase": "Success"}]
    shown = notebook(observedGeneration=1, state="Ready", build_id="b1", conditions=READY)
    assert check.notebook_problems(shown, record, builds) == []

    assert check.notebook_problems(shown, None, builds) == ["Notebook kept: no record"]
    failed = [{"id": "b1", "phase": "Failure"}]
    assert check.notebook_problems(shown, record, failed) == [
        "Notebook kept: record Ready, build Failure"
    ]
    unwritten = notebook()
    assert len(check.notebook_problems(unwritten, record, builds)) == 4
    other_build = notebook(observedGeneration=1, state="Ready", build_id="b0", conditions=READY)
    assert check.notebook_problems(other_build, record, builds) == [
        "Notebook kept: status build_id 'b0', 'b1'"
    ]


def test_builds_beyond_one_per_resource_are_duplicates() -> None:
    builds = [{"id": "a", "phase": "Success"}, {"id": "b", "phase": "Success"}]
    assert check.duplicate_builds(builds, expected=2) == []
    assert check.duplicate_builds([*builds, {"id": "c", "phase": "Failure"}], expected=2) == [
        "build a Success",
        "build b Success",
        "build c Failure",
    ]
