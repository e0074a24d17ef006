"""The service tests' shared hub: a real hub from the shipped config running the build
service (recording backend), one for the whole package."""

from __future__ import annotations

import pytest

from .svc import builder_hub


@pytest.fixture(scope="package")
def builder(tmp_path_factory):
    """A real hub from the shipped config running the build service (recording backend)."""
    with builder_hub(tmp_path_factory.mktemp("builder-hub")) as service:
        yield service
