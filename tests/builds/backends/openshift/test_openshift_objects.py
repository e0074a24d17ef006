"""The OpenShift objects of a build, compared with literal manifests (no cluster needed)."""

from __future__ import annotations

import dataclasses
import json
import shlex

from jupyterhub_ov.builds.backends.openshift import objects
from jupyterhub_ov.builds.model import spec
from jupyterhub_ov.builds.model.index import PackageIndex
from jupyterhub_ov.builds.model.spec import ResolvedBuild

POLICY = spec.SpecPolicy()
ANNOTATIONS = {
    "opendatahub.io/notebook-image-name": "Pandas",
    "opendatahub.io/notebook-image-desc": "Pandas and boto3",
}


def request(build_spec: dict, **annotations: str) -> spec.BuildRequest:
    body = {"metadata": {"name": "pandas", "annotations": {**ANNOTATIONS, **annotations}}}
    return spec.parse_request({**body, "spec": build_spec}, creator="alice", policy=POLICY)


PACKAGES = request(
    {
        "buildType": "PackageList",
        "runtimeEnvironment": {"pythonVersion": "3.11"},
        "packageVersions": ["pandas>=2"],
    }
)
LOCKED = ResolvedBuild(
    PACKAGES,
    lock=("numpy==2.1.0", "pandas==2.2.3"),
    base="quay.io/opendatahub/notebooks:jupyter-minimal-ubi9-python-3.11",
    python_version="3.11",
)
TAG = LOCKED.tag


def test_names_fit_in_a_dns_label() -> None:
    longest = request({"buildType": "ImportImage", "fromImage": "quay.io/a/b:1"})
    longest = dataclasses.replace(longest, name="x" * 31 + "-notebook")
    resolved = ResolvedBuild(longest, source="quay.io/a/b:1")
    assert len(longest.name) == spec.NAME_MAX
    assert objects.instance_name(resolved) == f"{longest.name}-{resolved.tag}"
    assert len(objects.validation_pod_name(resolved)) <= 63


def test_the_notebook_image_stream_carries_odh_labels_and_annotations() -> None:
    with_url = request(
        {"buildType": "ImportImage", "fromImage": "quay.io/a/b:1"},
        **{"opendatahub.io/notebook-image-url": "https://example.com/pandas"},
    )

    assert objects.image_stream(with_url, phase="Validating") == {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStream",
        "metadata": {
            "name": "pandas-notebook",
            "labels": {
                "opendatahub.io/notebook-image": "true",
                "app.kubernetes.io/created-by": "jupyterhub-ov-builder",
            },
            "annotations": {
                "opendatahub.io/notebook-image-name": "Pandas",
                "opendatahub.io/notebook-image-desc": "Pandas and boto3",
                "opendatahub.io/notebook-image-creator": "alice",
                "opendatahub.io/notebook-image-url": "https://example.com/pandas",
                "opendatahub.io/notebook-image-phase": "Validating",
                "opendatahub.io/notebook-image-messages": "[]",
            },
        },
        "spec": {"lookupPolicy": {"local": True}},
    }


