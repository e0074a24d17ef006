"""The status of a CustomNBImage resource, from its build's record or its problems."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jupyterhub_ov.builds.model.phases import Phase
from jupyterhub_ov.builds.model.records import BuildRecord
from jupyterhub_ov.builds.model.spec import ResolvedBuild, SpecPolicy, parse_request
from jupyterhub_ov.service.features.customimages import status

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LATER = AT + timedelta(minutes=5)


def record(build_type: str, phase: Phase, **fields: Any) -> BuildRecord:
    spec = {
        "ImportImage": {"buildType": build_type, "fromImage": "quay.io/x/y:1"},
        "PackageList": {"buildType": build_type, "packageVersions": ["pandas"]},
        "GitRepository": {"buildType": build_type, "repositoryUrl": "https://github.com/a/b"},
    }[build_type]
    body = {
        "metadata": {
            "name": "team",
            "annotations": {
                "opendatahub.io/notebook-image-name": "Team",
                "opendatahub.io/notebook-image-desc": "The team's image",
            },
        },
        "spec": spec,
    }
    request = parse_request(body, creator="goern", policy=SpecPolicy())
    return BuildRecord(
        id="b1",
        request=request,
        backend="openshift",
        phase=phase,
        message=f"now {phase}",
        created=AT,
        updated=AT,
        **fields,
    )


def conditions(found: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    return {c["type"]: (c["status"], c["reason"], c["message"]) for c in found["conditions"]}


@pytest.mark.parametrize(
    ("build_type", "phase", "shown"),
    [
        ("ImportImage", Phase.PREPARING, "Importing"),  # the design's import starts Importing
        ("ImportImage", Phase.IMPORTING, "Importing"),
        ("ImportImage", Phase.VALIDATING, "Validating"),
        ("PackageList", Phase.PREPARING, "Preparing"),
        ("PackageList", Phase.RESOLVING, "Resolving"),
        ("PackageList", Phase.BUILDING, "Building"),
        ("GitRepository", Phase.IMPORTING, "Importing"),
    ],
)
def test_a_running_build_shows_its_phase_and_building(
    build_type: str, phase: Phase, shown: str
) -> None:
    found = status.status_for(record(build_type, phase), generation=2, at=AT)
    assert found["phase"] == shown and found["buildId"] == "b1"
    assert found["observedGeneration"] == 2
    assert conditions(found) == {
        "Valid": ("True", "Accepted", f"A valid {build_type} request"),
        "Building": ("True", shown, f"now {phase}"),
        "Ready": ("False", shown, f"now {phase}"),
    }


def test_a_published_build_shows_the_image_its_tag_and_reference() -> None:
    done = record("PackageList", Phase.SUCCESS, image="team-notebook:abc", reference="r@sha256:1")
    done.resolved = ResolvedBuild(done.request, lock=("pandas==2.0",))
    found = status.status_for(done, generation=1, at=AT)
    assert found["phase"] == "Success"
    assert (found["image"], found["imageReference"]) == ("team-notebook:abc", "r@sha256:1")
    assert found["tag"] == done.resolved.tag and found["image"] != found["tag"]
    assert conditions(found)["Ready"] == (
        "True",
        "Published",
        "team-notebook:abc is offered as Team",
    )
    assert conditions(found)["Building"][0] == "False"


def test_before_it_is_published_the_image_is_the_resolved_one_and_no_reference() -> None:
    running = record("PackageList", Phase.BUILDING)
    running.resolved = ResolvedBuild(running.request, lock=("pandas==2.0",))
    found = status.status_for(running, at=AT)
    assert found["image"] == running.resolved.image and "imageReference" not in found


def test_a_failed_build_says_why() -> None:
    found = status.status_for(record("ImportImage", Phase.FAILURE), at=AT)
    assert found["phase"] == "Failure"
    assert conditions(found)["Ready"] == ("False", "BuildFailed", "now Failure")
    assert conditions(found)["Building"] == ("False", "BuildFailed", "now Failure")


def test_an_invalid_spec_is_a_failure_listing_every_problem_with_no_build() -> None:
    found = status.status_for(None, problems=["a is wrong", "b is missing"], at=AT)
    assert found["phase"] == "Failure" and "buildId" not in found
    assert conditions(found)["Valid"] == ("False", "InvalidSpec", "a is wrong; b is missing")
    assert conditions(found)["Ready"] == ("False", "InvalidSpec", "a is wrong; b is missing")
    with pytest.raises(ValueError, match="needs a record or problems"):
        status.status_for(None, at=AT)


def test_the_same_build_gives_the_same_status_and_nothing_is_written() -> None:
    first = status.status_for(record("ImportImage", Phase.IMPORTING), generation=1, at=AT)
    again = status.status_for(
        record("ImportImage", Phase.IMPORTING), generation=1, previous=first, at=LATER
    )
    assert again == first and status.status_patch(first, again) is None
    moved = status.status_for(
        record("ImportImage", Phase.VALIDATING), generation=1, previous=first, at=LATER
    )
    patch = status.status_patch(first, moved)
    assert patch is not None and patch["status"]["phase"] == "Validating"
    times = {c["type"]: c["lastTransitionTime"] for c in moved["conditions"]}
    assert times["Building"] == times["Ready"] == "2026-12-01T12:00:00Z"  # same status: kept
    fixed = status.status_for(None, problems=["x"], previous=moved, at=LATER)
    patch = status.status_patch(moved, fixed)
    assert patch is not None and patch["status"]["buildId"] is None  # dropped
