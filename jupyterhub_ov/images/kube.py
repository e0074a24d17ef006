"""The OpenShift image catalog: ImageStreams on a shared watch (KubeSpawner's reflector).

One reflector per configured namespace lists and watches ``image.openshift.io/v1``
ImageStreams; it lives in ``KubeSpawner.reflectors`` beside the pod and event reflectors, so
every spawner shares it and `KubeSpawner._stop_all_reflectors` stops it. A menu render reads
the reflector's cache: no API request, and a stream created, changed or deleted in the cluster
shows in the next render. Parsed images are cached on the reflector by uid and
resourceVersion, so a stream is parsed, and its problems logged, once per version.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from traitlets import Bool, List, Unicode
from traitlets.config import LoggingConfigurable

from .. import metrics
from ..kube.reflectors import CustomObjectReflector, shared_reflector
from . import model, odh

GROUP, VERSION, PLURAL = "image.openshift.io", "v1", "imagestreams"
BUILD_GROUP, BUILDS = "build.openshift.io", "builds"


class ImageStreamReflector(CustomObjectReflector):
    group, version, plural = GROUP, VERSION, PLURAL
    kind = PLURAL
    list_method_name = f"list_{PLURAL}"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: "<namespace>/<name>" → what the catalog derived from it, by uid + resourceVersion.
        #: Lives and dies with this reflector's cache, so a new cluster or restart starts empty.
        self.parsed: dict[str, _Parsed] = {}


class BuildReflector(CustomObjectReflector):
    """OpenShift Builds, for ODH's rule that a tag being (or failed being) built is not offered."""

    group, version, plural = BUILD_GROUP, VERSION, BUILDS
    kind = BUILDS
    list_method_name = f"list_{BUILDS}"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, on_change=self._invalidate, **kwargs)
        self._blocked: dict[tuple[str, str], str] | None = None

    def _invalidate(self, key: str) -> None:
        self._blocked = None

    @property
    def blocked(self) -> dict[tuple[str, str], str]:
        """`odh.blocked_tags` of the cached Builds, recomputed only after a change."""
        if self._blocked is None:
            self._blocked = odh.blocked_tags(self.resources.values())
        return self._blocked


_UNPARSED: Any = object()
#: [images in cache order, the same sorted]: an unchanged catalog is not sorted again per render
_last_sorted: list[list[model.NotebookImage]] = [[], []]


class _Parsed:
    """What the catalog derived from one delivered stream (per reflector, see `parsed`)."""

    __slots__ = ("stream", "uid", "version", "by_name", "by_label", "image", "unblocked")

    def __init__(self, stream: dict, uid: Any, version: Any, by_name: bool, by_label: bool):
        self.stream = stream
        self.uid, self.version = uid, version
        self.by_name, self.by_label = by_name, by_label
        #: parsed on first use by a catalog whose rules match it; None when unusable
        self.image: model.NotebookImage | None = _UNPARSED
        #: (blocked tag names, the image without them), so an unchanged render is the same object
        self.unblocked: tuple[frozenset[str], model.NotebookImage | None] | None = None


def _unblocked(entry: _Parsed, blocked: dict[tuple[str, str], str]) -> model.NotebookImage | None:
    """The entry's image without the tags whose newest Build blocks them (None: no tag left)."""
    image = entry.image
    assert image is not None
    if not blocked:
        return image
    namespace = image.namespace or ""
    names = frozenset(
        t.name for t in image.tags if (namespace, f"{image.name}:{t.name}") in blocked
    )
    if not names:
        return image
    if entry.unblocked is None or entry.unblocked[0] != names:
        tags = tuple(t for t in image.tags if t.name not in names)
        entry.unblocked = (names, replace(image, tags=tags) if tags else None)
    return entry.unblocked[1]