def test_a_package_list_is_a_docker_build_of_an_inline_dockerfile() -> None:
    index = PackageIndex(
        index_url="https://pypi.example.com/simple",
        extra_index_urls=("https://extra.example.com/simple",),
        find_links=("/srv/wheels",),  # local to the service: never in a cluster build
    )

    config = objects.build_config(LOCKED, index=index)

    builder = "quay.io/opendatahub/notebooks:jupyter-minimal-ubi9-python-3.11"
    assert config == {
        "apiVersion": "build.openshift.io/v1",
        "kind": "BuildConfig",
        "metadata": {
            "name": f"pandas-notebook-{TAG}",
            "labels": {
                "app.kubernetes.io/created-by": "jupyterhub-ov-builder",
                "app.kubernetes.io/part-of": "jupyterhub-ov",
                "app.kubernetes.io/component": "image-build",
                "app.kubernetes.io/instance": f"pandas-notebook-{TAG}",
            },
            "annotations": {"opendatahub.io/notebook-image-name": "Pandas"},
        },
        "spec": {
            "runPolicy": "Serial",
            "source": {
                "type": "Dockerfile",
                "dockerfile": (
                    f"FROM {builder}\n"
                    "RUN python3 -m pip install --no-cache-dir --no-deps"
                    " --index-url https://pypi.example.com/simple"
                    " --extra-index-url https://extra.example.com/simple \\\n"
                    "    numpy==2.1.0 \\\n"
                    "    pandas==2.2.3\n"
                ),
            },
            "strategy": {
                "type": "Docker",
                "dockerStrategy": {
                    "from": {"kind": "DockerImage", "name": builder},
                    # what pip in the builder image reads, as in s2i builds
                    "env": [
                        {"name": "PIP_INDEX_URL", "value": "https://pypi.example.com/simple"},
                        {
                            "name": "PIP_EXTRA_INDEX_URL",
                            "value": "https://extra.example.com/simple",
                        },
                    ],
                },
            },
            "output": {"to": {"kind": "ImageStreamTag", "name": f"pandas-notebook:{TAG}"}},
            "triggers": [],
            "successfulBuildsHistoryLimit": 1,
            "failedBuildsHistoryLimit": 2,
        },
    }


def test_pins_are_shell_quoted_in_the_dockerfile() -> None:
    text = objects.dockerfile("b:1", ["weird==1.0; python_version >= '3.8'"], PackageIndex())
    run = text.split("RUN ", 1)[1].replace("\\\n", " ")
    assert shlex.split(run)[-1] == "weird==1.0; python_version >= '3.8'"


def test_a_repository_is_an_s2i_build_of_the_resolved_commit() -> None:
    repo = request(
        {"buildType": "GitRepository", "repositoryUrl": "https://github.com/org/nb", "gitRef": "v1"}
    )
    resolved = ResolvedBuild(repo, commit="a" * 40, base="quay.io/b:3.11", python_version="3.11")

    config = objects.build_config(resolved, index=PackageIndex())

    assert config["spec"]["source"] == {
        "type": "Git",
        "git": {"uri": "https://github.com/org/nb", "ref": "a" * 40},
    }
    assert config["spec"]["strategy"] == {
        "type": "Source",
        "sourceStrategy": {"from": {"kind": "DockerImage", "name": "quay.io/b:3.11"}},
    }
    assert config["spec"]["output"]["to"]["name"] == f"pandas-notebook:{resolved.tag}"
    other_commit = ResolvedBuild(repo, commit="b" * 40, base="quay.io/b:3.11")
    assert other_commit.tag != resolved.tag  # the tag names the commit


def test_the_openvino_notebook_is_a_docker_build_of_the_repositorys_own_dockerfile() -> None:
    commit = "c0ffee" + "0" * 34
    request = spec.BuildRequest(
        name="openvino-notebook",
        build_type=spec.BuildType.GIT_REPOSITORY,
        display_name="OpenVINO™ Toolkit v2024",
        description="OpenVINO™ Toolkit notebooks",
        creator="notebooks.intel.com/redhat-ods-applications/v2024",
        repository_url="https://github.com/openvinotoolkit/openvino_notebooks",
        git_ref=commit,
        tag="v2024",
        strategy=spec.DOCKERFILE,
    )
    resolved = ResolvedBuild(request, commit=commit)  # the Dockerfile names its own base

    config = objects.build_config(resolved, index=PackageIndex())

    assert config == {
        "apiVersion": "build.openshift.io/v1",
        "kind": "BuildConfig",
        "metadata": {
            "name": "openvino-notebook-v2024",
            "labels": {
                "app.kubernetes.io/created-by": "jupyterhub-ov-builder",
                "app.kubernetes.io/part-of": "jupyterhub-ov",
                "app.kubernetes.io/component": "image-build",
                "app.kubernetes.io/instance": "openvino-notebook-v2024",
            },
            "annotations": {"opendatahub.io/notebook-image-name": "OpenVINO™ Toolkit v2024"},
        },
        "spec": {
            "runPolicy": "Serial",
            "source": {
                "type": "Git",
                "git": {
                    "uri": "https://github.com/openvinotoolkit/openvino_notebooks",
                    "ref": commit,
                },
            },
            "strategy": {"type": "Docker", "dockerStrategy": {}},
            "output": {"to": {"kind": "ImageStreamTag", "name": "openvino-notebook:v2024"}},
            "triggers": [],
            "successfulBuildsHistoryLimit": 1,
            "failedBuildsHistoryLimit": 2,
        },
    }


