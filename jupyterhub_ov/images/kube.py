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
from typing import Any

from traitlets import Bool, List, Unicode
from traitlets.config import LoggingConfigurable

from .. import metrics
from ..kube.reflectors import CustomObjectReflector, shared_reflector
from . import model

GROUP, VERSION, PLURAL = "image.openshift.io", "v1", "imagestreams"


class ImageStreamReflector(CustomObjectReflector):
    group, version, plural = GROUP, VERSION, PLURAL
    kind = PLURAL
    list_method_name = f"list_{PLURAL}"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: "<namespace>/<name>" → what the catalog derived from it, by uid + resourceVersion.
        #: Lives and dies with this reflector's cache, so a new cluster or restart starts empty.
        self.parsed: dict[str, _Parsed] = {}


_UNPARSED: Any = object()


class _Parsed:
    """What the catalog derived from one delivered stream (per reflector, see `parsed`)."""

    __slots__ = ("stream", "uid", "version", "by_name", "by_label", "image")

    def __init__(self, stream: dict, uid: Any, version: Any, by_name: bool, by_label: bool):
        self.stream = stream
        self.uid, self.version = uid, version
        self.by_name, self.by_label = by_name, by_label
        #: parsed on first use by a catalog whose rules match it; None when unusable
        self.image: model.NotebookImage | None = _UNPARSED


class KubeImageCatalog(LoggingConfigurable):
    """The OpenShift mode's image menu (`OVKubeSpawner`): notebook images from the
    ImageStreams in `namespaces`, found by Open Data Hub's two discovery rules (a name ending
    in `-notebook`, the `opendatahub.io/notebook-image=true` label) and described by ODH's
    annotations. Images whose validation has not succeeded are hidden; a broken or tagless
    stream is skipped with one log line.

    One watch per namespace feeds all spawners: the watches are KubeSpawner reflectors
    (`c.ResourceReflector.*` tune them), and a page load makes no API request. The hub's
    service account needs `get`, `list` and `watch` on `imagestreams` in those namespaces
    (`deploy/rbac.yaml`).
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

    async def start(self, spawner_class: Any, default_namespace: str) -> None:
        """Start (once per namespace, shared by all spawners) and wait for the first list."""
        for namespace in self.namespaces or [default_namespace]:
            await shared_reflector(spawner_class, ImageStreamReflector, namespace, parent=self)

    def images(self, spawner_class: Any, default_namespace: str) -> list[model.NotebookImage]:
        """Visible images in menu order, from the reflectors' caches only."""
        images: list[model.NotebookImage] = []
        for namespace in self.namespaces or [default_namespace]:
            reflector = spawner_class.reflectors.get((PLURAL, namespace))
            if reflector is not None:
                images.extend(self._usable(reflector))
        visible = model.sort_images(i for i in images if i.visible)
        metrics.CATALOG_IMAGES.labels("imagestreams").set(len(visible))
        return visible

    def _usable(self, reflector: ImageStreamReflector) -> Iterator[model.NotebookImage]:
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
                    yield entry.image
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
