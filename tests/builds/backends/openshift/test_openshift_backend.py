"""What only the OpenShift backend does, seen through the simulator's API over HTTP."""

# The client annotates bodies as models; it accepts dicts.
# mypy: disable-error-code="arg-type"

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from jupyterhub_ov_sim import imagestreams
from jupyterhub_ov_sim.builds import output_digest
from kubernetes_asyncio import client, watch
from traitlets import TraitError

from jupyterhub_ov.builds.backends.base import DETACH
from jupyterhub_ov.builds.backends.openshift import objects
from jupyterhub_ov.builds.backends.openshift.backend import OpenShiftBuildBackend
from jupyterhub_ov.builds.errors import BuildFailed
from jupyterhub_ov.builds.model import phases, spec
from jupyterhub_ov.builds.model.phases import Phase
from jupyterhub_ov.images import model
from tests.builds.cases import FAIL, OK, SLOW, offered_within
from tests.builds.cases.openshift import (
    BUILDER,
    FAILING_IMPORT,
    FAILING_PACKAGE,
    NAMESPACE,
    NO_LAB_IMPORT,
    SLOW_PACKAGE,
    OpenShiftCase,
    case_in,
    settled,
)
from tests.builds.harness import RecordingReporter, resolve, run_build

ODH_LABELS = {
    "opendatahub.io/notebook-image": "true",
    "app.kubernetes.io/created-by": "jupyterhub-ov-builder",
}


@pytest.fixture
async def oc(tmp_path: Path) -> AsyncIterator[OpenShiftCase]:
    async with case_in(tmp_path) as the_case:
        yield the_case


@asynccontextmanager
async def validation_pods(oc: OpenShiftCase) -> AsyncIterator[list[dict[str, Any]]]:
    """Every validation pod created meanwhile, as the API server stored it (by watch)."""
    selector = "app.kubernetes.io/component=image-validation"
    listed = await oc.core.list_namespaced_pod(NAMESPACE, label_selector=selector)
    seen: list[dict[str, Any]] = []

    async def follow() -> None:
        async with watch.Watch() as stream:
            async for event in stream.stream(
                oc.core.list_namespaced_pod,
                NAMESPACE,
                label_selector=selector,
                resource_version=listed.metadata.resource_version,
                timeout_seconds=300,
            ):
                if event["type"] == "ADDED":
                    seen.append(event["raw_object"])

    task = asyncio.create_task(follow())
    try:
        yield seen
    finally:
        task.cancel()


def package_request(name: str, *packages: str) -> spec.BuildRequest:
    body = {
        "metadata": {
            "name": name,
            "annotations": {
                "opendatahub.io/notebook-image-name": "Tiny",
                "opendatahub.io/notebook-image-desc": "Tiny packages",
            },
        },
        "spec": {"buildType": "PackageList", "packageVersions": list(packages)},
    }
    return spec.parse_request(body, creator="admin", policy=spec.SpecPolicy())