def test_build_request_is_what_oc_start_build_sends() -> None:
    assert objects.build_request(f"pandas-notebook-{TAG}") == {
        "kind": "BuildRequest",
        "apiVersion": "build.openshift.io/v1",
        "metadata": {"name": f"pandas-notebook-{TAG}"},
        "triggeredBy": [{"message": "Started by the jupyterhub-ov build service"}],
    }


def test_an_import_is_staged_in_a_stream_no_menu_offers() -> None:
    imported = request({"buildType": "ImportImage", "fromImage": "quay.io/org/nb:2024.1"})
    resolved = ResolvedBuild(imported, source="quay.io/org/nb:2024.1")
    tag = resolved.tag

    staging = objects.staging_stream(resolved)

    assert staging == {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStream",
        "metadata": {
            "name": f"pandas-notebook-{tag}",
            "labels": {
                "app.kubernetes.io/created-by": "jupyterhub-ov-builder",
                "app.kubernetes.io/part-of": "jupyterhub-ov",
                "app.kubernetes.io/component": "image-import",
                "app.kubernetes.io/instance": f"pandas-notebook-{tag}",
            },
        },
        "spec": {
            "lookupPolicy": {"local": False},
            "tags": [
                {
                    "name": tag,
                    "from": {"kind": "DockerImage", "name": "quay.io/org/nb:2024.1"},
                    "importPolicy": {},
                    "referencePolicy": {"type": "Source"},
                }
            ],
        },
    }
    assert not staging["metadata"]["name"].endswith("-notebook")


def test_published_tags_record_the_software_and_where_an_import_came_from() -> None:
    software = {
        "opendatahub.io/notebook-software": json.dumps([{"name": "Python", "version": "3.11"}])
    }

    built = objects.published_tag("abc", software)
    imported = objects.published_tag(
        "abc", software, imported_from="quay.io/org/nb:1", pinned="quay.io/org/nb@sha256:f00"
    )

    assert built == {
        "name": "abc",
        "annotations": software,
        "referencePolicy": {"type": "Source"},
    }
    assert imported == {
        "name": "abc",
        "from": {"kind": "DockerImage", "name": "quay.io/org/nb@sha256:f00"},
        "importPolicy": {},
        "referencePolicy": {"type": "Source"},
        "annotations": {"openshift.io/imported-from": "quay.io/org/nb:1", **software},
    }


def test_the_validation_pod_runs_the_check_with_least_privileges() -> None:
    resources = {"limits": {"cpu": "1", "memory": "2Gi"}}

    pod = objects.validation_pod(
        LOCKED,
        "registry/ns/pandas-notebook@sha256:1",
        command=["python3", "-c", "print(1)", "60"],
        resources=resources,
        deadline=600.5,
    )

    assert pod == {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"pandas-notebook-{TAG}-validate",
            "labels": {
                "app.kubernetes.io/created-by": "jupyterhub-ov-builder",
                "app.kubernetes.io/part-of": "jupyterhub-ov",
                "app.kubernetes.io/component": "image-validation",
                "app.kubernetes.io/instance": f"pandas-notebook-{TAG}",
            },
        },
        "spec": {
            "restartPolicy": "Never",
            "activeDeadlineSeconds": 600,
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "containers": [
                {
                    "name": "check",
                    "image": "registry/ns/pandas-notebook@sha256:1",
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["python3", "-c", "print(1)", "60"],
                    "resources": resources,
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "capabilities": {"drop": ["ALL"]},
                        "runAsNonRoot": True,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                }
            ],
        },
    }


