"""The local image catalog: Python environments in a directory, plus the hub's own.

Scanning is cheap (one ``scandir`` and an ``lstat`` per environment) and results are cached by
the manifest's ``lstat``, so a broken environment is logged once, not on every menu render,
and a new or rebuilt environment shows up on the next render without a restart.

The directory is not trusted to be well formed: anyone who can write an entry must not be
able to take the hub down. A scan never runs on the event loop (the menu awaits `refresh`,
which scans in a thread; `images` only reads the last result there), a manifest is read only
if it is a regular file (never through a symlink, never a FIFO or device) of at most
`LocalImageCatalog.max_manifest_size` bytes, and whatever goes wrong with one entry — bad
JSON, JSON nested deeper than the parser's recursion limit, invalid UTF-8, wrong types —
skips that entry with one log line while the rest of the menu renders.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
import sys
import threading
import time
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from typing import Any, ClassVar

from traitlets import Bool, Float, Int, Unicode
from traitlets.config import LoggingConfigurable

from .. import metrics
from . import model
from .manifest import MANIFEST_FILE, environment_of, manifest_to_stream

HUB_IMAGE_NAME = "default-notebook"
_HUB_PACKAGES = ("jupyterlab", "jupyterhub", "ipykernel", "boto3")
#: how a manifest is opened: never through a symlink, never waiting for a FIFO's writer,
#: never becoming the controlling terminal (the fstat after the open checks the rest)
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
#: a log line quotes at most this much of a problem (a manifest's values can be huge)
_LOG_LIMIT = 300


def python_of(environment: str) -> str | None:
    """The interpreter of an environment directory, or None if there is none."""
    for candidate in ("bin/python", "bin/python3"):
        path = os.path.join(environment, candidate)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def hub_environment_stream() -> dict:
    """The hub's own environment as an image: always there, the default choice."""
    packages = []
    for name in _HUB_PACKAGES:
        try:
            packages.append({"name": name, "version": metadata.version(name)})
        except metadata.PackageNotFoundError:
            continue
    manifest = {
        "name": HUB_IMAGE_NAME,
        "display_name": "Default environment",
        "description": "The hub's own Python environment with JupyterLab.",
        "creator": "jupyterhub-ov",
        "python_version": ".".join(map(str, sys.version_info[:3])),
        "packages": packages,
        "phase": "Succeeded",
        "default": True,
        "order": 0,
    }
    return manifest_to_stream(manifest, sys.prefix)


@cache
def hub_image() -> model.NotebookImage:
    return model.parse_image_stream(hub_environment_stream())


