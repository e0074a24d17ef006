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
from .manifest import MANIFEST_FILE, manifest_to_stream

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
    signature: tuple[int, int, bool]
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
        images = [e.image for e in self._entries.values() if e.image]
        return self._drop_duplicates(images)

    def _entry(self, directory: str) -> _Entry:
        manifest = os.path.join(directory, MANIFEST_FILE)
        try:
            st = os.stat(manifest)
        except FileNotFoundError:
            # being built, or not an environment: not an error worth a log line
            return _Entry((0, 0, False), None)
        signature = (st.st_mtime_ns, st.st_size, python_of(directory) is not None)
        cached = self._entries.get(directory)
        if cached and cached.signature == signature:
            return cached
        return _Entry(signature, self._load(directory, manifest, signature[2]))

    def _load(self, directory: str, manifest: str, has_python: bool) -> model.NotebookImage | None:
        try:
            if not has_python:
                raise model.InvalidImage("no bin/python in the environment")
            data = json.loads(Path(manifest).read_text(encoding="utf-8"))
            image = model.parse_image_stream(manifest_to_stream(data, directory))
        except (OSError, ValueError) as e:  # InvalidImage and JSON errors are ValueErrors
            self.log.warning("Skipping local environment %s: %s", directory, e)
            return None
        for warning in image.warnings:
            self.log.warning("Local environment %s: %s", directory, warning)
        return image

    def _drop_duplicates(self, images: list[model.NotebookImage]) -> list[model.NotebookImage]:
        seen: dict[str, model.NotebookImage] = {}
        for image in images:
            if image.name in seen or image.name == HUB_IMAGE_NAME:
                directory = image.tags[0].reference
                if directory not in self._reported_duplicates:
                    self._reported_duplicates.add(directory)
                    self.log.warning(
                        "Skipping local environment %s: image name %s is already taken",
                        directory,
                        image.name,
                    )
                continue
            seen[image.name] = image
        return list(seen.values())
