"""The exceptions of building that leaf modules (subprocesses, locks, checkouts, backends)
raise; the manager turns them into a build's Failure. Imports nothing of the package."""

from __future__ import annotations


class BuildFailed(Exception):
    """The build cannot succeed; the message says why, for the admin reading the panel."""
