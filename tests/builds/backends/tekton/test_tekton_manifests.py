"""The Tekton PipelineRun of a build, compared with literal manifests (no cluster needed).

No Tekton schema is bundled with our test dependencies (kubernetes-validate has only the
core kinds), so what Tekton v1 requires of a PipelineRun with an embedded pipeline is
checked structurally (`v1_problems`).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from jupyterhub_ov_sim import podsecurity, scc

from jupyterhub_ov.builds.backends.openshift import objects
from jupyterhub_ov.builds.backends.tekton import manifests
from jupyterhub_ov.builds.backends.tekton.manifests import RunSettings, TektonImages
from jupyterhub_ov.builds.model import spec
from jupyterhub_ov.builds.model.index import PackageIndex
from jupyterhub_ov.builds.model.spec import ResolvedBuild

POLICY = spec.SpecPolicy()
ANNOTATIONS = {
    "opendatahub.io/notebook-image-name": "Pandas",
    "opendatahub.io/notebook-image-desc": "Pandas and boto3",
}
IMAGES = TektonImages(buildah="quay.io/b/buildah:1", git="quay.io/b/git:1", s2i="quay.io/b/s2i:1")
BASE = "quay.io/opendatahub/notebooks:jupyter-minimal-ubi9-python-3.11"
RESTRICTED = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}
NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def request(build_spec: dict[str, Any]) -> spec.BuildRequest:
    body = {"metadata": {"name": "pandas", "annotations": ANNOTATIONS}, "spec": build_spec}
    return spec.parse_request(body, creator="alice", policy=POLICY)


PACKAGES = ResolvedBuild(
    request({"buildType": "PackageList", "packageVersions": ["pandas>=2"]}),
    lock=("numpy==2.1.0", "pandas==2.2.3"),
    base=BASE,
    python_version="3.11",
)
REPOSITORY = ResolvedBuild(
    request({"buildType": "GitRepository", "repositoryUrl": "https://github.com/o/nb.git"}),
    commit="0123456789abcdef0123456789abcdef01234567",
    base=BASE,
    python_version="3.11",
)
SETTINGS = RunSettings(images=IMAGES, index=PackageIndex(index_url="https://pypi.example/simple"))


def v1_problems(run: dict[str, Any]) -> list[str]:
    """What Tekton v1's validation refuses in a PipelineRun with an embedded pipeline."""
    problems = []
    if run.get("apiVersion") != "tekton.dev/v1" or run.get("kind") != "PipelineRun":
        problems.append("not a tekton.dev/v1 PipelineRun")
    if not NAME.match(run["metadata"]["name"]) or len(run["metadata"]["name"]) > 63:
        problems.append("metadata.name is not a DNS label")
    run_spec, pipeline = run["spec"], run["spec"]["pipelineSpec"]
    declared = {p["name"] for p in pipeline.get("params") or []}
    given = {p["name"] for p in run_spec.get("params") or []}
    problems += [f"param {n} is not declared" for n in sorted(given - declared)]
    problems += [f"param {n} has no value" for n in sorted(declared - given)]
    workspaces = {w["name"] for w in pipeline.get("workspaces") or []}
    bound = {w["name"] for w in run_spec.get("workspaces") or []}
    problems += [f"workspace {n} is not bound" for n in sorted(workspaces - bound)]
    for task in pipeline["tasks"]:
        task_spec = task["taskSpec"]
        if not NAME.match(task["name"]):
            problems.append(f"task name {task['name']} is not a DNS label")
        task_params = {p["name"] for p in task_spec.get("params") or []}
        passed = {p["name"] for p in task.get("params") or []}
        problems += [f"task param {n} is not passed" for n in sorted(task_params - passed)]
        names = [s["name"] for s in task_spec["steps"]]
        if len(set(names)) != len(names):
            problems.append("step names repeat")
        for step in task_spec["steps"]:
            if not step.get("image") or not NAME.match(step["name"]):
                problems.append(f"step {step['name']} lacks an image or a DNS-label name")
            if step.get("script") and step.get("command"):
                problems.append(f"step {step['name']} has both script and command")
        results = {r["name"] for r in task_spec.get("results") or []}
        for result in pipeline.get("results") or []:
            found = re.fullmatch(r"\$\(tasks\.([^.]+)\.results\.([^.)]+)\)", result["value"])
            if not found or found.group(1) != task["name"] or found.group(2) not in results:
                problems.append(f"pipeline result {result['name']} names no task result")
    return problems