async def test_a_package_list_build_leaves_exactly_the_odh_objects(oc: OpenShiftCase) -> None:
    request = oc.request(spec.BuildType.PACKAGE_LIST)
    async with validation_pods(oc) as pods:
        published, resolved, reporter = await run_build(oc.backend, request)

    build_name = reporter.remembered[0]
    assert reporter.remembered == [build_name, f"{build_name}/validating"]
    stream = await oc.stream(request.name)
    assert stream is not None
    assert stream["metadata"]["labels"] == ODH_LABELS
    annotations = stream["metadata"]["annotations"]
    messages = json.loads(annotations.pop(model.ANN_MESSAGES))
    assert annotations == {
        model.ANN_NAME: "Tiny packages",
        model.ANN_DESC: "pkgs for the tests",
        model.ANN_CREATOR: "admin",
        model.ANN_PHASE: "Succeeded",
    }
    (message,) = messages
    assert message["severity"] == "info"
    assert message["message"].startswith(f"Tag {resolved.tag} passed validation: Python 3.")
    assert message["message"].endswith("jupyterhub-singleuser started and answered")
    (tag,) = stream["spec"]["tags"]
    assert tag["name"] == resolved.tag and "from" not in tag  # pushed by the build
    software = json.loads(tag["annotations"][model.ANN_SOFTWARE])
    assert software == [{"name": "Python", "version": published.python_version}]
    dependencies = json.loads(tag["annotations"][model.ANN_DEPENDENCIES])
    assert dependencies == [{"name": p.name, "version": p.version} for p in published.packages]

    config = await oc.observer.get(objects.BUILD_CONFIGS, objects.instance_name(resolved))
    expected = objects.build_config(resolved, index=oc.backend.package_index)
    assert config is not None and config["spec"] == expected["spec"]
    assert config["metadata"]["labels"] == expected["metadata"]["labels"]
    assert resolved.lock == ("tinydep==2.0", "tinypkg==1.1")  # resolved in the service
    asked = oc.builds.seen(build_name)  # what the cluster build was given
    assert (asked.strategy, asked.builder, asked.output) == ("Docker", BUILDER, resolved.image)
    assert asked.dockerfile.endswith("--no-deps \\\n    tinydep==2.0 \\\n    tinypkg==1.1\n")
    build = await oc.observer.get(objects.BUILDS, build_name)
    assert build is not None and build["status"]["phase"] == "Complete"
    assert build["spec"]["triggeredBy"] == [{"message": objects.TRIGGER_MESSAGE}]
    assert f"STEP 1/3: FROM {BUILDER}" in reporter.lines and "Push successful" in reporter.lines

    (pod,) = pods
    assert pod["metadata"]["name"] == objects.validation_pod_name(resolved)
    assert pod["metadata"]["labels"]["app.kubernetes.io/component"] == "image-validation"
    (container,) = pod["spec"]["containers"]
    assert container["image"] == published.reference
    assert container["command"][:2] == ["python3", "-c"]
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert not await oc.pod_exists(pod["metadata"]["name"])  # deleted once read


async def test_a_repository_is_built_with_s2i_at_the_resolved_commit(oc: OpenShiftCase) -> None:
    published, resolved, reporter = await run_build(
        oc.backend, oc.request(spec.BuildType.GIT_REPOSITORY)
    )

    asked = oc.builds.seen(reporter.remembered[0])
    assert re.fullmatch(r"[0-9a-f]{40}", resolved.commit)
    assert (asked.strategy, asked.builder) == ("Source", BUILDER)
    assert (asked.git_uri, asked.git_ref) == (oc.repositories[OK], resolved.commit)
    assert f'Cloning "{oc.repositories[OK]}" ...' in reporter.lines
    assert published.reference.startswith(f"{imagestreams.REGISTRY}/{NAMESPACE}/repo-notebook@")


async def test_the_cluster_build_gets_the_configured_proxies_and_env(tmp_path: Path) -> None:
    network = {
        "https_proxy": "http://proxy.corp:3128",
        "no_proxy": ".svc",
        "build_env": {"PIP_CERT": "/etc/pki/corp.pem"},
    }
    async with case_in(tmp_path, **network) as oc:
        _, resolved, reporter = await run_build(
            oc.backend, oc.request(spec.BuildType.GIT_REPOSITORY)
        )
        build = await oc.observer.get(objects.BUILDS, reporter.remembered[0])

    assert build is not None
    git = build["spec"]["source"]["git"]
    assert (git["httpsProxy"], git["noProxy"]) == ("http://proxy.corp:3128", ".svc")
    assert "httpProxy" not in git
    assert build["spec"]["strategy"]["sourceStrategy"]["env"] == [
        {"name": "HTTPS_PROXY", "value": "http://proxy.corp:3128"},
        {"name": "https_proxy", "value": "http://proxy.corp:3128"},
        {"name": "NO_PROXY", "value": ".svc"},
        {"name": "no_proxy", "value": ".svc"},
        {"name": "PIP_CERT", "value": "/etc/pki/corp.pem"},
    ]
    assert resolved.commit == git["ref"]


def test_build_env_names_must_be_variable_names() -> None:
    with pytest.raises(TraitError, match=r"not environment variable names: \['A B', 'X=1'\]"):
        OpenShiftBuildBackend(build_env={"OK": "1", "A B": "2", "X=1": "3"})


async def test_an_import_is_validated_from_a_staging_stream_then_tagged_by_digest(
    oc: OpenShiftCase,
) -> None:
    request = oc.request(spec.BuildType.IMPORT_IMAGE)
    published, resolved, reporter = await run_build(oc.backend, request)

    pinned = imagestreams.pinned_reference(resolved.source)
    assert published.reference == pinned
    assert reporter.remembered == []  # no cluster Build: a restart starts the import anew
    stream = await oc.stream(request.name)
    assert stream is not None
    (tag,) = stream["spec"]["tags"]
    assert tag["from"] == {"kind": "DockerImage", "name": pinned}
    assert tag["annotations"][model.ANN_IMPORTED_FROM] == resolved.source
    assert await oc.stream(objects.instance_name(resolved)) is None  # staging is gone


