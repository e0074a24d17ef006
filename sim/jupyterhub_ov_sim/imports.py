"""A simulated ImageStream import controller: a test double, never production.

Like OpenShift's, it imports every spec tag ``from`` a ``DockerImage`` whose generation is
newer than the last import result reported for it (see `imagestreams`): after an optional
delay, ``status.tags`` gets the tag with an item whose ``dockerImageReference`` is the source
pinned to a digest (deterministic here, since nothing is pulled), newest first, and the
import's generation. A reference listed in ``failures`` does not import: the status tag gets
an ``ImportSuccess`` condition with status ``"False"``, reason ``NotFound`` and the registry's
message, keeping any earlier items, as OpenShift reports a failed import.
Part of the cluster simulator (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from . import imagestreams
from .controller import Controller
from .errors import ApiError
from .kinds import ResourceKind
from .meta import now
from .patches import MERGE_PATCH
from .store import ObjectStore
from .watchcache import WatchEvent


def not_found_message(reference: str) -> str:
    """What OpenShift reports when the registry does not have ``reference``."""
    return f'dockerimage.image.openshift.io "{reference}" not found'


class ImageImporter(Controller):
    """Imports DockerImage spec tags into ``status.tags``, or reports why it could not."""

    component = "image-import-controller"
    watched = (("image.openshift.io", "v1", "imagestreams"),)

    def __init__(
        self,
        store: ObjectStore,
        *,
        failures: Mapping[str, str] | None = None,
        delay: float = 0.0,
    ) -> None:
        super().__init__(store)
        #: reference -> the registry's message ("" for the usual not found)
        self.failures = dict(failures or {})
        self.delay = delay
        self.streams = self.kind("image.openshift.io", "v1", "imagestreams")
        self._pending: set[tuple[str, str, int]] = set()  # (stream uid, tag, generation)

    def on_event(self, kind: ResourceKind, event: WatchEvent) -> None:
        if event.type == "DELETED":
            return
        stream = event.obj
        for tag in (stream.get("spec") or {}).get("tags") or []:
            if not isinstance(tag, dict) or not imagestreams.needs_import(stream, tag):
                continue
            key = (stream["metadata"]["uid"], str(tag["name"]), int(tag["generation"]))
            if key not in self._pending:
                self._pending.add(key)
                self.spawn(self._import(stream, key))

    async def _import(self, stream: dict[str, Any], key: tuple[str, str, int]) -> None:
        try:
            if self.delay:
                await asyncio.sleep(self.delay)  # the simulated registry round trip
            md = stream["metadata"]
            try:
                current = self.store.get(self.streams, md["namespace"], md["name"])
            except ApiError:
                return
            _, name, generation = key
            tag = next(
                (t for t in current.get("spec", {}).get("tags") or [] if t.get("name") == name),
                None,
            )
            if current["metadata"]["uid"] != key[0] or tag is None:
                return  # the stream or the tag went away meanwhile
            if tag.get("generation") != generation:
                return  # superseded: the newer generation has its own import
            self._record(current, name, tag["from"]["name"], generation)
        finally:
            self._pending.discard(key)

    def _record(self, stream: dict[str, Any], tag: str, reference: str, generation: int) -> None:
        md = stream["metadata"]
        status = dict(stream.get("status") or {})
        entries = [t for t in status.get("tags") or [] if t.get("tag") != tag]
        before: dict[str, Any] = next(
            (t for t in status.get("tags") or [] if t.get("tag") == tag), {}
        )
        items = list(before.get("items") or [])
        entry: dict[str, Any] = {"tag": tag}
        if reference in self.failures:
            message = self.failures[reference] or not_found_message(reference)
            condition = {
                "type": "ImportSuccess",
                "status": "False",
                "reason": "NotFound",
                "message": message,
                "generation": generation,
                "lastTransitionTime": now(),
            }
            entry["conditions"] = [condition]
        else:
            pinned = imagestreams.pinned_reference(reference)
            item = {
                "created": now(),
                "dockerImageReference": pinned,
                "image": imagestreams.digest_of(reference),
                "generation": generation,
            }
            items = [item, *[i for i in items if i.get("image") != item["image"]]]
        if items:
            entry["items"] = items
        entries.append(entry)
        status["dockerImageRepository"] = imagestreams.internal_repository(
            md["namespace"], md["name"]
        )
        status["tags"] = entries
        self.store.patch(
            self.streams,
            md["namespace"],
            md["name"],
            {"status": status},
            MERGE_PATCH,
            subresource="status",
        )
