"""The local backend: builds notebook images as uv environments in a catalog directory.

backend.py (`LocalBuildBackend`), environments.py (layers, links, manifests), entries.py
(catalog entries and leftovers), repository.py (git checkouts), pins.py (locks against the
base), validate.py (runs the image check in an environment).
"""

from .backend import LocalBuildBackend

__all__ = ["LocalBuildBackend"]
