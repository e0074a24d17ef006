"""Pure: what a build publishes: the image the spawner menu offers, and its packages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from jupyterhub_ov.images.model import Software as Package  # a published image's package

__all__ = ["Package", "PublishedImage"]


@dataclass(frozen=True)
class PublishedImage:
    """A validated image that the spawner menu now offers."""

    #: ``<name>:<tag>``
    image: str
    #: what runs it: a pullable image reference or an environment directory
    reference: str
    python_version: str = ""
    #: top-level packages of the result (recorded in the image's annotations/manifest)
    packages: Sequence[Package] = field(default=())
