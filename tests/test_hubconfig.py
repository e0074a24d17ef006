"""jupyterhub_ov.hubconfig: the platform service's wiring, added beside what a configuration
has, as both shipped configurations call it."""

from __future__ import annotations

from traitlets.config import Config

from jupyterhub_ov import lifeline
from jupyterhub_ov.hubconfig import add_platform_service
from jupyterhub_ov.service.scopes import CUSTOM_SCOPES, MODEL_WRITE_SCOPE, WRITE_SCOPE


def test_the_service_its_scopes_and_roles_join_what_is_configured() -> None:
    c = Config()
    c.JupyterHub.services.append({"name": "embedded-s3", "command": ["s3"]})
    c.JupyterHub.custom_scopes = {"custom:other": {"description": "another service's"}}
    c.JupyterHub.load_roles = [{"name": "prometheus", "scopes": ["read:metrics"]}]
    add_platform_service(
        c, command=["svc"], url="http://10.0.0.5:8011", cwd="/srv", environment={"A": "1"},
        admins={"bob", "admin"},
    )  # fmt: skip
    first, service = c.JupyterHub.services
    assert first["name"] == "embedded-s3"
    assert (service["name"], service["url"], service["command"]) == (
        "image-builder", "http://10.0.0.5:8011", lifeline.wrap(["svc"]),
    )  # fmt: skip
    assert service["environment"] == {"A": "1"} and service["cwd"] == "/srv"
    assert set(service["oauth_client_allowed_scopes"]) == set(CUSTOM_SCOPES)
    assert c.JupyterHub.custom_scopes == {"custom:other": {"description": "another service's"},
                                          **CUSTOM_SCOPES}  # fmt: skip
    roles = {role["name"]: role for role in c.JupyterHub.load_roles}
    assert list(roles) == ["prometheus", "user", "image-build-admin", "model-server-admin"]
    assert "access:services!service=image-builder" in roles["user"]["scopes"]
    assert WRITE_SCOPE not in roles["user"]["scopes"]
    assert roles["image-build-admin"]["users"] == ["admin", "bob"]
    assert MODEL_WRITE_SCOPE in roles["model-server-admin"]["scopes"]
