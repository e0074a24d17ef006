"""The local image catalog: Python environments in a directory, plus the hub's own.

Scanning is cheap (one ``scandir`` and a ``stat`` per environment) and results are cached by
manifest mtime/size, so a broken environment is logged once, not on every menu render, and a
new or rebuilt environment shows up on the next render without a restart.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import ClassVar

from traitlets import Bool, Float, Unicode
from traitlets.config import LoggingConfigurable

from . import model
from .manifest import MANIFEST_FILE, environment_of, manifest_to_stream

HUB_IMAGE_NAME = "default-notebook"
_HUB_PACKAGES = ("jupyterlab", "jupyterhub", "ipykernel", "boto3")


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


@dataclass
class _Entry:
    #: manifest mtime (ns) and size: a rewritten manifest is read again
    signature: tuple[int, int]
    #: the environment the manifest names (the entry itself unless it references another)
    reference: str
    has_python: bool
    image: model.NotebookImage | None


class LocalImageCatalog(LoggingConfigurable):
    """Environments under `catalog_dir`, each a directory with `notebook-image.json`."""

    catalog_dir = Unicode(
        "",
        config=True,
        help="""Directory of local environments (one sub-directory each, with a
        notebook-image.json manifest and bin/python). Empty: only the hub's environment.""",
    )
    include_hub_environment = Bool(
        True,
        config=True,
        help="Offer the hub's own Python environment as the default image.",
    )
    rescan_interval = Float(
        1.0,
        config=True,
        help="Seconds during which menu renders reuse the last scan of catalog_dir.",
    )

    #: id(config) → (that config, its catalog); the config is kept so an id is never reused
    _shared: ClassVar[dict[int, tuple[object, LocalImageCatalog]]] = {}

    @classmethod
    def shared(cls, parent: object) -> LocalImageCatalog:
        """One catalog per hub configuration, shared by all its spawners (built once, not
        on every menu render)."""
        config = getattr(parent, "config", None)
        found = cls._shared.get(id(config))
        if found is None or found[0] is not config:
            found = cls._shared[id(config)] = (config, cls(parent=parent))
        return found[1]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._entries: dict[str, _Entry] = {}
        self._scanned_at = float("-inf")
        self._images: list[model.NotebookImage] = []
        self._reported_duplicates: set[str] = set()
        self._merged_from: list[tuple[str, model.NotebookImage]] = []
        self._merged: list[model.NotebookImage] = []

    def images(self) -> list[model.NotebookImage]:
        """Visible images in menu order."""
        now = time.monotonic()
        if now - self._scanned_at >= self.rescan_interval:
            self._scanned_at = now
            found = self._scan()
            if self.include_hub_environment:
                found.append(hub_image())
            self._images = model.sort_images(i for i in found if i.visible)
        return list(self._images)

    def _scan(self) -> list[model.NotebookImage]:
        if not self.catalog_dir:
            return []
        try:
            dirs = sorted(e.path for e in os.scandir(self.catalog_dir) if e.is_dir())
        except FileNotFoundError:
            return []
        except OSError as e:
            self.log.warning("Cannot read image catalog %s: %s", self.catalog_dir, e)
            return []
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
            st = os.stat(manifest)
        except FileNotFoundError:
            # being built, or not an environment: not an error worth a log line
            return _Entry((0, 0), directory, False, None)
        signature = (st.st_mtime_ns, st.st_size)
        cached = self._entries.get(directory)
        if (
            cached
            and cached.signature == signature
            and cached.has_python == (python_of(cached.reference) is not None)
        ):
            return cached
        return self._load(directory, manifest, signature)

    def _load(self, directory: str, manifest: str, signature: tuple[int, int]) -> _Entry:
        reference = directory
        try:
            data = json.loads(Path(manifest).read_text(encoding="utf-8"))
            stream = manifest_to_stream(data, directory)
            reference = environment_of(data, directory)
            if python_of(reference) is None:
                raise model.InvalidImage(f"no bin/python in the environment {reference}")
            image = model.parse_image_stream(stream)
        except (OSError, ValueError) as e:  # InvalidImage and JSON errors are ValueErrors
            self.log.warning("Skipping local environment %s: %s", directory, e)
            return _Entry(signature, reference, python_of(reference) is not None, None)
        for warning in image.warnings:
            self.log.warning("Local environment %s: %s", directory, warning)
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
