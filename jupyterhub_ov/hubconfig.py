"""The platform service in a hub's configuration: the managed service, the service's custom
scopes and the roles granting them — one wiring for the shipped ``jupyterhub_config.py``
(local mode) and deploy/'s (OpenShift mode)::

    from jupyterhub_ov.hubconfig import add_platform_service
    add_platform_service(c, command=[...], url="http://127.0.0.1:8011", cwd=..., environment={})

Every user may open the service and read builds and model servers; ``admins`` (the hub's
admin users) may also change them (roles ``image-build-admin`` and ``model-server-admin``:
add users or groups to them in the configuration).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from traitlets.config import LazyConfigValue

from jupyterhub_ov import lifeline
from jupyterhub_ov.service.scopes import (
    CUSTOM_SCOPES,
    MODEL_READ_SCOPE,
    MODEL_WRITE_SCOPE,
    READ_SCOPE,
    WRITE_SCOPE,
)

#: the service's name in the hub (its URL prefix /services/<name>/, its Services menu entry)
SERVICE_NAME = "image-builder"


def platform_service(
    *,
    command: list[str],
    url: str,
    cwd: str,
    environment: Mapping[str, str],
    name: str = SERVICE_NAME,
) -> dict[str, Any]:
    """The entry of ``c.JupyterHub.services`` running the platform service as ``command``."""
    return {
        "name": name,
        "url": url,
        "display": True,
        # ends with the hub: a killed hub's service would hold the port its successor needs
        "command": lifeline.wrap(command),
        "cwd": cwd,
        # JupyterHub starts services with a reduced environment: what they need of the
        # hub's (CA bundle, proxy, index, kubeconfig) must be handed on
        "environment": dict(environment),
        # without these the OAuth tokens of browser sessions never carry the service's scopes
        "oauth_client_allowed_scopes": [
            READ_SCOPE,
            WRITE_SCOPE,
            MODEL_READ_SCOPE,
            MODEL_WRITE_SCOPE,
        ],
        "oauth_no_confirm": True,
    }


def platform_roles(admins: Iterable[str], *, name: str = SERVICE_NAME) -> list[dict[str, Any]]:
    """The roles: JupyterHub's default ``user`` role (["self"]) plus opening the service and
    reading; ``image-build-admin`` (start, cancel, retry, delete builds) and
    ``model-server-admin`` (create, scale, delete model servers) for ``admins``."""
    access = f"access:services!service={name}"
    users = sorted(admins)
    return [
        {"name": "user", "scopes": ["self", access, READ_SCOPE, MODEL_READ_SCOPE]},
        {"name": "image-build-admin", "scopes": [WRITE_SCOPE, access], "users": users},
        {"name": "model-server-admin", "scopes": [MODEL_WRITE_SCOPE, access], "users": users},
    ]


def add_platform_service(
    c: Any,
    *,
    command: list[str],
    url: str,
    cwd: str,
    environment: Mapping[str, str],
    admins: Iterable[str],
    name: str = SERVICE_NAME,
) -> None:
    """Add the platform service, its custom scopes and roles to a JupyterHub configuration
    ``c``, next to the services, scopes and roles it already has."""
    hub = c.JupyterHub
    service = platform_service(
        command=command, url=url, cwd=cwd, environment=environment, name=name
    )
    hub.services = [*current_list(hub, "services"), service]
    hub.load_roles = [*current_list(hub, "load_roles"), *platform_roles(admins, name=name)]
    scopes = hub.custom_scopes if "custom_scopes" in hub else {}
    hub.custom_scopes = {**scopes, **CUSTOM_SCOPES}


def current_list(section: Any, key: str) -> list[Any]:
    """A list option of a config section as configured so far: a set list, or what was
    appended to the option while unset (traitlets' lazy value), or nothing."""
    if key not in section:
        return []
    value = section[key]
    if isinstance(value, LazyConfigValue):
        return list(value.get_value([]))
    return list(value)
