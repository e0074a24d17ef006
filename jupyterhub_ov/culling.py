"""Idle culling: `jupyterhub-idle-culler` as a hub-managed service, and the role it needs.

A configuration turns it on with one call (docs/metrics.md, "Idle culling")::

    from jupyterhub_ov.culling import add_idle_culler
    add_idle_culler(c, timeout=3600)

The culler stops servers whose last activity is older than ``timeout`` seconds. Stopping is
all it does: the user's PVC and bucket claim (OpenShift mode) or work directory and bucket
(local mode) stay, because neither spawner removes them on stop; the next start finds them.
"""

from __future__ import annotations

import sys
from typing import Any

from jupyterhub_ov import lifeline
from jupyterhub_ov.digits import is_number
from jupyterhub_ov.hubconfig import current_list

#: the service's name in the hub (its role is named after it)
SERVICE_NAME = "idle-culler"

#: exactly what the culler uses without --cull-users: list users and their servers' activity
#: (list:users, read:users:activity, read:servers) and stop servers (delete:servers)
CULLER_SCOPES = ("list:users", "read:users:activity", "read:servers", "delete:servers")


def parse_timeout(value: str, *, name: str) -> int:
    """Seconds from an environment variable's text: "" or "0" is off (0); else a positive
    whole number, or ValueError saying what ``name`` must be."""
    text = value.strip()
    if not text:
        return 0
    if not is_number(text):
        raise ValueError(f"{name} must be whole seconds (0 or empty: off), not {value!r}")
    return int(text)


def idle_culler(
    timeout: int, *, cull_every: int = 0, name: str = SERVICE_NAME
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The managed service running the culler with ``timeout`` seconds, checking every
    ``cull_every`` seconds (0: a tenth of the timeout, between 10 s and 10 min), and the
    role granting it `CULLER_SCOPES`."""
    if timeout <= 0:
        raise ValueError(f"the idle timeout must be a positive number of seconds, not {timeout}")
    if cull_every < 0:
        raise ValueError(f"cull_every must be 0 or positive seconds, not {cull_every}")
    every = cull_every or min(600, max(10, timeout // 10))
    service = {
        "name": name,
        "command": lifeline.wrap(
            [
                sys.executable,
                "-m",
                "jupyterhub_idle_culler",
                f"--timeout={timeout}",
                f"--cull-every={every}",
            ]
        ),
    }
    role = {"name": f"{name}-role", "scopes": list(CULLER_SCOPES), "services": [name]}
    return service, role


def add_idle_culler(c: Any, timeout: int, *, cull_every: int = 0) -> None:
    """Add the culler to a JupyterHub configuration ``c``, next to the services and roles
    it already has."""
    service, role = idle_culler(timeout, cull_every=cull_every)
    hub = c.JupyterHub
    hub.services = [*current_list(hub, "services"), service]
    hub.load_roles = [*current_list(hub, "load_roles"), role]