def test_a_package_list_is_a_pipeline_run_of_the_inline_dockerfile() -> None:
    name = objects.instance_name(PACKAGES)
    output = f"image-registry.openshift-image-registry.svc:5000/ns/{PACKAGES.image}"
    dockerfile = objects.dockerfile(BASE, PACKAGES.lock, SETTINGS.index)
    names = ["name", "description", "creator", "outputImage", "baseImage", "dockerfile"]
    values = [PACKAGES.request.name, "Pandas and boto3", "alice", output, BASE, dockerfile]
    build = (
        "set -e\nbuildah --storage-driver=vfs bud --isolation=chroot --format=oci --no-cache"
        ' --tls-verify=true -f "$(workspaces.data.path)/Dockerfile" -t "$(params.outputImage)"'
        ' "$(workspaces.data.path)"\n'
    )
    push = (
        "set -e\nbuildah --storage-driver=vfs push --tls-verify=true"
        ' --digestfile "$(results.IMAGE_DIGEST.path)" "$(params.outputImage)"'
        ' "docker://$(params.outputImage)"\n'
        'printf %s "$(params.outputImage)" > "$(results.IMAGE_URL.path)"\n'
    )

    run = manifests.pipeline_run(PACKAGES, namespace="ns", settings=SETTINGS)

    assert run == {
        "apiVersion": "tekton.dev/v1",
        "kind": "PipelineRun",
        "metadata": {
            "name": name,
            "labels": {
                "app.kubernetes.io/created-by": "jupyterhub-ov-builder",
                "app.kubernetes.io/part-of": "jupyterhub-ov",
                "app.kubernetes.io/component": "image-build",
                "app.kubernetes.io/instance": name,
            },
            "annotations": {"opendatahub.io/notebook-image-name": "Pandas"},
        },
        "spec": {
            "pipelineSpec": {
                "params": [{"name": n, "type": "string"} for n in names],
                "workspaces": [{"name": "data"}],
                "tasks": [
                    {
                        "name": "build",
                        "params": [{"name": n, "value": f"$(params.{n})"} for n in names],
                        "workspaces": [{"name": "data", "workspace": "data"}],
                        "taskSpec": {
                            "params": [{"name": n, "type": "string"} for n in names],
                            "workspaces": [{"name": "data"}],
                            "results": [{"name": "IMAGE_DIGEST"}, {"name": "IMAGE_URL"}],
                            "stepTemplate": {
                                "securityContext": RESTRICTED,
                                "env": [
                                    {
                                        "name": "PIP_INDEX_URL",
                                        "value": "https://pypi.example/simple",
                                    }
                                ],
                            },
                            "steps": [
                                {
                                    "name": "dockerfile",
                                    "image": IMAGES.buildah,
                                    "env": [
                                        {"name": "DOCKERFILE", "value": "$(params.dockerfile)"}
                                    ],
                                    "script": 'set -e\nprintf "%s" "$DOCKERFILE" >'
                                    ' "$(workspaces.data.path)/Dockerfile"\n',
                                },
                                {"name": "build", "image": IMAGES.buildah, "script": build},
                                {"name": "push", "image": IMAGES.buildah, "script": push},
                            ],
                        },
                    }
                ],
                "results": [
                    {
                        "name": "IMAGE_DIGEST",
                        "type": "string",
                        "value": "$(tasks.build.results.IMAGE_DIGEST)",
                    },
                    {
                        "name": "IMAGE_URL",
                        "type": "string",
                        "value": "$(tasks.build.results.IMAGE_URL)",
                    },
                ],
            },
            "params": [{"name": n, "value": v} for n, v in zip(names, values, strict=True)],
            "workspaces": [{"name": "data", "emptyDir": {}}],
            "timeouts": {"pipeline": "1h0m0s"},
        },
    }
    assert v1_problems(run) == []