NETWORK = objects.BuildNetwork(
    http_proxy="http://proxy.corp:3128",
    https_proxy="http://bob:pw@proxy.corp:3128",
    no_proxy=".svc,.cluster.local",
    env=(("PIP_CERT", "/etc/pki/corp.pem"), ("NO_PROXY", ".svc,.cluster.local,.corp")),
)
INDEX = PackageIndex(
    index_url="https://pypi.corp/simple",
    extra_index_urls=("https://a.corp/simple", "https://b.corp/simple"),
)
#: the strategy env of NETWORK and INDEX: proxies in both cases, pip's index, then the
#: admin's variables, which win (NO_PROXY)
NETWORK_ENV = [
    {"name": "HTTP_PROXY", "value": "http://proxy.corp:3128"},
    {"name": "http_proxy", "value": "http://proxy.corp:3128"},
    {"name": "HTTPS_PROXY", "value": "http://bob:pw@proxy.corp:3128"},
    {"name": "https_proxy", "value": "http://bob:pw@proxy.corp:3128"},
    {"name": "NO_PROXY", "value": ".svc,.cluster.local,.corp"},
    {"name": "no_proxy", "value": ".svc,.cluster.local"},
    {"name": "PIP_INDEX_URL", "value": "https://pypi.corp/simple"},
    {"name": "PIP_EXTRA_INDEX_URL", "value": "https://a.corp/simple https://b.corp/simple"},
    {"name": "PIP_CERT", "value": "/etc/pki/corp.pem"},
]


def test_a_package_list_build_gets_the_proxies_and_index_in_its_strategy_env() -> None:
    config = objects.build_config(LOCKED, index=INDEX, network=NETWORK)

    builder = {"kind": "DockerImage", "name": LOCKED.base}
    assert config["spec"]["strategy"] == {
        "type": "Docker",
        "dockerStrategy": {"from": builder, "env": NETWORK_ENV},
    }
    assert config["spec"]["source"]["type"] == "Dockerfile"  # no git: no git proxy fields


def test_a_repository_build_clones_through_the_proxy_and_builds_with_its_env() -> None:
    repo = request({"buildType": "GitRepository", "repositoryUrl": "https://github.com/org/nb"})
    resolved = ResolvedBuild(repo, commit="a" * 40, base="quay.io/b:3.11", python_version="3.11")

    config = objects.build_config(resolved, index=INDEX, network=NETWORK)

    assert config["spec"]["source"] == {
        "type": "Git",
        "git": {
            "uri": "https://github.com/org/nb",
            "ref": "a" * 40,
            "httpProxy": "http://proxy.corp:3128",
            "httpsProxy": "http://bob:pw@proxy.corp:3128",
            "noProxy": ".svc,.cluster.local",
        },
    }
    assert config["spec"]["strategy"] == {
        "type": "Source",
        "sourceStrategy": {
            "from": {"kind": "DockerImage", "name": "quay.io/b:3.11"},
            "env": NETWORK_ENV,
        },
    }


def test_a_repositorys_own_dockerfile_gets_the_env_and_only_the_proxies_set() -> None:
    commit = "c" * 40
    own = request({"buildType": "GitRepository", "repositoryUrl": "https://github.com/org/nb"})
    resolved = ResolvedBuild(dataclasses.replace(own, strategy=spec.DOCKERFILE), commit=commit)
    only_https = objects.BuildNetwork(https_proxy="http://proxy.corp:3128")

    config = objects.build_config(resolved, index=PackageIndex(), network=only_https)

    assert config["spec"]["source"]["git"] == {
        "uri": "https://github.com/org/nb",
        "ref": commit,
        "httpsProxy": "http://proxy.corp:3128",
    }
    assert config["spec"]["strategy"] == {
        "type": "Docker",
        "dockerStrategy": {
            "env": [
                {"name": "HTTPS_PROXY", "value": "http://proxy.corp:3128"},
                {"name": "https_proxy", "value": "http://proxy.corp:3128"},
            ]
        },
    }


def test_without_network_settings_the_build_config_has_no_env() -> None:
    assert objects.build_config(LOCKED, index=PackageIndex(), network=objects.BuildNetwork()) == (
        objects.build_config(LOCKED, index=PackageIndex())
    )
    strategy = objects.build_config(LOCKED, index=PackageIndex())["spec"]["strategy"]
    assert "env" not in strategy["dockerStrategy"]
