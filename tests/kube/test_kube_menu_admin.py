"""BYON import errors in the menu of a real hub on the simulator: admins see them, users not."""

from __future__ import annotations

from jupyterhub_ov.images.kube import GROUP, PLURAL, VERSION

from ..hubproc import spawn_page
from .conftest import kube_hub

MERGE = "application/merge-patch+json"
ADMIN_PASSWORD = "an-admin-password-of-32-characters-at-least"
ADMINS = f"""
c.Authenticator.admin_users = {{"ada"}}
c.SharedPasswordAuthenticator.admin_password = {ADMIN_PASSWORD!r}
"""
FAILED = {
    "tag": "1.0",
    "conditions": [{"type": "ImportSuccess", "status": "False", "message": "manifest unknown"}],
}


async def test_import_errors_are_shown_to_admins_only(tmp_path):
    async with kube_hub(tmp_path, ADMINS) as kube:
        body = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "ImageStream",
            "metadata": {
                "name": "custom-broken",
                "labels": {"opendatahub.io/notebook-image": "true"},
            },
            "spec": {"tags": [{"name": "1.0"}]},  # as the importer left it: the import failed
        }
        await kube.custom.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, body)
        await kube.custom.patch_namespaced_custom_object_status(  # type: ignore[call-arg]
            GROUP,
            VERSION,
            "default",
            PLURAL,
            "custom-broken",
            {"status": {"tags": [FAILED]}},
            _content_type=MERGE,
        )
        problem = "default/custom-broken: 1.0: manifest unknown"
        for _ in range(50):  # the hub's watch delivers the status within moments
            admin = await kube.run(spawn_page, kube.hub.url, "ada", ADMIN_PASSWORD)
            if problem in admin:
                break
        assert "Image import problems (1, shown to admins)" in admin and problem in admin
        user = await kube.run(spawn_page, kube.hub.url, "bea", "kube-test-password")
        assert "Image import problems" not in user and "custom-broken" not in user
        assert "SciPy" in user  # the user's menu itself is there