async def test_cancel_cancels_the_cluster_build_and_a_retry_builds_again(
    oc: OpenShiftCase,
) -> None:
    resolved, reporter = await resolve(oc.backend, oc.request(spec.BuildType.PACKAGE_LIST, SLOW))
    task = asyncio.create_task(oc.backend.build(resolved, reporter))
    await oc.working(resolved, reporter)
    first = reporter.remembered[-1]

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    # the Build was cancelled (its work stopped), then its BuildConfig deleted and the
    # Build with it: a cancel leaves no build objects behind
    assert await settled(lambda: first in oc.builds.cancelled)
    assert await oc.observer.get(objects.BUILD_CONFIGS, objects.instance_name(resolved)) is None
    assert await eventually_none(oc, first)
    stream = await oc.stream(resolved.request.name)
    assert stream is not None
    assert stream["metadata"]["annotations"][model.ANN_PHASE] == "Failed"  # nothing offered
    assert json.loads(stream["metadata"]["annotations"][model.ANN_MESSAGES]) == [
        {"severity": "warning", "message": f"Tag {resolved.tag}: the build was cancelled"}
    ]

    retry = await started(spec.BuildType.PACKAGE_LIST)
    oc.builds.release()
    published = await oc.backend.build(resolved, retry)

    second = retry.remembered[0]  # the BuildConfig is made anew: its first build again
    assert first == second == f"{objects.instance_name(resolved)}-1"
    assert published.image == resolved.image
    stream = await oc.stream(resolved.request.name)
    assert stream is not None and stream["metadata"]["annotations"][model.ANN_PHASE] == "Succeeded"


async def eventually_none(oc: OpenShiftCase, build: str, timeout: float = 10) -> bool:
    """Whether the Build is deleted within ``timeout`` (by the garbage collector)."""
    async with asyncio.timeout(timeout):
        while await oc.observer.get(objects.BUILDS, build) is not None:  # noqa: ASYNC110
            await asyncio.sleep(0.05)  # the garbage collector has no event to wait for
    return True


@pytest.mark.parametrize("stopping", ["manager first", "backend first"])
async def test_a_restarted_service_reattaches_to_the_running_build(
    oc: OpenShiftCase, stopping: str
) -> None:
    resolved, reporter = await resolve(oc.backend, oc.request(spec.BuildType.PACKAGE_LIST, SLOW))
    first = asyncio.create_task(oc.backend.build(resolved, reporter))
    await oc.working(resolved, reporter)
    build = reporter.remembered[-1]

    if stopping == "manager first":  # BuildManager.stop(), then the app stops the backend
        first.cancel(DETACH)
    else:
        await oc.backend.stop()
        first.cancel()
    with pytest.raises((asyncio.CancelledError, BuildFailed)):
        await first
    if stopping == "manager first":
        await oc.backend.stop()
    running = await oc.observer.get(objects.BUILDS, build)
    assert running is not None and running["status"]["phase"] == "Running"
    assert "cancelled" not in running["status"]

    restarted = oc.new_backend()
    await restarted.start()
    finishing = asyncio.create_task(restarted.reattach(resolved, build, reporter))
    await reporter.until(lambda: f"Reattached to the cluster build {build}" in reporter.lines)
    oc.builds.release()
    published = await finishing
    await reporter.succeed()

    assert reporter.path == phases.PATHS[spec.BuildType.PACKAGE_LIST]
    assert reporter.remembered == [build, f"{build}/validating"]
    assert [b["metadata"]["name"] for b in await oc.cluster_builds(resolved)] == [build]
    assert (await offered_within(oc, published.image))[published.image] == published.reference


