"""Fixtures of the build tests, for every suite (a plugin of tests/conftest.py): tiny wheels,
git repositories, the OpenVINO wheels and the backend cases."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from .cases import BACKENDS, BackendCase
from .gitrepos import Repo, make_repo
from .openvino_wheels import openvino_wheels as download_openvino_wheels
from .wheels import tiny_index


@pytest.fixture(scope="session")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A find-links directory of tiny wheels (see `wheels.tiny_index`)."""
    return tiny_index(tmp_path_factory.mktemp("wheels"))


@pytest.fixture(scope="session")
def openvino_wheels() -> Path:
    """A find-links directory with the real ``openvino`` wheel and what its lock needs here,
    downloaded at most once per run (and kept in ``.cache/wheels`` for later runs)."""
    return download_openvino_wheels()


@pytest.fixture(scope="session")
def notebook_repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    """A repository with a notebook and ``ovtiny==1.0`` in its requirements.txt."""
    return make_repo(
        tmp_path_factory.mktemp("git") / "demo",
        "# what the demo needs\novtiny==1.0  # pinned\n\n",
    )


@pytest.fixture(scope="session")
def hostile_repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    """A repository whose requirements.txt tries to pick the package index."""
    return make_repo(
        tmp_path_factory.mktemp("git") / "hostile",
        "ovtiny==1.0\n--index-url https://evil.example/simple\n",
    )


@pytest.fixture(scope="session")
def broken_repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    """A repository whose requirements install a package that breaks the environment."""
    return make_repo(tmp_path_factory.mktemp("git") / "broken", "ovbreak==1.0\n")


@pytest.fixture(params=BACKENDS)
async def backend_case(request: pytest.FixtureRequest) -> AsyncIterator[BackendCase]:
    module = importlib.import_module(f"{__package__}.cases.{request.param}")
    async with module.case(request) as case:
        yield case
