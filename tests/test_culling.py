"""The idle culler's service and role, and how configurations add them."""

from __future__ import annotations

import sys

import pytest
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from jupyterhub_ov import lifeline
from jupyterhub_ov.culling import CULLER_SCOPES, add_idle_culler, idle_culler, parse_timeout

from .hubproc import SHIPPED_CONFIG


def test_the_service_runs_the_culler_with_the_timeout_and_the_role_has_its_scopes():
    service, role = idle_culler(3600)
    assert service == {
        "name": "idle-culler",
        "command": lifeline.wrap(
            [sys.executable, "-m", "jupyterhub_idle_culler", "--timeout=3600", "--cull-every=360"]
        ),
    }
    assert role == {
        "name": "idle-culler-role",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    }
    assert "admin:users" not in CULLER_SCOPES  # it never deletes users
    assert idle_culler(30)[0]["command"][-1] == "--cull-every=10"
    assert idle_culler(86400)[0]["command"][-1] == "--cull-every=600"
    assert idle_culler(30, cull_every=2)[0]["command"][-1] == "--cull-every=2"


@pytest.mark.parametrize("timeout, every", [(0, 0), (-5, 0), (60, -1)])
def test_bad_timeouts_are_refused(timeout, every):
    with pytest.raises(ValueError, match="seconds"):
        idle_culler(timeout, cull_every=every)


def test_adding_keeps_the_services_and_roles_already_configured():
    c = Config()
    c.JupyterHub.services = [{"name": "image-builder"}]
    c.JupyterHub.load_roles = [{"name": "user", "scopes": ["self"]}]
    add_idle_culler(c, 600)
    assert [s["name"] for s in c.JupyterHub.services] == ["image-builder", "idle-culler"]
    assert [r["name"] for r in c.JupyterHub.load_roles] == ["user", "idle-culler-role"]


def test_adding_keeps_what_was_appended_to_an_unset_option():
    c = Config()
    c.JupyterHub.services.append({"name": "test-admin"})
    add_idle_culler(c, 600)
    assert [s["name"] for s in c.JupyterHub.services] == ["test-admin", "idle-culler"]
    assert [r["name"] for r in c.JupyterHub.load_roles] == ["idle-culler-role"]


def test_timeouts_from_the_environment():
    assert parse_timeout("", name="X") == 0
    assert parse_timeout(" 0 ", name="X") == 0
    assert parse_timeout("900", name="X") == 900
    with pytest.raises(ValueError, match=r"X must be whole seconds .* not '15m'"):
        parse_timeout("15m", name="X")


def shipped(tmp_path, monkeypatch: pytest.MonkeyPatch, **env: str) -> Config:
    monkeypatch.setenv("JUPYTERHUB_OV_DATA_DIR", str(tmp_path))
    for name in ("JUPYTERHUB_OV_CULL_IDLE_TIMEOUT", "JUPYTERHUB_OV_CULL_EVERY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return PyFileConfigLoader(SHIPPED_CONFIG.name, str(SHIPPED_CONFIG.parent)).load_config()


def test_the_shipped_config_culls_only_when_the_environment_says_so(tmp_path, monkeypatch):
    config = shipped(tmp_path, monkeypatch)  # `make run`: off
    assert "idle-culler" not in [s["name"] for s in config.JupyterHub.services]
    assert "idle-culler-role" not in [r["name"] for r in config.JupyterHub.load_roles]

    config = shipped(tmp_path, monkeypatch, JUPYTERHUB_OV_CULL_IDLE_TIMEOUT="1800")
    services = {s["name"]: s for s in config.JupyterHub.services}
    assert {"image-builder", "idle-culler"} <= set(services)  # added, nothing replaced
    assert services["idle-culler"]["command"][-2:] == ["--timeout=1800", "--cull-every=180"]
    roles = {r["name"]: r for r in config.JupyterHub.load_roles}
    assert {"user", "image-build-admin", "idle-culler-role"} <= set(roles)
    assert roles["idle-culler-role"]["services"] == ["idle-culler"]

    with pytest.raises(ValueError, match="JUPYTERHUB_OV_CULL_IDLE_TIMEOUT must be whole seconds"):
        shipped(tmp_path, monkeypatch, JUPYTERHUB_OV_CULL_IDLE_TIMEOUT="1h")
