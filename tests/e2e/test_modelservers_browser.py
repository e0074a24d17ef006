"""Model servers in the panel, in a real browser: an admin's invalid spec shows every problem
beside its field and creates nothing; a good one appears and becomes Available with its
endpoint and model, is scaled and deleted; a plain user sees the list and the endpoints and
no controls; and the local Proof of issue 13, a notebook's model in its user's bucket served
to tritonclient in that notebook's kernel. The servers are real (local backend: the ovms
program on a real model)."""

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


#: in alice's kernel: y = factor·x + 1 saved with openvino.save_model and put in her bucket
#: as models/affine/<version>/, with nothing but the variables her notebook was given
UPLOAD = """
import json, os, pathlib, tempfile
import boto3, numpy as np, openvino as ov
from openvino import opset13 as ops
x = ops.parameter([1, 4], np.float32, name="x")
y = ops.add(ops.multiply(x, ops.constant(np.float32({factor}))), ops.constant(np.float32(1)))
work = pathlib.Path(tempfile.mkdtemp())
ov.save_model(ov.Model([y], [x], "affine"), str(work / "model.xml"))
s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT_URL"])
bucket = os.environ["BUCKET_NAME"]
for name in ("model.xml", "model.bin"):
    s3.upload_file(str(work / name), bucket, f"models/affine/{version}/{{name}}")
print(json.dumps({{"bucket": bucket, "key_id": os.environ["AWS_ACCESS_KEY_ID"]}}))
"""
#: in alice's kernel: tritonclient[http] against the endpoint the panel shows, until it
#: answers ``wanted`` (or the deadline), printing the last answer
INFER = """
import json, time
import numpy as np, tritonclient.http as httpclient
triton = httpclient.InferenceServerClient("{address}")
def infer():
    tensor = httpclient.InferInput("x", [1, 4], "FP32")
    tensor.set_data_from_numpy(np.array([[1, 2, 3, 4]], dtype=np.float32))
    output = triton.get_model_metadata("affine")["outputs"][0]["name"]
    return triton.infer("affine", [tensor]).as_numpy(output).tolist()[0]
deadline = time.monotonic() + {seconds}
while (answer := infer()) != {wanted} and time.monotonic() < deadline:
    time.sleep(0.2)
print(json.dumps(answer))
"""
#: in alice's kernel: what of the model server's process she can read
TRESPASS = """
import json, os
found = {{}}
for path in {paths!r}:
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            open(path, "rb").read()
        found[path] = "read"
    except PermissionError:
        found[path] = "denied"
print(json.dumps(found))
"""


def kernel(builder, user: str, code: str) -> str:
    """stdout of ``code`` in a kernel of ``user``'s server (the Sync browser API cannot run
    inside an event loop: the kernel call gets its own)."""
    import asyncio

    from ..kernel import run_code

    return asyncio.run(run_code(builder.hub.url, user, builder.hub.token, code, timeout=120))


def process_environ(pid: int) -> dict[str, str]:
    raw = (Path("/proc") / str(pid) / "environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def test_a_notebook_model_in_the_users_bucket_is_served_to_a_real_client(builder) -> None:
    """The local Proof: alice starts the default environment; in her notebook's kernel she
    builds a model, saves it with openvino.save_model and puts it in her bucket with the
    variables she was given; the admin creates the server in the panel naming her claim, the
    panel shows it Available with its endpoint; in her kernel tritonclient[http] gets the
    right answer from that endpoint; a second version she uploads is served after the poll
    interval by the same process; she can read neither that process's environment nor the
    model it downloaded."""
    import json

    with browser_page(str(ARTIFACTS / "FAILED-modelservers-notebook.png")) as page:
        log_in(page, builder.hub.url, "alice", "jupyterhub-ov")
        page.wait_for_url(re.compile(r".*/hub/spawn.*"))
        page.get_by_role("button", name="Start").click()  # the default environment
        page.wait_for_url(re.compile(r".*/user/alice/lab.*"), timeout=90_000)
        page.wait_for_selector(".jp-Launcher", timeout=90_000)
        page.screenshot(path=str(ARTIFACTS / "modelservers-notebook-lab.png"))
    uploaded = json.loads(kernel(builder, "alice", UPLOAD.format(factor=2.0, version=1)))
    bucket = uploaded["bucket"]

    with browser_page(str(ARTIFACTS / "FAILED-modelservers-bucket.png")) as page:
        log_in(page, builder.hub.url, "admin", builder.hub.admin_password)
        page.wait_for_url(re.compile(r".*/hub/spawn.*"))
        page.goto(f"{builder.url}/")
        page.get_by_role("button", name="Create ModelServer").click()
        page.fill("#ms-name", "alices-affine")
        page.fill("#ms-model_name", "affine")
        page.fill("#ms-model_path", f"s3://{bucket}/models/affine")
        page.fill("#ms-bucket_claim", "jupyter-bucket-alice")
        page.click("#submit-modelserver")
        selector = 'tr[data-modelserver="alices-affine"][data-state="Available"]'
        page.wait_for_selector(selector, timeout=90_000)
        rest = page.locator(f'{selector} [data-endpoint="rest"]').inner_text()
        page.screenshot(path=str(ARTIFACTS / "modelservers-bucket-available.png"), full_page=True)
    assert builder.api("GET", "/api/modelservers/alices-affine").json()["endpoints"]["rest"] == rest

    def infer(wanted: list[float], seconds: float = 0) -> list[float]:
        code = INFER.format(address=rest.removeprefix("http://"), wanted=wanted, seconds=seconds)
        answer: list[float] = json.loads(kernel(builder, "alice", code))
        return answer

    assert infer([3.0, 5.0, 7.0, 9.0]) == [3.0, 5.0, 7.0, 9.0]
    replica = builder.api("GET", "/api/modelservers/alices-affine").json()["process"]["replicas"]
    pid = replica[0]["pid"]
    # a new version: served after file_system_poll_wait_seconds (1), no restart
    kernel(builder, "alice", UPLOAD.format(factor=10.0, version=2))
    assert infer([11.0, 21.0, 31.0, 41.0], seconds=20) == [11.0, 21.0, 31.0, 41.0]
    view = builder.api("GET", "/api/modelservers/alices-affine").json()
    assert (
        view["process"]["replicas"][0]["pid"] == pid
        and view["process"]["replicas"][0]["restarts"] == 0
    )
    assert view["models"][0]["versions"] == ["2"]  # the operator's default policy: latest 1

    # what the server holds is not alice's to read: its environment, its downloaded model
    env = process_environ(pid)
    downloads = sorted(Path(env.get("TMPDIR", "/tmp")).glob(f"ovms-{bucket}-2-*"))
    assert len(downloads) == 1, downloads
    private = [f"/proc/{pid}/environ", str(downloads[0]), str(downloads[0] / "model.bin")]
    found = json.loads(kernel(builder, "alice", TRESPASS.format(paths=private)))
    assert found == dict.fromkeys(private, "denied")

    # its key: not alice's, not in the hub's and the service's log, nor in the database
    secret = env["AWS_SECRET_ACCESS_KEY"]
    assert env["AWS_ACCESS_KEY_ID"] != uploaded["key_id"]
    assert secret not in builder.hub.log()
    databases = list(builder.hub.state.glob("builds.sqlite*"))
    assert databases and "Model server alices-affine[0] started" in builder.hub.log()
    for database in databases:
        assert secret.encode() not in database.read_bytes()
    assert builder.api("DELETE", "/api/modelservers/alices-affine").status_code == 204
    builder.hub.stop_server("alice")
