"""The notebook image definitions in images/: OpenShift manifests valid against the API's
schemas, local build requests valid for the build service's parser, and one start-up
configuration (the package's) in the S3-aware image and in local mode."""

from __future__ import annotations

import configparser
import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
from jupyter_core.paths import SYSTEM_CONFIG_PATH

from jupyterhub_ov import buckets
from jupyterhub_ov.builds.model.spec import BuildType, parse_request
from jupyterhub_ov.builds.model.spec_rules import SpecPolicy
from jupyterhub_ov.images import model

from .manifests import (
    IMAGES,
    PLACEHOLDER_HOST,
    REPO,
    InvalidManifest,
    documents,
    git_hosts,
    openshift_files,
    upload_root,
    validate,
)

NAMES = ("minimal-notebook", "scipy-notebook", "tensorflow-notebook", "openvino-notebook")
#: built from an upload of this repository (the OpenVINO one from its own git repository)
BINARY = NAMES[:3]
REQUESTS = sorted((IMAGES / "requests").glob("*.json"))


def bucket_browser_requirements() -> list[str]:
    """jupyter-fs and s3fs as the ``local`` extra asks for them (one source of the floors)."""
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    lines = [line.strip() for line in config["options.extras_require"]["local"].splitlines()]
    found = [line for line in lines if line.startswith(("jupyter-fs", "s3fs"))]
    assert len(found) == 2, found
    return found