async def test_a_cluster_build_that_completed_unremembered_while_the_service_was_down_is_adopted(
    oc: OpenShiftCase,
) -> None:
    # killed right after starting its cluster Build, before remembering it (the manager
    # reattaches with no reference); the Build completed while the service was down
    resolved, reporter = await resolve(oc.backend, oc.request(spec.BuildType.PACKAGE_LIST, SLOW))
    first = asyncio.create_task(oc.backend.build(resolved, reporter))
    await oc.working(resolved, reporter)
    restarted = await oc.killed_and_restarted(first)
    oc.release()
    async with asyncio.timeout(30):
        while [b["status"].get("phase") for b in await oc.cluster_builds(resolved)] != [  # noqa: ASYNC110
            "Complete"
        ]:
            await asyncio.sleep(0.05)  # the simulated build ends on its own

    published = await restarted.reattach(resolved, "", reporter)
    await reporter.succeed()

    built = [b["metadata"]["name"] for b in await oc.cluster_builds(resolved)]
    assert built == [f"{objects.instance_name(resolved)}-1"]  # adopted, not built again
    assert reporter.remembered[-2:] == [built[0], f"{built[0]}/validating"]
    assert (await offered_within(oc, published.image))[published.image] == published.reference


async def test_a_restart_during_validation_validates_again(oc: OpenShiftCase) -> None:
    resolved, reporter = await resolve(oc.backend, oc.request(spec.BuildType.PACKAGE_LIST))
    kubelet = oc.cluster.kubelet
    assert kubelet is not None
    # the image this build will push hangs in validation (its python3 never finishes)
    hanging = oc.cluster.options.image_env[imagestreams.pinned_reference("quay.io/example/hangs:1")]
    original = oc.builds.__call__

    async def pushed_image_hangs(build: dict[str, Any], log: Any) -> Any:
        name = build["spec"]["output"]["to"]["name"].split(":")[0]
        reference = f"{imagestreams.internal_repository(NAMESPACE, name)}@{output_digest(build)}"
        kubelet.image_env[reference] = hanging
        return await original(build, log)

    oc.cluster.builds.behaviour = pushed_image_hangs  # type: ignore[union-attr]
    first = asyncio.create_task(oc.backend.build(resolved, reporter))
    await reporter.until(lambda: any(r.endswith("/validating") for r in reporter.remembered))
    pod = objects.validation_pod_name(resolved)
    assert await settled(lambda: any(r.name == pod for r in kubelet.pods.values()))
    restarted = await oc.killed_and_restarted(first)
    kubelet.image_env.clear()  # the restarted validation runs normally
    published = await restarted.reattach(resolved, reporter.remembered[-1], reporter)
    await reporter.succeed()

    assert reporter.path == phases.PATHS[spec.BuildType.PACKAGE_LIST]  # no phase reported twice
    assert published.image == resolved.image
    assert not await oc.pod_exists(pod)
    # the hung pod held the name: refused (409), replaced, then the new one was created
    assert oc.cluster.server.counters.get("create", "pods") == 3


async def test_an_import_failure_reports_the_registrys_message(oc: OpenShiftCase) -> None:
    resolved, reporter = await resolve(oc.backend, oc.request(spec.BuildType.IMPORT_IMAGE, FAIL))

    with pytest.raises(BuildFailed) as failed:
        await oc.backend.build(resolved, reporter)

    registry = f'dockerimage.image.openshift.io "{FAILING_IMPORT}" not found (NotFound)'
    assert str(failed.value) == f"The image {FAILING_IMPORT} could not be imported: {registry}"
    stream = await oc.stream(resolved.request.name)
    assert stream is not None
    annotations = stream["metadata"]["annotations"]
    assert annotations[model.ANN_PHASE] == "Failed"
    assert json.loads(annotations[model.ANN_MESSAGES]) == [
        {"severity": "error", "message": f"Tag {resolved.tag}: {failed.value}"}
    ]


async def test_an_image_failing_validation_is_never_offered(oc: OpenShiftCase) -> None:
    body = {
        "metadata": {
            "name": "no-lab",
            "annotations": {
                "opendatahub.io/notebook-image-name": "No lab",
                "opendatahub.io/notebook-image-desc": "An image without JupyterLab",
            },
        },
        "spec": {"buildType": "ImportImage", "fromImage": NO_LAB_IMPORT},
    }
    request = spec.parse_request(body, creator="admin", policy=spec.SpecPolicy())
    resolved, reporter = await resolve(oc.backend, request)

    with pytest.raises(BuildFailed) as failed:
        await oc.backend.build(resolved, reporter)

    assert str(failed.value).startswith("The image failed validation: import jupyterhub failed")
    assert "import jupyterlab failed: ModuleNotFoundError" in str(failed.value)
    assert reporter.path[-1] is Phase.VALIDATING
    assert await oc.leftovers(resolved) == []
    stream = await oc.stream(request.name)
    assert stream is not None and stream["metadata"]["annotations"][model.ANN_PHASE] == "Failed"