class KubeImageCatalog(LoggingConfigurable):
    """The OpenShift mode's image menu (`OVKubeSpawner`): notebook images from the
    ImageStreams in `namespaces`, found by Open Data Hub's two discovery rules (a name ending
    in `-notebook`, the `opendatahub.io/notebook-image=true` label) and described by ODH's
    annotations. Images whose validation has not succeeded are hidden; a broken or tagless
    stream is skipped with one log line.

    One watch per namespace feeds all spawners: the watches are KubeSpawner reflectors
    (`c.ResourceReflector.*` tune them), and a page load makes no API request. The hub's
    service account needs `get`, `list` and `watch` on `imagestreams`, and `list` and `watch`
    on `builds` (`watch_builds`), in those namespaces (`deploy/rbac.yaml`).
    """

    namespaces = List(
        Unicode(),
        config=True,
        help="""Namespaces whose ImageStreams are offered (each gets one watch, shared by all
        spawners). Empty: the spawner's own namespace (KubeSpawner.namespace).""",
    )
    match_name_suffix = Bool(
        True,
        config=True,
        help="""Offer ImageStreams whose name ends with -notebook (ODH's rule by name). With
        both rules off nothing is offered.""",
    )
    match_label = Bool(
        True,
        config=True,
        help="""Offer ImageStreams labelled opendatahub.io/notebook-image=true (ODH's rule by
        label; the build service labels the streams it makes so).""",
    )
    watch_builds = Bool(
        True,
        config=True,
        help="""Watch OpenShift Builds (build.openshift.io) in the same namespaces and, like
        ODH's dashboard, do not offer a tag whose newest Build (labelled
        opendatahub.io/build_type=notebook_image, or output to that ImageStreamTag) is New,
        Pending, Running, Failed, Error or Cancelled. Needs list and watch on builds.""",
    )

    async def start(self, spawner_class: Any, default_namespace: str) -> None:
        """Start (once per namespace, shared by all spawners) and wait for the first list."""
        for namespace in self.namespaces or [default_namespace]:
            await shared_reflector(spawner_class, ImageStreamReflector, namespace, parent=self)
            if self.watch_builds:
                await shared_reflector(spawner_class, BuildReflector, namespace, parent=self)

    def images(self, spawner_class: Any, default_namespace: str) -> list[model.NotebookImage]:
        """Visible images in menu order, from the reflectors' caches only."""
        images: list[model.NotebookImage] = []
        for namespace in self.namespaces or [default_namespace]:
            reflector = spawner_class.reflectors.get((PLURAL, namespace))
            if reflector is not None:
                images.extend(self._usable(reflector, self._blocked(spawner_class, namespace)))
        visible = [i for i in images if i.visible]
        metrics.CATALOG_IMAGES.labels("imagestreams").set(len(visible))
        last = _last_sorted
        if len(last[0]) != len(visible) or any(
            a is not b for a, b in zip(last[0], visible, strict=True)
        ):
            last[:] = [visible, model.sort_images(visible)]  # sorted again only after a change
        return list(last[1])

    def import_errors(self, spawner_class: Any, default_namespace: str) -> list[tuple[str, str]]:
        """``(stream key, message)`` of every matching stream's BYON import errors, usable
        or not (a failed import usually leaves no usable tag): for admins to read."""
        errors: list[tuple[str, str]] = []
        for namespace in self.namespaces or [default_namespace]:
            reflector = spawner_class.reflectors.get((PLURAL, namespace))
            for key, entry in (reflector.parsed if reflector is not None else {}).items():
                if (self.match_name_suffix and entry.by_name) or (
                    self.match_label and entry.by_label
                ):
                    errors.extend((key, m) for m in odh.import_errors(entry.stream.get("status")))
        return errors

    def _blocked(self, spawner_class: Any, namespace: str) -> dict[tuple[str, str], str]:
        builds = spawner_class.reflectors.get((BUILDS, namespace)) if self.watch_builds else None
        return builds.blocked if isinstance(builds, BuildReflector) else {}

    def _usable(
        self, reflector: ImageStreamReflector, blocked: dict[tuple[str, str], str]
    ) -> Iterator[model.NotebookImage]:
        """The matching streams' images; each parsed (and its problems logged) once per version.

        Hot path of every menu render: an unchanged stream is the very object the reflector
        holds, so most renders cost one dict lookup and one identity check per stream.
        """
        by_name, by_label = self.match_name_suffix, self.match_label
        cache = reflector.parsed
        streams = reflector.resources
        for key, stream in streams.items():
            entry = cache.get(key)
            if entry is None or entry.stream is not stream:
                entry = cache[key] = self._entry(stream, entry)
            if (by_name and entry.by_name) or (by_label and entry.by_label):
                if entry.image is _UNPARSED:
                    entry.image = self._parse(key, stream)
                if entry.image is not None:
                    image = _unblocked(entry, blocked)
                    if image is not None:
                        yield image
        if len(cache) > len(streams):  # forget deleted streams
            for key in set(cache) - set(streams):
                cache.pop(key, None)

    def _entry(self, stream: dict, previous: _Parsed | None) -> _Parsed:
        """A cache entry for a stream the reflector (re)delivered; a relist delivers new
        objects for unchanged streams: same uid and resourceVersion keep the parsed image."""
        meta = stream["metadata"]  # the reflector keyed the stream by it
        uid, version = meta.get("uid"), meta.get("resourceVersion")
        if previous is not None and (previous.uid, previous.version) == (uid, version):
            previous.stream = stream
            return previous
        try:
            by_name = model.is_notebook_stream(stream, by_name=True, by_label=False)
            by_label = model.is_notebook_stream(stream, by_name=False, by_label=True)
        except (AttributeError, TypeError):  # labels that are not a map: not ours to offer
            by_name = by_label = False
        return _Parsed(stream, uid, version, by_name, by_label)

    def _parse(self, key: str, stream: dict) -> model.NotebookImage | None:
        """Parse a stream; a stream that cannot be offered is logged and skipped, never raised:
        one bad stream must not take the menu down for everyone."""
        try:
            image = model.parse_image_stream(stream)
        except model.InvalidImage as e:  # its message starts with the stream's name
            self.log.warning("Skipping ImageStream in %s: %s", key.partition("/")[0], e)
            return None
        except Exception as e:  # malformed beyond what the parser expects
            self.log.warning("Skipping malformed ImageStream %s: %s: %s", key, type(e).__name__, e)
            return None
        for warning in image.warnings:
            self.log.warning("ImageStream in %s: %s", key.partition("/")[0], warning)
        return image