def _by_kind(path: Path) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for doc in documents(path):
        assert doc["kind"] not in found, f"{path.name}: two {doc['kind']}s"
        found[doc["kind"]] = doc
    return found


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Containerfile, continuation lines joined."""
    text = path.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_every_image_has_a_manifest_a_request_and_a_readme_line() -> None:
    assert [p.stem for p in openshift_files()] == sorted(NAMES)
    assert [p.stem for p in REQUESTS] == sorted(NAMES)
    readme = (IMAGES / "README.md").read_text()
    for name in NAMES:
        assert f"`{name}`" in readme, name


@pytest.mark.parametrize("path", openshift_files(), ids=lambda p: p.name)
def test_manifests_are_valid_for_the_openshift_api(path: Path) -> None:
    kinds = _by_kind(path)
    assert set(kinds) == {"ImageStream", "BuildConfig"}
    for doc in kinds.values():
        validate(doc)


@pytest.mark.parametrize("path", openshift_files(), ids=lambda p: p.name)
def test_manifests_follow_the_odh_notebook_image_conventions(path: Path) -> None:
    kinds = _by_kind(path)
    stream, config = kinds["ImageStream"], kinds["BuildConfig"]
    name = stream["metadata"]["name"]
    assert name == path.stem and name.endswith("-notebook")
    assert stream["metadata"]["labels"]["opendatahub.io/notebook-image"] == "true"
    annotations = stream["metadata"]["annotations"]
    for key in (model.ANN_NAME, model.ANN_DESC, model.ANN_CREATOR):
        assert annotations[key].strip(), key
    assert int(annotations[model.ANN_ORDER]) > 0
    for tag in stream["spec"]["tags"]:
        for key in (model.ANN_SOFTWARE, model.ANN_DEPENDENCIES):
            if key in tag.get("annotations", {}):
                assert isinstance(json.loads(tag["annotations"][key]), list)
    # builds carry the BuildConfig's labels: the menu reads their state by this one
    assert config["metadata"]["labels"]["opendatahub.io/build_type"] == "notebook_image"
    assert config["spec"]["output"]["to"] == {"kind": "ImageStreamTag", "name": f"{name}:latest"}


def containerfile_of(config: dict[str, Any]) -> Path:
    """The Containerfile a Binary BuildConfig builds: its dockerfilePath in the upload."""
    root, _ = upload_root(config)
    context = root / config["spec"]["source"].get("contextDir", "")
    return context / config["spec"]["strategy"]["dockerStrategy"]["dockerfilePath"]


def test_scipy_and_tensorflow_build_from_the_minimal_images_stream_tag() -> None:
    for name in ("scipy-notebook", "tensorflow-notebook"):
        config = _by_kind(IMAGES / "openshift" / f"{name}.yaml")["BuildConfig"]
        docker = config["spec"]["strategy"]["dockerStrategy"]
        assert docker["from"] == {"kind": "ImageStreamTag", "name": "minimal-notebook:latest"}
        assert instructions(containerfile_of(config))[0] == ("FROM", "minimal-notebook:latest")


@pytest.mark.parametrize("path", openshift_files(), ids=lambda p: p.name)
def test_no_manifest_names_a_placeholder_git_url(path: Path) -> None:
    assert not re.search(r"\.invalid\b|\bexample\.(com|net|org)\b", path.read_text())
    for host in git_hosts(path):
        assert host and not PLACEHOLDER_HOST.search(host), host


@pytest.mark.parametrize("name", BINARY)
def test_a_binary_build_config_uploads_all_its_containerfile_needs(name: str) -> None:
    """The annotation's ``oc start-build`` uploads a context holding the Containerfile at
    dockerfilePath and every file it COPYs; ``--from-repo`` sends tracked files only. No
    trigger: a Binary build started without an upload has no source and fails."""
    config = _by_kind(IMAGES / "openshift" / f"{name}.yaml")["BuildConfig"]
    assert config["spec"]["source"] == {"type": "Binary", "binary": {}}
    assert "triggers" not in config["spec"]
    root, flag = upload_root(config)
    containerfile = containerfile_of(config).resolve()
    short = name.removesuffix("-notebook")
    assert containerfile == IMAGES / "containers" / short / "Containerfile"
    assert containerfile.is_relative_to(root)
    needed = [containerfile]
    for op, args in instructions(containerfile):
        words = shlex.split(args)
        if op in ("COPY", "ADD") and not any(w.startswith("--from") for w in words):
            needed += [(root / source).resolve() for source in words[:-1]]
    for path in needed:
        assert path.is_relative_to(root) and path.exists(), path
    if flag == "--from-repo":
        tracked = subprocess.run(
            ["git", "-C", str(root), "ls-files", "--error-unmatch", *map(str, needed)],
            capture_output=True,
            text=True,
        )
        assert tracked.returncode == 0, tracked.stderr
    else:
        assert flag == "--from-dir" and root == containerfile.parent


@pytest.mark.parametrize("name", ("minimal", "scipy", "tensorflow"))
def test_containerfiles_run_as_a_non_root_user_and_carry_no_secrets(name: str) -> None:
    steps = instructions(IMAGES / "containers" / name / "Containerfile")
    users = [args for op, args in steps if op == "USER"]
    assert users and users[-1] == "1001"
    installs = [args for op, args in steps if op == "RUN" and "pip install" in args]
    assert installs and all("fix-permissions /opt/app-root" in args for args in installs)
    for op, args in steps:
        if op in ("ENV", "ARG"):
            assert not any(s in args.upper() for s in ("SECRET", "PASSWORD", "TOKEN", "KEY"))


def test_the_s3_aware_image_installs_the_package_start_up_configuration() -> None:
    """One source: the Containerfile COPYs the very file local mode puts on the config path,
    from the build context its BuildConfig uploads (the repository, oc start-build --from-repo)."""
    config = _by_kind(IMAGES / "openshift" / "minimal-notebook.yaml")["BuildConfig"]
    assert "contextDir" not in config["spec"]["source"]
    containerfile = containerfile_of(config)
    copies = [shlex.split(args) for op, args in instructions(containerfile) if op == "COPY"]
    assert len(copies) == 1
    source, target = copies[0]
    assert (REPO / source).resolve() == Path(buckets.SERVER_CONFIG_FILE).resolve()
    assert Path(target).name == "jupyter_server_config.py"
    assert str(Path(target).parent) in SYSTEM_CONFIG_PATH
    # what the file needs to act (fs's notes): jupyter-fs and s3fs, with boto3, in one pip call
    pips = [args for op, args in instructions(containerfile) if op == "RUN" and "pip" in args]
    assert len(pips) == 1
    for package in ("boto3", "jupyterlab", "jupyterhub"):
        assert package in pips[0], package
    for requirement in bucket_browser_requirements():
        assert f"'{requirement}'" in pips[0], requirement
    assert instructions(containerfile)[-1] == (
        "CMD",
        '["jupyterhub-singleuser", "--ip=0.0.0.0", "--port=8888"]',
    )


@pytest.mark.parametrize("path", REQUESTS, ids=lambda p: p.name)
def test_local_requests_are_valid_build_requests(path: Path) -> None:
    body = json.loads(path.read_text())
    request = parse_request(body, creator="admin", policy=SpecPolicy())
    assert request.name == path.stem
    assert request.to_json()["metadata"]["annotations"] == {
        **body["metadata"]["annotations"],
        model.ANN_CREATOR: "admin",
    }
    if request.build_type is BuildType.PACKAGE_LIST:
        wanted = body["spec"]["packageVersions"]
        assert {"boto3", *bucket_browser_requirements()} <= set(wanted)


def test_the_openvino_definitions_build_the_same_repository() -> None:
    """One source for the OpenVINO requirements: the repository the notebooks feature builds."""
    from jupyterhub_ov.service.features.notebooks.model import DEFAULT_GIT_URI, IMAGE_NAME

    config = _by_kind(IMAGES / "openshift" / f"{IMAGE_NAME}.yaml")["BuildConfig"]
    assert config["spec"]["source"]["git"]["uri"] == DEFAULT_GIT_URI
    assert config["spec"]["strategy"]["dockerStrategy"] == {}  # the repository's Dockerfile
    body = json.loads((IMAGES / "requests" / f"{IMAGE_NAME}.json").read_text())
    assert body["spec"]["repositoryUrl"] == DEFAULT_GIT_URI


BROKEN = [
    (
        {
            "apiVersion": "image.openshift.io/v1",
            "kind": "ImageStream",
            "metadata": {"name": "x-notebook"},
            "spec": {"tags": [{"name": "a", "form": {}}]},
        },
        "ImageStream spec/tags/0: Additional properties are not allowed ('form' was unexpected)",
    ),
    (
        {
            "apiVersion": "build.openshift.io/v1",
            "kind": "BuildConfig",
            "metadata": {"name": "x-notebook"},
            "spec": {"output": {}},
        },
        "BuildConfig spec: 'strategy' is a required property",
    ),
    (
        {
            "apiVersion": "image.openshift.io/v1beta1",
            "kind": "ImageStream",
            "metadata": {"name": "x"},
        },
        "ImageStream: ",
    ),
    (
        {
            "apiVersion": "build.openshift.io/v1",
            "kind": "BuildConfig",
            "metadata": {"name": 7},
            "spec": {"strategy": {}},
        },
        "BuildConfig metadata/name: 7 is not of type 'string'",
    ),
    (
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "dataa": {}},
        "ConfigMap (root): Additional properties are not allowed ('dataa' was unexpected)",
    ),
]


@pytest.mark.parametrize(("manifest", "message"), BROKEN)
def test_a_broken_manifest_is_refused_with_the_validators_message(
    manifest: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidManifest) as refused:
        validate(manifest)
    assert str(refused.value).startswith(message)


def test_the_broken_fixture_is_refused_document_by_document() -> None:
    messages = []
    for doc in documents(Path(__file__).with_name("fixtures") / "broken-notebook.yaml"):
        with pytest.raises(InvalidManifest) as refused:
            validate(doc)
        messages.append(str(refused.value).splitlines()[0])
    assert messages == [
        "ImageStream spec/tags/0: Additional properties are not allowed"
        " ('anotations' was unexpected)",
        "BuildConfig spec: 'strategy' is a required property",
    ]
