"""Fixtures of the build service's tests.

- ``builder``: a real hub from the shipped config running the build service (recording
  backend), shared by the package's service tests.
- ``backend_case``: the backend contract suite's fixture, one `BackendCase` per backend kind.
  Each kind's set-up lives in ``cases/<kind>.py`` (see `cases`); the suite itself is
  ``test_backend_contract.py``. A new backend joins by adding its module and its kind here.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from .cases import BackendCase
from .svc import builder_hub

BACKEND_KINDS = ["openshift"]


@pytest.fixture(scope="package")
def builder(tmp_path_factory):
    """A real hub from the shipped config running the build service (recording backend)."""
    with builder_hub(tmp_path_factory.mktemp("builder-hub")) as service:
        yield service


@pytest.fixture(params=BACKEND_KINDS)
async def backend_case(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[BackendCase]:
    module = importlib.import_module(f"{__package__}.cases.{request.param}")
    async with module.case(tmp_path) as case:
        yield case