def read_manifest(path: str, *, limit: int) -> Any:
    """The JSON in ``path`` if it is a regular file of at most ``limit`` bytes (blocking).

    InvalidImage for anything else; a symlink fails the open (``O_NOFOLLOW``) and a FIFO
    opens without waiting (``O_NONBLOCK``) and is then refused by its ``fstat``.
    """
    fd = os.open(path, _OPEN_FLAGS)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise model.InvalidImage(f"{MANIFEST_FILE} is not a regular file")
        if st.st_size > limit:
            raise model.InvalidImage(f"{MANIFEST_FILE} is over {limit} bytes")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:  # grew since the fstat
        raise model.InvalidImage(f"{MANIFEST_FILE} is over {limit} bytes")
    return json.loads(b"".join(chunks).decode("utf-8"))


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a device"),
        (stat.S_ISBLK, "a device"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _short(error: BaseException) -> str:
    """An exception for a log line: its type unless it is one of ours, cut to a line."""
    ours = isinstance(error, (OSError, ValueError))  # their message says what is wrong
    text = str(error) if ours else f"{type(error).__name__}: {error}"
    return text if len(text) <= _LOG_LIMIT else text[:_LOG_LIMIT] + "…"


@dataclass
class _Entry:
    #: the manifest's lstat (mtime ns, size, inode, mode): a rewritten manifest is read again
    signature: tuple[Any, ...]
    #: the environment the manifest names (the entry itself unless it references another)
    reference: str
    #: whether it had a bin/python (None: the entry was skipped for another reason)
    has_python: bool | None
    image: model.NotebookImage | None


class LocalImageCatalog(LoggingConfigurable):
    """The local mode's image menu (`OVLocalSpawner`): the environments under `catalog_dir`,
    each a directory with a Python environment and a `notebook-image.json` manifest (how to
    add one: [README](../README.md#adding-an-environment-to-the-menu)), and the hub's own
    environment. One catalog per hub configuration is shared by all spawners.

    The directory is scanned in a thread, never on the hub's event loop (concurrent menu
    renders share one scan). A manifest is read only if it is a regular file: a symbolic link,
    FIFO, device, socket or directory of that name, an over-sized, non-UTF-8 or too deeply
    nested manifest, or wrong types anywhere in it skip that entry with one log line, and the
    rest of the menu renders. A `url` that is not an absolute `http(s)` URL is dropped (one
    warning): the image is offered without its link.
    """

    catalog_dir = Unicode(
        "",
        config=True,
        help="""Directory of local environments (one sub-directory each, with a
        notebook-image.json manifest and bin/python); new entries appear on the next page
        load, no restart. The build service's LocalBuildBackend builds into it by default.
        Empty: only the hub's environment is offered.""",
    )
    include_hub_environment = Bool(
        True,
        config=True,
        help="""Offer the hub's own Python environment (with its JupyterLab) as the image
        default-notebook:latest, the default of the menu ("Default environment").""",
    )
    rescan_interval = Float(
        1.0,
        config=True,
        help="""Seconds during which menu renders reuse the last scan of catalog_dir. Once
        it is older, a render starts a new scan in the background and a later render shows
        its result. 0: every render starts one.""",
    )
    max_manifest_size = Int(
        1024 * 1024,
        config=True,
        help="""Largest notebook-image.json read, in bytes; an entry with a larger manifest
        is skipped with one log line (the file is never read into memory).""",
    )

    #: id(config) → (that config, its catalog); the config is kept so an id is never reused
    _shared: ClassVar[dict[int, tuple[object, LocalImageCatalog]]] = {}

    @classmethod
    def shared(cls, parent: object) -> LocalImageCatalog:
        """One catalog per hub configuration, shared by all its spawners (built once, not
        on every menu render); on an event loop its first scan starts right away."""
        config = getattr(parent, "config", None)
        found = cls._shared.get(id(config))
        if found is None or found[0] is not config:
            found = cls._shared[id(config)] = (config, cls(parent=parent))
            found[1].images()
        return found[1]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._entries: dict[str, _Entry] = {}
        self._scanned_at = float("-inf")
        self._images: list[model.NotebookImage] | None = None
        self._reported_duplicates: set[str] = set()
        self._reported_scan_error = ""
        self._merged_from: list[tuple[str, model.NotebookImage]] = []
        self._merged: list[model.NotebookImage] = []
        #: one scan at a time: the thread of `refresh` and a direct `scan` never overlap
        self._scan_lock = threading.Lock()
        self._refreshing: asyncio.Task | None = None

    # -- reading the results -----------------------------------------------------------------

    def images(self) -> list[model.NotebookImage]:
        """Visible images in menu order, from the last scan: cheap, no file is read on an
        event loop. When that scan is older than `rescan_interval`, a new one starts in a
        thread there (a later call sees it); called off any event loop, it scans here."""
        if self._due():
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                self.scan()
            else:
                self._start_refresh()
        return self._current()

    async def refresh(self) -> list[model.NotebookImage]:
        """`images` after a scan (in a thread) if one is due; concurrent callers share a scan,
        and a caller that gives up (a closed page) does not stop it."""
        running = self._refreshing
        if self._due() or (running is not None and not running.done()):
            await asyncio.shield(self._start_refresh())
        return self._current()

    def _current(self) -> list[model.NotebookImage]:
        if self._images is None:  # nothing scanned yet: the hub's environment is always there
            current = [hub_image()] if self.include_hub_environment else []
        else:
            current = list(self._images)
        metrics.CATALOG_IMAGES.labels("environments").set(len(current))
        return current

    def _due(self) -> bool:
        return time.monotonic() - self._scanned_at >= self.rescan_interval

    def _start_refresh(self) -> asyncio.Task:
        loop = asyncio.get_running_loop()
        running = self._refreshing
        if running is None or running.done() or running.get_loop() is not loop:
            running = self._refreshing = loop.create_task(asyncio.to_thread(self.scan))
        return running

    # -- scanning (blocking: in a thread, see `refresh`) -------------------------------------

    def scan(self) -> None:
        """Read the catalog directory now and keep the result for `images`."""
        with self._scan_lock:
            self._scanned_at = time.monotonic()
            try:
                found = self._scan()
            except Exception:  # a bug here must not take the menu down: keep the last result
                self.log.exception("Scanning the image catalog %s failed", self.catalog_dir)
                found = [i for i in self._images or [] if i.name != HUB_IMAGE_NAME]
            if self.include_hub_environment:
                found.append(hub_image())
            self._images = model.sort_images(i for i in found if i.visible)

    def _scan(self) -> list[model.NotebookImage]:
        if not self.catalog_dir:
            return []
        try:
            with os.scandir(self.catalog_dir) as listing:
                dirs = sorted(e.path for e in listing if e.is_dir())
        except FileNotFoundError:
            return []
        except OSError as e:
            if str(e) != self._reported_scan_error:  # once, not on every render
                self._reported_scan_error = str(e)
                self.log.warning("Cannot read image catalog %s: %s", self.catalog_dir, e)
            return []
        self._reported_scan_error = ""
        self._entries = {d: self._entry(d) for d in dirs}
        # hidden entries (still validating, failed) neither show nor take a name or tag
        found = [
            (d, e.signature[0], e.image)
            for d, e in self._entries.items()
            if e.image is not None and e.image.visible
        ]
        return self._merge(found)

    def _entry(self, directory: str) -> _Entry:
        manifest = os.path.join(directory, MANIFEST_FILE)
        try:
            st = os.lstat(manifest)
        except FileNotFoundError:
            # being built, or not an environment: not an error worth a log line
            return _Entry((0,), directory, False, None)
        except OSError as e:  # e.g. the entry is not readable: logged when it changes
            return self._cached_or(directory, ("error", e.errno), e)
        signature = (st.st_mtime_ns, st.st_size, st.st_ino, st.st_mode)
        cached = self._entries.get(directory)
        if (
            cached
            and cached.signature == signature
            and cached.has_python in (None, python_of(cached.reference) is not None)
        ):
            return cached
        if not stat.S_ISREG(st.st_mode):
            return self._skip(directory, signature, f"{MANIFEST_FILE} is {_kind(st.st_mode)}")
        if st.st_size > self.max_manifest_size:
            limit = self.max_manifest_size
            return self._skip(directory, signature, f"{MANIFEST_FILE} is over {limit} bytes")
        return self._load(directory, manifest, signature)

    def _cached_or(self, directory: str, signature: tuple[Any, ...], error: OSError) -> _Entry:
        cached = self._entries.get(directory)
        if cached is not None and cached.signature == signature:
            return cached
        return self._skip(directory, signature, _short(error))

    def _skip(self, directory: str, signature: tuple[Any, ...], problem: str) -> _Entry:
        self.log.warning("Skipping local environment %s: %s", directory, problem)
        return _Entry(signature, directory, None, None)

    def _load(self, directory: str, manifest: str, signature: tuple[Any, ...]) -> _Entry:
        reference = directory
        try:
            data = read_manifest(manifest, limit=self.max_manifest_size)
            stream = manifest_to_stream(data, directory)
            reference = environment_of(data, directory)
            if python_of(reference) is None:
                raise model.InvalidImage(f"no bin/python in the environment {reference}")
            image = model.parse_image_stream(stream)
        except Exception as e:  # anything one entry does skips that entry only
            self.log.warning("Skipping local environment %s: %s", directory, _short(e))
            return _Entry(signature, reference, python_of(reference) is not None, None)
        for warning in image.warnings:
            self.log.warning("Local environment %s: %s", directory, warning[:_LOG_LIMIT])
        return _Entry(signature, reference, True, image)

    def _merge(
        self, found: list[tuple[str, int, model.NotebookImage]]
    ) -> list[model.NotebookImage]:
        """One image per name with all its tags; the result is reused while nothing changed
        (the menu re-renders only for new image objects)."""
        sources = [(d, image) for d, _, image in found]  # held: their ids stay unique
        if len(sources) == len(self._merged_from) and all(
            a[0] == b[0] and a[1] is b[1] for a, b in zip(sources, self._merged_from, strict=True)
        ):
            return list(self._merged)
        taken = [
            (d, image, f"image name {image.name} is reserved")
            for d, _, image in found
            if image.name == HUB_IMAGE_NAME
        ]
        merged, dropped = model.merge_tags([f for f in found if f[2].name != HUB_IMAGE_NAME])
        for directory, _, reason in taken + dropped:
            if directory not in self._reported_duplicates:
                self._reported_duplicates.add(directory)
                self.log.warning("Skipping local environment %s: %s", directory, reason)
        self._merged_from, self._merged = sources, merged
        return list(merged)
