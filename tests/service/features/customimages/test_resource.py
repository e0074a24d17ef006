"""A CustomNBImage resource read as a build request: through the REST API's parser."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from jupyterhub_ov.builds.model.spec import (
    BuildType,
    InvalidBuildRequest,
    SpecPolicy,
    parse_request,
)
from jupyterhub_ov.service.features.customimages import resource
from tests.util import REPO

EXAMPLES = REPO / "docs" / "examples" / "customnbimages"
POLICY = SpecPolicy()
CREATOR = "opendatahub.io/notebook-image-creator"


def example(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text())
    loaded["metadata"]["namespace"] = "team"
    return loaded


@pytest.mark.parametrize(
    ("name", "build_type", "creator"),
    [
        ("import-image", BuildType.IMPORT_IMAGE, "goern"),
        ("package-list", BuildType.PACKAGE_LIST, "codificat"),
        ("git-repository", BuildType.GIT_REPOSITORY, "goern"),
    ],
)
def test_the_designs_examples_are_requests_for_their_creator_linked_to_the_resource(
    name: str, build_type: BuildType, creator: str
) -> None:
    found = example(name)
    request = resource.build_request(found, policy=POLICY)
    meta = found["metadata"]
    assert request.build_type is build_type
    assert request.creator == creator
    assert request.annotations()[CREATOR] == creator  # what the published image carries
    assert request.display_name == meta["annotations"]["opendatahub.io/notebook-image-name"]
    assert request.description == meta["annotations"]["opendatahub.io/notebook-image-desc"]
    assert request.resource == f"customnbimages.meteor.zone/team/{meta['name']}"
    assert resource.key_of_ref(request.resource) == f"team/{meta['name']}"


def test_meteors_image_import_is_read_and_written_as_the_designs_import_image() -> None:
    request = resource.build_request(example("import-image"), policy=POLICY)
    assert request.to_json()["spec"] == {
        "buildType": "ImportImage",
        "fromImage": "quay.io/thoth-station/s2i-minimal-py38-notebook:v0.2.2",
    }
    designs = example("import-image")
    designs["spec"]["buildType"] = "ImportImage"
    assert resource.build_request(designs, policy=POLICY) == request


def test_the_request_is_the_rest_bodys_and_the_clusters_additions_are_left_out() -> None:
    found = example("package-list")
    found["metadata"].update(uid="u-1", generation=3, resourceVersion="17")
    found["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = "{}"
    found["status"] = {"phase": "Building"}
    request = resource.build_request(found, policy=POLICY)
    rest = parse_request(resource.request_body(found), creator="codificat", policy=POLICY)
    assert request.key == rest.key  # identical to the REST request: they join one build
    assert request.package_versions == ("boto3>=1.24.0", "pandas")


def test_an_invalid_resource_lists_every_problem_the_parsers_and_the_creators() -> None:
    found = example("package-list")
    del found["metadata"]["annotations"][CREATOR]
    del found["metadata"]["annotations"]["opendatahub.io/notebook-image-desc"]
    found["spec"]["packageVersions"] = ["pandas", "-e git+https://x"]
    found["spec"]["colour"] = "blue"
    with pytest.raises(InvalidBuildRequest) as caught:
        resource.build_request(found, policy=POLICY)
    problems = caught.value.problems
    assert len(problems) == 4, problems
    assert any("notebook-image-desc" in p and "required" in p for p in problems)
    assert any("pip options are not allowed" in p for p in problems)
    assert any("colour" in p for p in problems)
    assert f"metadata.annotations[{CREATOR}] is required" in problems


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        ({"spec": None}, "spec must be an object"),
        ({"spec": {"buildType": "Unknown"}}, "spec.buildType 'Unknown' must be one of"),
        ({"metadata": {"name": "Bad_Name", "namespace": "team"}}, "metadata.name 'Bad_Name'"),
    ],
)
def test_a_resource_without_a_usable_shape_is_refused_with_the_creator_problem_too(
    broken: dict[str, Any], problem: str
) -> None:
    found = {**example("import-image"), **broken}
    found["metadata"].get("annotations", {}).pop(CREATOR, None)
    with pytest.raises(InvalidBuildRequest) as caught:
        resource.build_request(found, policy=POLICY)
    problems = caught.value.problems
    assert any(p.startswith(problem) for p in problems), problems
    assert f"metadata.annotations[{CREATOR}] is required" in problems


@pytest.mark.parametrize("creator", ["", "   ", 42])
def test_the_creator_must_be_a_name(creator: object) -> None:
    found = example("import-image")
    found["metadata"]["annotations"][CREATOR] = creator
    with pytest.raises(InvalidBuildRequest) as caught:
        resource.build_request(found, policy=POLICY)
    (problem,) = caught.value.problems
    assert problem.startswith(f"metadata.annotations[{CREATOR}]")


def test_other_resources_have_no_key() -> None:
    assert resource.key_of_ref("notebooks.intel.com/apps/v1") is None
    assert resource.key_of_ref("customnbimages.meteor.zone/only-namespace") is None
    assert resource.key_of_ref("") is None


def test_the_shipped_crd_is_the_resource_the_reconciler_watches() -> None:
    crd = yaml.safe_load((REPO / "deploy" / "customnbimages-crd.yaml").read_text())
    spec = crd["spec"]
    assert (spec["group"], spec["names"]["kind"], spec["names"]["plural"]) == (
        resource.GROUP,
        resource.KIND,
        resource.PLURAL,
    )
    assert crd["metadata"]["name"] == f"{resource.PLURAL}.{resource.GROUP}"
    (version,) = spec["versions"]
    assert version["name"] == resource.VERSION and version["subresources"] == {"status": {}}