async def test_a_rebuild_keeps_the_validated_tags_offered(oc: OpenShiftCase) -> None:
    old, old_resolved, _ = await run_build(oc.backend, package_request("tiny", "tinypkg==1.0"))
    await offered_within(oc, old.image)

    newer = package_request("tiny", "tinypkg==1.1", SLOW_PACKAGE)
    resolved, reporter = await resolve(oc.backend, newer)
    oc.builds.hold = lambda build: build.config == objects.instance_name(resolved)
    task = asyncio.create_task(oc.backend.build(resolved, reporter))
    await oc.working(resolved, reporter)
    offered = await oc.offered()
    stream = await oc.stream("tiny-notebook")
    assert stream is not None and stream["metadata"]["annotations"][model.ANN_PHASE] == "Succeeded"
    assert old.image in offered and resolved.image not in offered  # while the new one builds
    oc.builds.release()
    new = await task
    assert {old.image, new.image} <= set(await offered_within(oc, new.image))

    failing, failing_reporter = await resolve(
        oc.backend, package_request("tiny", "tinypkg==1.0", FAILING_PACKAGE)
    )
    oc.builds.fail = lambda build: build.config == objects.instance_name(failing)
    with pytest.raises(BuildFailed, match="DockerBuildFailed"):
        await oc.backend.build(failing, failing_reporter)
    stream = await oc.stream("tiny-notebook")
    assert stream is not None
    assert stream["metadata"]["annotations"][model.ANN_PHASE] == "Succeeded"  # still offers two
    assert [t["name"] for t in stream["spec"]["tags"]] == [old_resolved.tag, resolved.tag]
    assert "DockerBuildFailed" in stream["metadata"]["annotations"][model.ANN_MESSAGES]


async def test_a_new_build_joins_a_cluster_build_left_running(oc: OpenShiftCase) -> None:
    """After a restart without reattach (e.g. the record was lost), building the same
    image again follows the cluster build still running instead of starting another."""
    resolved, first_reporter = await resolve(
        oc.backend, oc.request(spec.BuildType.GIT_REPOSITORY, SLOW)
    )
    first = asyncio.create_task(oc.backend.build(resolved, first_reporter))
    await oc.working(resolved, first_reporter)
    first.cancel(DETACH)  # the service stopping, as BuildManager.stop() does it
    with pytest.raises((asyncio.CancelledError, BuildFailed)):
        await first
    await oc.backend.stop()  # then the service stops its backend

    restarted = oc.new_backend()
    await restarted.start()
    second = asyncio.create_task(restarted.build(resolved, reporter := await started()))
    await reporter.until(lambda: bool(reporter.remembered))
    oc.builds.release()
    published = await second

    assert reporter.remembered[0] == first_reporter.remembered[0]
    assert f"Joining the running cluster build {reporter.remembered[0]}" in reporter.lines
    assert len(await oc.cluster_builds(resolved)) == 1
    assert published.image == resolved.image


async def started(build_type: str = spec.BuildType.GIT_REPOSITORY) -> RecordingReporter:
    """A reporter as the manager hands it to `build`: past Preparing and Resolving."""
    reporter = RecordingReporter.start(build_type)
    await reporter.phase(Phase.RESOLVING)
    return reporter


async def test_throttling_and_server_errors_are_retried(oc: OpenShiftCase) -> None:
    faults, counters = oc.cluster.server.faults, oc.cluster.server.counters
    faults.add(verb="create", resource="imagestreams", times=1, throttle_rate=1.0, retry_after=1)
    faults.add(verb="get", resource="imagestreams", times=2, error_rate=1.0, error_code=503)
    faults.add(verb="create", resource="pods", times=1, error_rate=1.0, error_code=500)

    published, _, _ = await run_build(oc.backend, oc.request(spec.BuildType.IMPORT_IMAGE))

    assert published.reference == imagestreams.pinned_reference(
        oc.request(spec.BuildType.IMPORT_IMAGE).from_image
    )
    assert counters.get("create", "pods") == 2  # one 500, then created


