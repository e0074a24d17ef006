"""Reading what OpenShift reports (streams, builds, pods) — table tests on literal objects."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes_asyncio.client.exceptions import ApiException

from jupyterhub_ov.builds.backends.openshift import status
from jupyterhub_ov.builds.backends.openshift.guard import cluster_problem
from jupyterhub_ov.builds.model.published import Package, PublishedImage
from jupyterhub_ov.kube.client import Gone

OURS = {"app.kubernetes.io/created-by": "jupyterhub-ov-builder"}
SOFTWARE = {
    "opendatahub.io/notebook-software": '[{"name": "Python", "version": "3.11"}]',
    "opendatahub.io/notebook-python-dependencies": '[{"name": "pandas", "version": "2.2.3"}]',
}


def stream(
    spec_tags: list[dict[str, Any]],
    status_tags: list[dict[str, Any]] | None = None,
    phase: str | None = "Succeeded",
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    annotations = {"opendatahub.io/notebook-image-phase": phase} if phase else {}
    return {
        "metadata": {"name": "nb-notebook", "labels": labels or OURS, "annotations": annotations},
        "spec": {"tags": spec_tags},
        "status": {"tags": status_tags or []},
    }


def item(reference: str, generation: int = 1, image: str = "sha256:1") -> dict[str, Any]:
    return {"dockerImageReference": reference, "generation": generation, "image": image}


def failed(generation: int, message: str = "not found") -> dict[str, Any]:
    return {
        "type": "ImportSuccess",
        "status": "False",
        "reason": "NotFound",
        "message": message,
        "generation": generation,
    }


@pytest.mark.parametrize(
    "status_tags, expected",
    [
        ([], status.ImportOutcome()),
        (
            [{"tag": "t", "items": [item("r@sha256:1", 2)]}],
            status.ImportOutcome(reference="r@sha256:1"),
        ),
        ([{"tag": "t", "items": [item("old@sha256:0", 1)]}], status.ImportOutcome()),  # stale
        (
            [{"tag": "t", "conditions": [failed(2)]}],
            status.ImportOutcome(error="not found (NotFound)"),
        ),
        ([{"tag": "t", "conditions": [failed(1)]}], status.ImportOutcome()),  # an older failure
        (  # a new failure keeps the old items: the failure counts
            [{"tag": "t", "items": [item("old@sha256:0", 1)], "conditions": [failed(2, "gone")]}],
            status.ImportOutcome(error="gone (NotFound)"),
        ),
        ([{"tag": "other", "items": [item("x@sha256:1", 9)]}], status.ImportOutcome()),
    ],
)
def test_import_outcome_answers_the_current_spec_generation(
    status_tags: list[dict[str, Any]], expected: status.ImportOutcome
) -> None:
    current = stream([{"name": "t", "generation": 2}], status_tags)
    assert status.import_outcome(current, "t") == expected
    assert expected.done == bool(expected.reference or expected.error)


def test_pushed_reference_is_the_builds_own_digest() -> None:
    pushed = stream(
        [],
        [{"tag": "t", "items": [item("r@sha256:new", image="sha256:new"), item("r@sha256:old")]}],
    )
    assert status.pushed_reference(pushed, "t", "sha256:new") == "r@sha256:new"
    assert status.pushed_reference(pushed, "t", "sha256:1") == "r@sha256:old"
    assert status.pushed_reference(pushed, "t", "sha256:other") == ""
    assert status.pushed_reference(pushed, "t", "") == "r@sha256:new"  # no digest: the newest
    assert status.pushed_reference(pushed, "missing", "") == ""


def test_published_image_is_what_the_menu_offers_and_was_validated() -> None:
    validated = {"name": "t", "annotations": SOFTWARE}
    offered = [{"tag": "t", "items": [item("r@sha256:1")]}]

    assert status.published_image(stream([validated], offered), "t") == PublishedImage(
        image="nb-notebook:t",
        reference="r@sha256:1",
        python_version="3.11",
        packages=(Package("pandas", "2.2.3"),),
    )
    assert status.published_image(stream([validated], []), "t") is None  # not in status
    assert status.published_image(stream([{"name": "t"}], offered), "t") is None  # unvalidated
    hidden = stream([validated], offered, phase="Validating")
    assert status.published_image(hidden, "t") is None
    assert status.published_image(stream([validated], offered), "other") is None


def test_a_failure_fails_the_stream_only_without_validated_tags() -> None:
    offered = [{"tag": "good", "items": [item("r@sha256:1")]}]
    with_good = stream([{"name": "good", "annotations": SOFTWARE}, {"name": "new"}], offered)
    assert status.validated_tags(with_good) == ["good"]
    assert status.phase_after_failure(with_good) == "Succeeded"
    assert status.phase_after_failure(stream([{"name": "new"}])) == "Failed"


def test_editing_spec_tags_and_annotations() -> None:
    edited = stream([{"name": "a"}, {"name": "b", "annotations": {"x": "1"}}])

    status.set_spec_tag(edited, {"name": "b", "annotations": {"x": "2"}})
    status.set_spec_tag(edited, {"name": "c"})
    assert edited["spec"]["tags"] == [
        {"name": "a"},
        {"name": "b", "annotations": {"x": "2"}},
        {"name": "c"},
    ]
    assert status.drop_spec_tag(edited, "a") and not status.drop_spec_tag(edited, "a")
    status.set_annotations(
        edited, status.phase_annotations("Failed", [{"severity": "error", "message": "m"}])
    )
    assert edited["metadata"]["annotations"] == {
        "opendatahub.io/notebook-image-phase": "Failed",
        "opendatahub.io/notebook-image-messages": '[{"severity": "error", "message": "m"}]',
    }


def test_only_streams_the_builder_made_are_changed() -> None:
    assert status.owner_problem(stream([])) is None
    problem = status.owner_problem(stream([], labels={"app.kubernetes.io/created-by": "byon"}))
    assert problem is not None and "nb-notebook already exists" in problem and "'byon'" in problem


def test_a_build_failure_names_the_build_and_ends_with_its_log() -> None:
    build = {
        "metadata": {"name": "nb-notebook-abc-1"},
        "status": {
            "phase": "Failed",
            "reason": "DockerBuildFailed",
            "message": "Docker build strategy has failed.",
            "logSnippet": "\n".join(f"line {i}" for i in range(20)),
            "output": {"to": {"imageDigest": "sha256:9"}},
        },
    }
    assert status.build_failure(build) == (
        "The cluster build nb-notebook-abc-1 ended Failed (DockerBuildFailed):"
        " Docker build strategy has failed.\nLast lines of its log:\n"
        + "\n".join(f"line {i}" for i in range(12, 20))
    )
    assert status.build_digest(build) == "sha256:9"
    assert status.build_phase({}) == "New"
    assert status.cancel_requested({"status": {"cancelled": True}})


def container(**state: Any) -> dict[str, Any]:
    return {"status": {"phase": "Pending", "containerStatuses": [{"state": state}]}}


@pytest.mark.parametrize(
    "pod, expected",
    [
        ({"status": {"phase": "Pending"}}, ("running", "")),
        ({"status": {"phase": "Running"}}, ("running", "")),
        ({"status": {"phase": "Succeeded"}}, ("succeeded", "")),
        (
            {"status": {"phase": "Failed", "reason": "DeadlineExceeded"}},
            ("failed", "DeadlineExceeded"),
        ),
        (
            container(waiting={"reason": "ErrImagePull", "message": "manifest unknown"}),
            ("stuck", "ErrImagePull: manifest unknown"),
        ),
        (container(waiting={"reason": "ContainerCreating"}), ("running", "")),
    ],
)
def test_pod_state(pod: dict[str, Any], expected: tuple[str, str]) -> None:
    assert status.pod_state(pod) == expected


def test_cluster_problems_read_as_sentences() -> None:
    refused = ApiException(status=403, reason="Forbidden")
    refused.body = json.dumps({"message": 'buildconfigs is forbidden: User "x" cannot create'})
    assert cluster_problem(refused) == (
        'The cluster refused a request (403 Forbidden): buildconfigs is forbidden: User "x"'
        " cannot create (see deploy/builder-rbac.yaml)"
    )
    assert cluster_problem(Gone("builds/b-1 was deleted")) == (
        "An object of the build disappeared: builds/b-1 was deleted"
    )
    assert cluster_problem(TimeoutError()) == "The cluster could not be reached: TimeoutError"
