"""The service application: configuration, backend choice, start and stop as a process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import pytest
import requests
from traitlets import TraitError

from jupyterhub_ov.builds.backends.openshift.backend import OpenShiftBuildBackend
from jupyterhub_ov.builds.store import BuildStore
from jupyterhub_ov.service.app import PlatformService

from ..builds.scripted import ScriptedBackend
from ..util import REPO
from .standalone import service_process, stop


class PathImports(ScriptedBackend):
    import_source: ClassVar[str] = "path"


def test_backend_short_names_and_import_strings() -> None:
    app = PlatformService()
    app.backend_class = "tests.builds.scripted.ScriptedBackend"
    assert app.backend_class is ScriptedBackend
    app.backend_class = "openshift"
    assert app.backend_class is OpenShiftBuildBackend
    with pytest.raises(TraitError, match="jupyterhub_ov.builds.backends.nope.Nope"):
        app.backend_class = "jupyterhub_ov.builds.backends.nope.Nope"  # named when missing
    with pytest.raises(TraitError):
        app.backend_class = "builtins.dict"  # not a BuildBackend


def test_the_default_backend_is_local_and_resolved_lazily() -> None:
    app = PlatformService()  # works although the local backend may be missing
    try:
        assert app.backend_class.__name__ == "LocalBuildBackend"
    except TraitError as e:
        assert "jupyterhub_ov.builds.backends.local.LocalBuildBackend" in str(e)


def test_traits_reach_the_manager_and_import_source_follows_the_backend(tmp_path: Path) -> None:
    app = PlatformService(
        backend_class=PathImports,
        db_url=f"sqlite:///{tmp_path / 'b.sqlite'}",
        max_concurrent_builds=3,
        build_timeout=12.5,
        allow_package_urls=True,
        git_schemes=["https", "file"],
        git_hosts=[],
    )
    manager = app.make_manager()
    assert isinstance(manager.backend, PathImports)
    assert manager.policy.import_source == "path"
    assert manager.policy.allow_urls and manager.policy.git_schemes == ("https", "file")
    assert manager.policy.git_hosts == () and manager.timeout == 12.5
    assert isinstance(manager.store, BuildStore) and manager.store.url.endswith("b.sqlite")
    assert PlatformService(backend_class=ScriptedBackend).make_manager().policy.import_source == (
        "image"
    )


def test_env_gives_bind_url_and_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:9999")
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/services/x")
    app = PlatformService()
    assert (app.bind_url, app.service_prefix) == ("http://127.0.0.1:9999", "/services/x/")
    with pytest.raises(TraitError):
        PlatformService(max_body_size=0)


def run_service(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jupyterhub_ov.service", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_generate_config_then_the_file_is_loaded_and_the_command_line_wins(
    tmp_path: Path,
) -> None:
    done = run_service(tmp_path, "--generate-config")
    assert done.returncode == 0, done.stderr
    written = (tmp_path / "jupyterhub_ov_service_config.py").read_text()
    for option in ("backend_class", "db_url", "max_body_size", "keepalive_interval", "git_hosts"):
        assert f"# c.PlatformService.{option} =" in written
    config = tmp_path / "conf.py"
    config.write_text(
        "c.PlatformService.max_body_size = 1000\nc.PlatformService.build_timeout = 5\n"
    )
    app = PlatformService()
    app.initialize(["--config", str(config), "--PlatformService.build_timeout=7"])
    assert (app.max_body_size, app.build_timeout) == (1000, 7)


def test_the_process_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    args = ["--backend=tests.builds.scripted.ScriptedBackend", "--log-level=INFO"]
    with service_process(tmp_path, *args) as (proc, base):
        r = requests.get(base + "api/builds", timeout=5)
        assert r.status_code == 403  # no hub identity, no data
        err = stop(proc)
    assert "Stopping: builds in flight stay recorded" in err
    assert (tmp_path / "jupyterhub-ov-builds.sqlite").exists()  # default: working directory


class LifecycleBackend(ScriptedBackend):
    """Records its own start and stop."""

    calls: ClassVar[list[str]] = []

    async def start(self) -> None:
        LifecycleBackend.calls.append("start")

    async def stop(self) -> None:
        LifecycleBackend.calls.append("stop")


async def test_a_component_that_fails_to_start_unwinds_those_before_it(tmp_path: Path) -> None:
    import asyncio
    import socket

    LifecycleBackend.calls.clear()
    with socket.socket() as busy:  # the port the service is told to listen on is taken
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        app = PlatformService(
            backend_class=LifecycleBackend,
            db_url=f"sqlite:///{tmp_path / 'b.sqlite'}",
            bind_url=f"http://127.0.0.1:{port}",
        )
        before = asyncio.all_tasks()
        with pytest.raises(OSError, match="in use"):
            await app.serve()
    assert LifecycleBackend.calls == ["start", "stop"]
    # the notebook controller's poller was stopped too: nothing of the service is left running
    await asyncio.sleep(0)
    assert {t for t in asyncio.all_tasks() if not t.done()} <= before