async def test_a_stream_made_by_someone_else_is_left_alone(oc: OpenShiftCase) -> None:
    request = oc.request(spec.BuildType.IMPORT_IMAGE)
    theirs = {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStream",
        "metadata": {
            "name": request.name,
            "labels": {
                "opendatahub.io/notebook-image": "true",
                "app.kubernetes.io/created-by": "byon",
            },
        },
    }
    created = await oc.custom.create_namespaced_custom_object(
        *objects.STREAMS[:2], NAMESPACE, objects.STREAMS[2], theirs
    )
    resolved, reporter = await resolve(oc.backend, request)

    with pytest.raises(BuildFailed, match="was not made by the build service"):
        await oc.backend.build(resolved, reporter)

    after = await oc.stream(request.name)
    assert after is not None
    assert after["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


async def test_unknown_runtime_environments_fail_while_resolving(oc: OpenShiftCase) -> None:
    body = {
        "metadata": {
            "name": "py312",
            "annotations": {
                "opendatahub.io/notebook-image-name": "3.12",
                "opendatahub.io/notebook-image-desc": "No builder for it",
            },
        },
        "spec": {
            "buildType": "PackageList",
            "runtimeEnvironment": {"pythonVersion": "3.12"},
            "packageVersions": ["tinypkg"],
        },
    }
    request = spec.parse_request(body, creator="admin", policy=spec.SpecPolicy())

    with pytest.raises(BuildFailed, match=r"No builder image is configured for 3\.12"):
        await resolve(oc.backend, request)
    assert await oc.stream("py312-notebook") is None  # nothing made in the cluster


async def test_the_namespace_comes_from_the_kubeconfig(oc: OpenShiftCase) -> None:
    backend = oc.new_backend(namespace="")
    await backend.start()
    assert backend.steps.kube.namespace == oc.cluster.options.namespace == NAMESPACE
    api_client = backend.steps.kube.api
    assert isinstance(api_client, client.ApiClient)
    assert api_client.configuration.host == oc.cluster.server.url


@pytest.mark.parametrize("killed_in", [Phase.IMPORTING, Phase.VALIDATING])
async def test_an_import_killed_with_the_service_is_discarded_after_the_restart(
    oc: OpenShiftCase, killed_in: Phase
) -> None:
    """An import cannot be followed again (no cluster Build outlives the service): the
    restarted service's `discard` removes its staging stream and validation pod, and the
    notebook stream says Failed with why, not Validating forever (found by the servicecrash
    reliability scenario)."""
    resolved, reporter = await resolve(oc.backend, oc.request(spec.BuildType.IMPORT_IMAGE))
    imports = oc.cluster.imports
    assert imports is not None
    if killed_in is Phase.IMPORTING:
        imports.delay = 30.0  # the registry answers slowly: the import is under way
    else:  # the validation pod's log takes long: validation is under way
        oc.cluster.server.faults.add(verb="get", resource="pods/log", latency=30.0)
    first = asyncio.create_task(oc.backend.build(resolved, reporter))
    await reporter.until(lambda: reporter.state.phase is killed_in)
    staging = objects.instance_name(resolved)
    pod = objects.validation_pod_name(resolved)
    kubelet = oc.cluster.kubelet
    assert kubelet is not None
    async with asyncio.timeout(10):  # the phase is reported first, then the object made
        while await oc.stream(staging) is None:  # noqa: ASYNC110 - no event to wait for
            await asyncio.sleep(0.05)
    if killed_in is Phase.VALIDATING:
        assert await settled(lambda: any(r.name == pod for r in kubelet.pods.values()))
    restarted = await oc.killed_and_restarted(first)
    assert await oc.stream(staging) is not None  # nothing of the killed service undid it
    oc.cluster.server.faults.clear()
    imports.delay = 0.0
    reason = phases.interrupted_message(killed_in)
    await restarted.discard(resolved, "", reason)

    assert await oc.stream(staging) is None
    assert not await oc.pod_exists(pod)
    stream = await oc.stream(resolved.request.name)
    assert stream is not None
    annotations = stream["metadata"]["annotations"]
    assert annotations[model.ANN_PHASE] == "Failed"
    assert json.loads(annotations[model.ANN_MESSAGES]) == [
        {"severity": "error", "message": f"Tag {resolved.tag}: {reason}"}
    ]
    assert not stream["spec"].get("tags")  # nothing unvalidated is offered