def test_a_repository_is_cloned_at_its_commit_and_built_with_s2i() -> None:
    settings = RunSettings(images=IMAGES, index=PackageIndex(), service_account="pipeline")

    run = manifests.pipeline_run(REPOSITORY, namespace="ns", settings=settings)

    assert v1_problems(run) == []
    assert run["spec"]["taskRunTemplate"] == {"serviceAccountName": "pipeline"}
    params = {p["name"]: p["value"] for p in run["spec"]["params"]}
    assert params["url"] == "https://github.com/o/nb.git"
    assert params["ref"] == REPOSITORY.commit and params["baseImage"] == BASE
    task = run["spec"]["pipelineSpec"]["tasks"][0]["taskSpec"]
    assert "env" not in task["stepTemplate"]  # no proxy, no index: nothing added
    steps = {s["name"]: s for s in task["steps"]}
    assert list(steps) == ["git-clone", "generate", "build", "push"]
    assert steps["git-clone"]["image"] == IMAGES.git
    assert 'git checkout --quiet "$(params.ref)"' in steps["git-clone"]["script"]
    assert steps["generate"] == {
        "name": "generate",
        "image": IMAGES.s2i,
        "script": 'set -e\ns2i build "$(workspaces.data.path)/source" "$(params.baseImage)"'
        ' --as-dockerfile "$(workspaces.data.path)/gen/Dockerfile"\n',
    }
    assert '-f "$(workspaces.data.path)/gen/Dockerfile"' in steps["build"]["script"]


def test_a_repository_with_its_own_dockerfile_skips_s2i_and_the_proxies_reach_every_step() -> None:
    dockerfile = dataclasses.replace(REPOSITORY.request, strategy=spec.DOCKERFILE)
    own = ResolvedBuild(dockerfile, commit=REPOSITORY.commit)
    network = objects.BuildNetwork(https_proxy="http://proxy:3128", env=(("PIP_CERT", "/c"),))
    settings = RunSettings(images=IMAGES, index=PackageIndex(), network=network, tls_verify=False)

    run = manifests.pipeline_run(own, namespace="ns", settings=settings)

    assert v1_problems(run) == []
    assert "baseImage" not in {p["name"] for p in run["spec"]["params"]}
    task = run["spec"]["pipelineSpec"]["tasks"][0]["taskSpec"]
    assert [s["name"] for s in task["steps"]] == ["git-clone", "build", "push"]
    assert task["stepTemplate"]["env"] == [
        {"name": "HTTPS_PROXY", "value": "http://proxy:3128"},
        {"name": "https_proxy", "value": "http://proxy:3128"},
        {"name": "PIP_CERT", "value": "/c"},
    ]
    build = task["steps"][1]["script"]
    assert "--tls-verify=false" in build
    assert '-f "$(workspaces.data.path)/source/Dockerfile"' in build


def test_the_structural_check_finds_what_tekton_refuses() -> None:
    run = manifests.pipeline_run(PACKAGES, namespace="ns", settings=SETTINGS)
    run["spec"]["params"].pop()
    run["spec"]["workspaces"] = []
    run["spec"]["pipelineSpec"]["tasks"][0]["taskSpec"]["steps"][1]["name"] = "dockerfile"

    assert v1_problems(run) == [
        "param dockerfile has no value",
        "workspace data is not bound",
        "step names repeat",
    ]


def test_cancelling_sets_spec_status_and_keeps_the_rest() -> None:
    run = manifests.pipeline_run(PACKAGES, namespace="ns", settings=SETTINGS)

    cancelled = manifests.cancel(run)

    assert cancelled["spec"] == {**run["spec"], "status": "Cancelled"}
    assert cancelled["metadata"] == run["metadata"] and "status" not in run["spec"]


def test_the_task_pods_steps_are_restricted() -> None:
    """The pod Tekton makes for the task: each step a container under the stepTemplate (a
    step's own securityContext would replace the template's); judged by the simulator's
    restricted Pod Security Standard and restricted-v2 checks."""
    for resolved in (PACKAGES, REPOSITORY):
        run = manifests.pipeline_run(resolved, namespace="team", settings=SETTINGS)
        task = run["spec"]["pipelineSpec"]["tasks"][0]["taskSpec"]
        template = task["stepTemplate"]
        containers = [{**template, **step} for step in task["steps"]]
        pod = {"metadata": {"name": "task-pod"}, "spec": {"containers": containers}}
        assert podsecurity.check_pod(pod) == [], resolved.request.build_type
        namespace = {"metadata": {"annotations": {scc.UID_RANGE: "1000650000/10000"}}}
        assert scc.restricted_v2(pod, namespace) == []
