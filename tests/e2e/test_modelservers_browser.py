"""Model servers in the panel, in a real browser: an admin's invalid spec shows every problem
beside its field and creates nothing; a good one appears and becomes Available with its
endpoint and model, is scaled and deleted; a plain user sees the list and the endpoints and
no controls. The servers are real (local backend: the ovms program on a real model)."""

from __future__ import annotations

import re

import pytest

from ..browser import browser_page, log_in, open_service
from ..service.features.modelservers.cases import save_model
from ..service.svc import builder_hub
from ..util import ARTIFACTS

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def builder(tmp_path_factory):
    with builder_hub(tmp_path_factory.mktemp("modelservers-browser")) as service:
        volume = service.hub.state / "model-volumes" / "claims" / "pvc"
        save_model(volume / "affine" / "1" / "model.xml")
        yield service


def listed(builder) -> list[str]:
    answer = builder.api("GET", "/api/modelservers").json()
    return [s["name"] for s in answer["modelservers"]]


def test_an_admin_creates_scales_and_deletes_a_model_server(builder) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with browser_page(str(ARTIFACTS / "FAILED-modelservers-panel.png")) as page:
        log_in(page, builder.hub.url, "admin", builder.hub.admin_password)
        page.wait_for_url(re.compile(r".*/hub/spawn.*"))
        open_service(page, builder.hub.url, "image-builder")
        page.get_by_role("button", name="Create ModelServer").click()
        # the operator's defaults are filled in
        assert page.input_value("#ms-image_name") == "openvino/model_server:2026.4.1"
        assert page.input_value("#ms-grpc_port") == "8080"
        assert page.input_value("#ms-rest_port") == "8081"
        assert page.input_value("#ms-model_version_policy") == '{"latest": {"num_versions": 1}}'

        page.fill("#ms-name", "Bad Name")
        page.fill("#ms-model_path", "ftp://models/affine")
        page.fill("#ms-grpc_port", "8081")
        page.fill("#ms-plugin_config", "{not json")
        page.click("#submit-modelserver")
        page.wait_for_selector("#ms-name.is-invalid")
        for field in ("name", "model_path", "grpc_port", "plugin_config"):
            assert page.locator(f"#ms-{field}.is-invalid").count() == 1, field
        assert "metadata.name 'Bad Name'" in page.inner_text("#ms-name ~ .invalid-feedback")
        assert "ftp://" in page.inner_text("#ms-model_path ~ .invalid-feedback")
        assert "both 8081" in page.inner_text("#ms-grpc_port ~ .invalid-feedback")
        page.screenshot(path=str(ARTIFACTS / "modelservers-form-errors.png"), full_page=True)
        assert listed(builder) == []

        page.fill("#ms-name", "affine")
        page.fill("#ms-model_name", "affine")
        page.fill("#ms-model_path", "/models/affine")
        page.fill("#ms-models_volume_claim", "pvc")
        page.fill("#ms-grpc_port", "8080")
        page.fill("#ms-plugin_config", '{"PERFORMANCE_HINT": "LATENCY"}')
        page.click("#submit-modelserver")
        row = page.locator('tr[data-modelserver="affine"]')
        row.wait_for()
        page.wait_for_selector(
            'tr[data-modelserver="affine"][data-state="Available"]', timeout=90_000
        )
        rest = row.locator('[data-endpoint="rest"]').inner_text()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", rest)
        model = row.locator('[data-model="affine"][data-ready="true"]')
        assert model.inner_text() == "affine ready, version 1"
        assert row.locator('[data-field="replicas"]').inner_text() == "1 / 1"
        page.screenshot(path=str(ARTIFACTS / "modelservers-available.png"), full_page=True)

        row.locator('[data-scale-input="affine"]').fill("0")
        row.locator('[data-scale="affine"]').click()
        page.wait_for_selector('tr[data-modelserver="affine"][data-state="ScaledToZero"]')
        page.locator('[data-scale-input="affine"]').fill("1")
        page.locator('[data-scale="affine"]').click()
        page.wait_for_selector(
            'tr[data-modelserver="affine"][data-state="Available"]', timeout=90_000
        )

        page.once("dialog", lambda dialog: dialog.accept())
        page.locator('[data-delete="affine"]').click()
        page.wait_for_selector('tr[data-modelserver="affine"]', state="detached")
        assert listed(builder) == []


def test_a_user_sees_servers_and_endpoints_read_only(builder) -> None:
    body = {
        "metadata": {"name": "shown"},
        "spec": {
            "model_name": "affine",
            "model_path": "/models/affine",
            "models_volume_claim": "pvc",
        },
    }
    assert builder.api("POST", "/api/modelservers", json=body).status_code == 201
    try:
        with browser_page(str(ARTIFACTS / "FAILED-modelservers-readonly.png")) as page:
            log_in(page, builder.hub.url, "erin", "jupyterhub-ov")
            page.wait_for_url(re.compile(r".*/hub/spawn.*"))
            page.goto(f"{builder.url}/")
            page.wait_for_selector(
                'tr[data-modelserver="shown"][data-state="Available"]', timeout=90_000
            )
            row = page.locator('tr[data-modelserver="shown"]')
            assert row.locator('[data-endpoint="rest"]').count() == 1
            assert page.locator("#new-modelserver-toggle").count() == 0
            assert page.locator("#new-modelserver").count() == 0
            assert row.locator("[data-delete], [data-scale]").count() == 0
            page.screenshot(path=str(ARTIFACTS / "modelservers-readonly.png"), full_page=True)
            # and the API refuses the write the page does not offer
            status = page.evaluate(
                """async () => {
                    const r = await window.OVPanel.api("DELETE", "modelservers/shown");
                    return r.status;
                }"""
            )
            assert status == 403
    finally:
        assert builder.api("DELETE", "/api/modelservers/shown").status_code == 204
