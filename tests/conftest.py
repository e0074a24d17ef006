"""Shared test set-up: nothing the tests start may read or write the machine's real home."""

from __future__ import annotations

import os
import tempfile

from hypothesis import settings

# the build fixtures (wheels, git repositories, backend cases) serve every suite
pytest_plugins = ["tests.builds.fixtures"]

# property tests judge results, never speed (speed is bench/'s): hypothesis's 200 ms deadline
# per example failed them on a loaded machine
settings.register_profile("jupyterhub-ov", deadline=None)
settings.load_profile("jupyterhub-ov")

_home = tempfile.mkdtemp(prefix="jupyterhub-ov-test-home-")
for _var, _sub in (
    ("HOME", ""),
    ("JUPYTER_CONFIG_DIR", "jupyter-config"),
    ("JUPYTER_DATA_DIR", "jupyter-data"),
    ("JUPYTER_RUNTIME_DIR", "jupyter-runtime"),
):
    os.environ[_var] = os.path.join(_home, _sub)
# a real S3 endpoint's credentials in the environment must never reach our code under test
# ... and the shipped config must run with its documented defaults
for _var in (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "JUPYTERHUB_OV_SHARED_IDENTITY",
    "JUPYTERHUB_OV_USER_PREFIX",
    "JUPYTERHUB_OV_ADMIN_PASSWORD",
    "JUPYTERHUB_OV_S3_ENDPOINT",
    "JUPYTERHUB_OV_BUILDER_BACKEND",
):
    os.environ.pop(_var, None)


def pytest_configure(config) -> None:
    """As root, hubs run users' servers as accounts of their own, which must pass through the
    test's directories: pytest's own temp root is private (0700, and every pytest session
    closes it again), so each session gets a root of its own that others may traverse."""
    if os.geteuid() != 0:
        return
    from .accounts import sweep_stale, traversable_basetemp

    sweep_stale()
    if config.option.basetemp is None:
        config.option.basetemp = str(traversable_basetemp())
