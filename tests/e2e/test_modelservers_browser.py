"""Model servers in the panel, in a real browser: an admin's invalid spec shows every problem
beside its field and creates nothing; a good one appears and becomes Available with its
endpoint and model, is scaled and deleted; a plain user sees the list and the endpoints and
no controls. The servers are real (local backend: the ovms program on a real model)."""

from __future__ import annotations

import re
from pathlib import Path

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


def test_a_model_in_a_users_bucket_is_served_to_a_real_client(builder) -> None:
    """The local Proof without the notebook kernel: alice's bucket and keys as a notebook
    launch makes them, her model uploaded with those keys, the admin creates the server in the
    panel naming her claim, and tritonclient[http] gets the right answer; a second version
    uploaded later is served after the poll interval, by the same process."""
    import asyncio
    import time

    import numpy as np
    import tritonclient.http as httpclient

    from jupyterhub_ov.storage.s3local import LocalBucketProvisioner

    from ..s3server import S3Server

    provisioner = LocalBucketProvisioner(credentials_file=str(builder.hub.state / "s3-admin.json"))
    alice = asyncio.run(provisioner.ensure("alice"))  # what her notebook's launch does
    s3 = S3Server(alice.endpoint_url, builder.hub.state / "s3-admin.json")
    client = s3.client("s3", alice.access_key_id, alice.secret_access_key)
    work = builder.hub.state.parent / "alice-work"

    def upload(version: int, factor: float) -> None:
        local = work / str(version) / "model.xml"
        save_model(local, factor=factor)
        for name in ("model.xml", "model.bin"):
            key = f"models/affine/{version}/{name}"
            client.put_object(Bucket=alice.bucket, Key=key, Body=(local.parent / name).read_bytes())

    upload(1, 2.0)
    with browser_page(str(ARTIFACTS / "FAILED-modelservers-bucket.png")) as page:
        log_in(page, builder.hub.url, "admin", builder.hub.admin_password)
        page.wait_for_url(re.compile(r".*/hub/spawn.*"))
        page.goto(f"{builder.url}/")
        page.get_by_role("button", name="Create ModelServer").click()
        page.fill("#ms-name", "alices-affine")
        page.fill("#ms-model_name", "affine")
        page.fill("#ms-model_path", f"s3://{alice.bucket}/models/affine")
        page.fill("#ms-bucket_claim", "jupyter-bucket-alice")
        page.click("#submit-modelserver")
        selector = 'tr[data-modelserver="alices-affine"][data-state="Available"]'
        page.wait_for_selector(selector, timeout=90_000)
        rest = page.locator(f'{selector} [data-endpoint="rest"]').inner_text()
        page.screenshot(path=str(ARTIFACTS / "modelservers-bucket-available.png"), full_page=True)

    triton = httpclient.InferenceServerClient(rest.removeprefix("http://"))
    x = np.array([[1, 2, 3, 4]], dtype=np.float32)

    def infer() -> list[float]:
        tensor = httpclient.InferInput("x", [1, 4], "FP32")
        tensor.set_data_from_numpy(x)
        return (
            triton.infer("affine", [tensor])
            .as_numpy(triton.get_model_metadata("affine")["outputs"][0]["name"])
            .tolist()[0]
        )

    assert infer() == [3.0, 5.0, 7.0, 9.0]
    pid = builder.api("GET", "/api/modelservers/alices-affine").json()["process"]["replicas"][0][
        "pid"
    ]
    upload(2, 10.0)  # a new version: served after file_system_poll_wait_seconds (1), no restart
    deadline = time.monotonic() + 20
    while infer() != [11.0, 21.0, 31.0, 41.0]:
        assert time.monotonic() < deadline, "version 2 is not served"
        time.sleep(0.2)
    view = builder.api("GET", "/api/modelservers/alices-affine").json()
    assert (
        view["process"]["replicas"][0]["pid"] == pid
        and view["process"]["replicas"][0]["restarts"] == 0
    )
    assert view["models"][0]["versions"] == ["2"]  # the operator's default policy: latest 1
    # its key: not in the hub's and the service's log, nor in the service's database
    raw = (Path("/proc") / str(pid) / "environ").read_bytes().split(b"\0")
    env = dict(item.decode().split("=", 1) for item in raw if b"=" in item)
    secret = env["AWS_SECRET_ACCESS_KEY"]
    assert env["AWS_ACCESS_KEY_ID"] != alice.access_key_id
    assert secret not in builder.hub.log()
    databases = list(builder.hub.state.glob("builds.sqlite*"))
    assert databases and "Model server alices-affine[0] started" in builder.hub.log()
    for database in databases:
        assert secret.encode() not in database.read_bytes()
    assert builder.api("DELETE", "/api/modelservers/alices-affine").status_code == 204
