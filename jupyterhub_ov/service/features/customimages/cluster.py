"""Cluster ``CustomNBImage`` resources (``meteor.zone/v1alpha1``) reconciled into builds: the
CNBi design's controller, on the build service's own engine.

One list + watch per configured namespace (KubeSpawner's reflector machinery) marks changed
resources; one worker reconciles them one at a time, level-triggered, from the cached
resource and the build's record:

- the resource is read as a build request by `resource.build_request` — the REST API's
  parser — and submitted to the `BuildManager` like a REST request (identical requests join
  one running build; an image already published under the resolved tag is not built again).
  An invalid one gets ``Failure`` with every problem, and nothing is built;
- the resource's build is the one its status names (``buildId``; so a restart finds it), or
  the one submitted for it since. A changed resource whose request differs from that build's
  supersedes it: a running build is cancelled and the new request submitted. A build that
  ended is not repeated for the same request (change the resource, or retry it over REST);
- each running build is followed (its events): every phase it reaches marks the resource,
  whose status (`status.status_for`) is patched when it differs from the one last written;
- a resource that is gone: its running build is cancelled (the published images stay). At
  start, builds still running for resources that no longer exist are cancelled too.

A build shared by two resources (identical requests) is cancelled only when neither wants it.
Calls are retried on 429/5xx; a failed reconcile is tried again at the next resync.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from jupyterhub_ov.builds.manager import BuildManager, utcnow
from jupyterhub_ov.builds.model.spec import BuildRequest, InvalidBuildRequest
from jupyterhub_ov.builds.store import BuildRecord
from jupyterhub_ov.errors import Conflict, NotFound
from jupyterhub_ov.kube.reconciler import Reconciler
from jupyterhub_ov.kube.reflectors import CustomObjectReflector

from . import status
from .resource import GROUP, KIND, PLURAL, VERSION, build_request, key_of_ref


class CustomNBImageReflector(CustomObjectReflector):
    """``CustomNBImage`` resources of one namespace."""

    group, version, plural = GROUP, VERSION, PLURAL
    kind = PLURAL
    list_method_name = f"list_{PLURAL}"


class CustomNBImageReconciler(Reconciler):
    """The platform service's watch of the cluster's `CustomNBImage` resources
    (`meteor.zone/v1alpha1`) in `CustomImages.namespaces`, on with the openshift backend and
    `CustomImages.watch_cluster`: each becomes a build of the build service, whose phase,
    image and id are written to its status. What it does:
    [docs/builder.md](builder.md#custom-notebook-images-from-customnbimage-resources-openshift);
    the rights it needs: deploy/customimages-rbac.yaml."""

    kind, group, version, plural = KIND, GROUP, VERSION, PLURAL
    rbac = "deploy/customimages-rbac.yaml"

    def __init__(self, *, manager: BuildManager, namespaces: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.manager = manager
        self.namespaces = list(namespaces)
        self.reflectors: dict[str, CustomNBImageReflector] = {}
        #: key → id of the resource's build (submitted or joined for its current request)
        self._builds: dict[str, str] = {}
        #: key → (build id, the task marking the key at each of that build's phases)
        self._followers: dict[str, tuple[str, asyncio.Task[None]]] = {}

    async def start_watches(self, gave_up: asyncio.Event) -> None:
        for namespace in self.namespaces:
            self.reflectors[namespace] = await self.start_reflector(
                CustomNBImageReflector, self.mark, gave_up, namespace=namespace
            )
        await self._mark_orphans()

    async def stop_watches(self) -> None:
        for reflector in self.reflectors.values():
            await reflector.stop()
        self.reflectors = {}

    async def stop(self) -> None:
        await super().stop()
        followers = [task for _, task in self._followers.values()]
        for task in followers:
            task.cancel()
        await asyncio.gather(*followers, return_exceptions=True)
        self._followers = {}

    async def _mark_orphans(self) -> None:
        """Running builds of resources that are gone (deleted while the service was down),
        unless a resource still there names the build (an identical request joined it)."""
        wanted = {
            (r.get("status") or {}).get("buildId")
            for reflector in self.reflectors.values()
            for r in reflector.resources.values()
        }
        for record in await self.manager.store.in_flight():
            key = key_of_ref(record.request.resource)
            if key is None or key.partition("/")[0] not in self.reflectors:
                continue
            if self._cached(key) is None and record.id not in wanted:
                self._builds.setdefault(key, record.id)
                self.mark(key)

    def _cached(self, key: str) -> dict[str, Any] | None:
        reflector = self.reflectors.get(key.partition("/")[0])
        found: dict[str, Any] | None = reflector.resources.get(key) if reflector else None
        return found

    # -- one resource ----------------------------------------------------------------------

    async def reconcile(self, key: str) -> None:
        resource = self._cached(key)
        if resource is None:
            self.forget(key)
            self._unfollow(key)
            build_id = self._builds.pop(key, None)
            if build_id is not None and await self._cancel(build_id, key, "the deletion of"):
                self.log.info("%s %s was deleted: its build %s is cancelled", KIND, key, build_id)
            return
        meta = resource["metadata"]
        current = self.current_status(key, resource)
        record: BuildRecord | None = None
        problems: list[str] = []
        try:
            request = build_request(resource, policy=self.manager.policy)
        except InvalidBuildRequest as e:
            problems = list(e.problems)
            self._unfollow(key)
            earlier = self._builds.pop(key, None) or current.get("buildId")
            if earlier:  # a build of the resource's former, valid spec
                await self._cancel(earlier, key, "an invalid change of")
        else:
            record = await self._build_for(key, request, current)
            self._follow(key, record)
        desired = status.status_for(
            record,
            problems=problems,
            generation=meta.get("generation"),
            previous=current,
            at=utcnow(),
        )
        patch = status.status_patch(current, desired)
        if patch is None:
            return
        if problems:  # the problems quote the spec: they stay in the status
            self.log.warning("%s %s: %d problems, nothing is built", KIND, key, len(problems))
        await self.write_status(key, resource, patch)

    async def _build_for(
        self, key: str, request: BuildRequest, current: dict[str, Any]
    ) -> BuildRecord:
        """The resource's build for ``request``: the one it has if that is for the same
        request, else a new one (the one it had, if running, is cancelled: superseded)."""
        build_id = self._builds.get(key) or current.get("buildId")
        record: BuildRecord | None = None
        if build_id:
            with contextlib.suppress(NotFound):  # deleted over REST meanwhile
                record = await self.manager.get(build_id)
        if record is not None and record.request.key == request.key:
            self._builds[key] = record.id
            return record
        if record is not None and not record.terminal:
            self._unfollow(key)
            self._builds.pop(key, None)
            if await self._cancel(record.id, key, "a change of"):
                self.log.info("%s %s changed: build %s is superseded", KIND, key, record.id)
        record, started = await self.manager.submit_request(request)
        self._builds[key] = record.id
        how = "started" if started else "joined"
        self.log.info("%s %s: build %s %s for %s", KIND, key, record.id, how, request.name)
        return record

    async def _cancel(self, build_id: str, key: str, why: str) -> bool:
        """Cancel the running build unless another resource wants it; whether it was."""
        if build_id in self._builds.values():
            return False
        try:
            await self.manager.cancel(build_id, by=f"{why} {KIND} {key}")
        except (Conflict, NotFound):
            return False  # it had ended
        return True

    # -- following builds ------------------------------------------------------------------

    def _follow(self, key: str, record: BuildRecord) -> None:
        following = self._followers.get(key)
        if following is not None and following[0] == record.id:
            return
        self._unfollow(key)
        if record.terminal:
            return
        task = asyncio.create_task(self._marks(key, record.id), name=f"{PLURAL}-{record.id}")
        self._followers[key] = (record.id, task)

    def _unfollow(self, key: str) -> None:
        following = self._followers.pop(key, None)
        if following is not None:
            following[1].cancel()

    async def _marks(self, key: str, build_id: str) -> None:
        """Mark the resource at each phase of its build, and once more at its end."""
        try:
            async for event in self.manager.events(build_id):
                if event.kind == "phase":
                    self.mark(key)
        except NotFound:
            pass
        following = self._followers.get(key)
        if following is not None and following[0] == build_id:
            del self._followers[key]
        self.mark(key)
