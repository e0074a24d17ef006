"""The cluster steps of an OpenShift image build, each one async call (see the backend).

`ImageSteps` does the work of `backends.openshift.OpenShiftBuildBackend` on the objects of
`openshift_objects`: make sure the notebook stream is ours, start or join the cluster Build
and follow it by watch with its log, stage an import, validate in a pod, publish the tag —
and undo all of it for a build that failed or was cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from kubernetes_asyncio.client.exceptions import ApiException

from jupyterhub_ov.builds import validation
from jupyterhub_ov.builds.imagecheck import MARKER
from jupyterhub_ov.builds.model import spec
from jupyterhub_ov.builds.model.index import PackageIndex
from jupyterhub_ov.builds.model.spec import ResolvedBuild
from jupyterhub_ov.kube.client import KubeIO

from ...errors import BuildFailed
from ...model.phases import Phase
from ..base import PublishedImage, Reporter
from . import objects, status

#: seconds the build log may trail the Build's completion
LOG_GRACE = 10.0
ACTIVE_BUILD = frozenset({"New", "Pending", "Running"})


@dataclass
class Attempt:
    """One run of a build (or of its reattachment): what its clean-up must undo."""

    resolved: ResolvedBuild
    report: Reporter
    #: the cluster Build followed (cancelled on failure or cancel)
    build: str = ""
    #: the notebook stream is ours to mark (False until checked)
    owns_stream: bool = False


class Unreported:
    """The `Reporter` of a clean-up after a restart: no build is followed any more."""

    async def phase(self, phase: Phase, message: str = "") -> None:
        pass

    async def log(self, line: str) -> None:
        pass

    async def remember(self, reference: str) -> None:
        pass


@dataclass(frozen=True)
class StepSettings:
    index: PackageIndex
    import_timeout: float
    validation_timeout: float
    server_start_timeout: float
    resources: Mapping[str, Any] = field(default_factory=dict)
    network: objects.BuildNetwork = objects.BuildNetwork()


class ImageSteps:
    def __init__(self, kube: KubeIO, settings: StepSettings, log: logging.Logger) -> None:
        self.kube = kube
        self.settings = settings
        self.log = log

    async def ensure_stream(self, attempt: Attempt) -> None:
        request = attempt.resolved.request
        body = objects.image_stream(request, phase=objects.VALIDATING)
        stream, created = await self.kube.ensure(objects.STREAMS, body)
        problem = status.owner_problem(stream)
        if problem:
            raise BuildFailed(problem)
        attempt.owns_stream = True
        if created:
            return

        def refresh(current: dict[str, Any]) -> bool:
            before = json.dumps(current, sort_keys=True)
            status.set_annotations(current, objects.stream_annotations(request))
            if not status.validated_tags(current):  # nothing offered: a new attempt starts
                status.set_annotations(current, status.phase_annotations(objects.VALIDATING, []))
            return json.dumps(current, sort_keys=True) != before

        await self.kube.update(objects.STREAMS, request.name, refresh)

    def _build_config(self, resolved: ResolvedBuild) -> dict[str, Any]:
        return objects.build_config(
            resolved, index=self.settings.index, network=self.settings.network
        )

    async def start_build(self, attempt: Attempt) -> str:
        """Start the BuildConfig's next Build, or join one of it that is running."""
        resolved, report = attempt.resolved, attempt.report
        config, _ = await self.kube.ensure(objects.BUILD_CONFIGS, self._build_config(resolved))
        name = config["metadata"]["name"]
        build = await self.running_build(resolved)
        if build:
            await report.log(f"Joining the running cluster build {build}")
        else:
            started = await self.kube.instantiate(name, objects.build_request(name))
            build = started["metadata"]["name"]
            await report.log(f"Started the cluster build {build}")
        await report.remember(build)
        return str(build)

    async def running_build(self, resolved: ResolvedBuild) -> str:
        """The newest cluster Build of the build's BuildConfig that still works, or ``""``."""
        selector = f"openshift.io/build-config.name={objects.instance_name(resolved)}"
        running = [
            b["metadata"]["name"]
            for b in await self.kube.list(objects.BUILDS, selector)
            if status.build_phase(b) in ACTIVE_BUILD and not status.cancel_requested(b)
        ]
        return str(running[-1]) if running else ""

    async def started_build(self, resolved: ResolvedBuild) -> str:
        """The cluster Build a killed service may have started for ``resolved`` without
        remembering it: the newest of the BuildConfig that still works, else the newest that
        completed from this very recipe (the same source and strategy: the same image),
        since it may well have finished while the service was down; ``""`` if none."""
        running = await self.running_build(resolved)
        if running:
            return running
        recipe = self._build_config(resolved)["spec"]
        selector = f"openshift.io/build-config.name={objects.instance_name(resolved)}"
        done = [
            b
            for b in await self.kube.list(objects.BUILDS, selector)
            if status.build_phase(b) == "Complete"
            and all((b.get("spec") or {}).get(k) == recipe.get(k) for k in ("source", "strategy"))
        ]
        done.sort(key=lambda b: b["metadata"].get("creationTimestamp") or "")
        return str(done[-1]["metadata"]["name"]) if done else ""

    async def working_builds(self) -> list[tuple[str, str]]:
        """Every cluster Build of ours that still works: its name and its instance label
        (the `objects.instance_name` of the build that started it)."""
        selector = f"{objects.LABEL_PART_OF}={objects.PART_OF}"
        return [
            (
                b["metadata"]["name"],
                (b["metadata"].get("labels") or {}).get(objects.LABEL_INSTANCE, ""),
            )
            for b in await self.kube.list(objects.BUILDS, selector)
            if status.build_phase(b) in ACTIVE_BUILD and not status.cancel_requested(b)
        ]

    async def build_exists(self, name: str) -> bool:
        """Whether the remembered cluster build is still there (for `reattach`)."""
        return await self.kube.get(objects.BUILDS, name) is not None

    async def finished_digest(self, name: str) -> str:
        """The digest a cluster build that had completed before a restart pushed."""
        return status.build_digest(await self.kube.get(objects.BUILDS, name) or {})

    async def follow_build(self, attempt: Attempt) -> str:
        """Wait (by watch) for the Build to end, streaming its log meanwhile; its digest."""
        name, report = attempt.build, attempt.report
        await self.kube.wait_for(
            objects.BUILDS, name, lambda b: status.build_phase(b) in status.BUILD_STARTED
        )
        lines = asyncio.create_task(self._stream_log(name, report))
        try:
            finished = await self.kube.wait_for(
                objects.BUILDS, name, lambda b: status.build_phase(b) in status.BUILD_DONE
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(lines), LOG_GRACE)
        finally:
            lines.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await lines
        if status.build_phase(finished) != "Complete":
            raise BuildFailed(status.build_failure(finished))
        return status.build_digest(finished)

    async def _stream_log(self, name: str, report: Reporter) -> None:
        try:
            await self.kube.follow_build_log(name, report.log)
        except (ApiException, aiohttp.ClientError, TimeoutError) as e:
            self.log.warning("The log of build %s could not be followed: %s", name, e)

    async def pushed(self, attempt: Attempt, digest: str) -> str:
        """The reference the build pushed into the notebook stream's ``status.tags``."""
        resolved, limit = attempt.resolved, self.settings.import_timeout
        try:
            async with asyncio.timeout(limit):
                stream = await self.kube.wait_for(
                    objects.STREAMS,
                    resolved.request.name,
                    lambda s: bool(status.pushed_reference(s, resolved.tag, digest)),
                )
        except TimeoutError:
            raise BuildFailed(
                f"{resolved.image} did not appear in the registry within {limit:g} s"
            ) from None
        return status.pushed_reference(stream, resolved.tag, digest)

    async def _imported(self, stream_name: str, tag: str, what: str) -> str:
        """Wait for the import of ``stream_name:tag``; its digest-pinned reference."""
        try:
            async with asyncio.timeout(self.settings.import_timeout):
                stream = await self.kube.wait_for(
                    objects.STREAMS, stream_name, lambda s: status.import_outcome(s, tag).done
                )
        except TimeoutError:
            raise BuildFailed(
                f"The import of {what} did not finish within {self.settings.import_timeout:g} s"
            ) from None
        outcome = status.import_outcome(stream, tag)
        if outcome.error:
            raise BuildFailed(f"The image {what} could not be imported: {outcome.error}")
        return outcome.reference

    async def stage_import(self, attempt: Attempt) -> str:
        resolved = attempt.resolved
        staging = objects.staging_stream(resolved)
        name = staging["metadata"]["name"]
        await self.kube.delete(objects.STREAMS, name)  # an earlier attempt's result is stale
        await self.kube.ensure(objects.STREAMS, staging)
        pinned = await self._imported(name, resolved.tag, resolved.source)
        await attempt.report.log(f"Imported {resolved.source} as {pinned}")
        return pinned

    async def validate(self, attempt: Attempt, image: str) -> validation.CheckReport:
        resolved, report = attempt.resolved, attempt.report
        pod = objects.validation_pod(
            resolved,
            image,
            command=validation.command(self.settings.server_start_timeout),
            resources=self.settings.resources,
            deadline=self.settings.validation_timeout,
        )
        name, limit = pod["metadata"]["name"], self.settings.validation_timeout
        try:
            async with asyncio.timeout(limit):
                await self.kube.recreate_pod(pod)
                await report.log(f"Started the validation pod {name}")
                done = await self.kube.wait_pod(name, lambda p: status.pod_state(p)[0] != "running")
            state, detail = status.pod_state(done)
            if state == "stuck":
                raise BuildFailed(f"The validation pod could not run {image}: {detail}")
            output = await self.kube.pod_log(name)
        except TimeoutError:
            raise BuildFailed(
                f"The validation of {image} did not finish within {limit:g} s"
            ) from None
        finally:
            await self._quietly(self.kube.delete_pod(name), f"delete pod {name}")
        for line in output.splitlines():
            if not line.startswith(MARKER):
                await report.log(line)
        check = validation.parse_report(output)
        if check is None or not check.ok:
            raise BuildFailed(validation.failure_message(check, output))
        await report.log("Validation passed: " + ", ".join(check.passed))
        return check

    async def publish(
        self, attempt: Attempt, check: validation.CheckReport, *, pinned: str = ""
    ) -> PublishedImage:
        """Add the validated tag to the notebook stream; the image as the menu offers it."""
        resolved, name, tag = attempt.resolved, attempt.resolved.request.name, attempt.resolved.tag
        entry = objects.published_tag(
            tag, validation.tag_annotations(check), imported_from=resolved.source, pinned=pinned
        )
        succeeded = status.phase_annotations(
            objects.SUCCEEDED, validation.success_messages(tag, check)
        )

        def add(stream: dict[str, Any]) -> bool:
            status.set_spec_tag(stream, entry)
            if not pinned:  # a pushed image is in status.tags already: offered from now on
                status.set_annotations(stream, succeeded)
            return True

        if await self.kube.update(objects.STREAMS, name, add) is None:
            raise BuildFailed(f"The ImageStream {name} was deleted during the build")
        if pinned:  # the notebook stream imports the validated digest, then is Succeeded
            await self._imported(name, tag, pinned)
            await self.kube.update(objects.STREAMS, name, _annotate(succeeded))
            await self.kube.delete(objects.STREAMS, objects.instance_name(resolved))
        stream = await self.kube.get(objects.STREAMS, name)
        published = status.published_image(stream, tag) if stream else None
        if published is None:
            raise BuildFailed(f"{resolved.image} was published but is not offered; see its stream")
        await attempt.report.log(f"Published {published.image} ({published.reference})")
        return published

    # -- undoing ---------------------------------------------------------------------------

    async def clean_up(
        self, attempt: Attempt, messages: list[dict[str, str]], *, cancelled: bool = False
    ) -> None:
        """Stop the cluster Build, delete the pod and staging stream, drop the unvalidated tag;
        after a cancel also delete the cluster build's objects (`discard_build`).

        Best effort: a step that fails is logged and the others still run.
        """
        resolved = attempt.resolved
        if attempt.build:
            await self._quietly(self.cancel_build(attempt.build), f"cancel {attempt.build}")
            if cancelled:
                await self._quietly(self.discard_build(attempt), f"delete {attempt.build}")
        pod = objects.validation_pod_name(resolved)
        await self._quietly(self.kube.delete_pod(pod), f"delete pod {pod}")
        if resolved.request.build_type == spec.BuildType.IMPORT_IMAGE:
            staging = objects.instance_name(resolved)
            await self._quietly(self.kube.delete(objects.STREAMS, staging), f"delete {staging}")
        if attempt.owns_stream:

            def mark(stream: dict[str, Any]) -> bool:
                if resolved.tag not in status.validated_tags(stream):  # never unpublish
                    status.drop_spec_tag(stream, resolved.tag)
                phase = status.phase_after_failure(stream)
                status.set_annotations(stream, status.phase_annotations(phase, messages))
                return True

            update = self.kube.update(objects.STREAMS, resolved.request.name, mark)
            await self._quietly(update, f"mark {resolved.request.name}")

    async def discard_build(self, attempt: Attempt) -> None:
        """Delete the BuildConfig of a cancelled build; its Builds are its dependents (the
        garbage collector deletes them). A failed build's objects stay for diagnosis."""
        await self.kube.delete(objects.BUILD_CONFIGS, objects.instance_name(attempt.resolved))

    async def cancel_build(self, name: str) -> None:
        """What ``oc cancel-build`` does: PUT the Build with status.cancelled."""

        def cancel(build: dict[str, Any]) -> bool:
            if status.build_phase(build) not in ACTIVE_BUILD:
                return False
            build.setdefault("status", {})["cancelled"] = True
            return True

        await self.kube.update(objects.BUILDS, name, cancel)

    async def _quietly(self, work: Awaitable[Any], what: str) -> None:
        try:
            await work
        except Exception as e:  # clean-up must not hide why the build ended
            self.log.warning("Could not %s: %s", what, e)


def _annotate(annotations: dict[str, str]) -> Callable[[dict[str, Any]], bool]:
    def change(stream: dict[str, Any]) -> bool:
        status.set_annotations(stream, annotations)
        return True

    return change
