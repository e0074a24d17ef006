"""Buckets in JupyterLab's file browser, local mode, in Chromium: a real hub, real servers.

gina's server shows her own bucket and the one granted to her (hank's) as jupyter-fs panels;
she uploads a file into hers through the browser and reads it back with boto3 in a kernel;
ivy's bucket is not offered, and a direct path to it is refused. jo may read kim's bucket but
an extra Deny policy forbids writing and deleting there: the browser shows S3's refusal for a
delete and an upload, and kim's object is still there.
"""

from __future__ import annotations

import asyncio
import json
import re
import textwrap
import time

import pytest
import requests

from jupyterhub_ov import names

from ..browser import browser_page, log_in
from ..hubproc import running_hub
from ..kernel import run_code
from ..s3server import S3Server
from ..util import ARTIFACTS

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

GRANTS = """
c.LocalBucketProvisioner.grants = {"gina": ["jupyter-hank"], "jo": ["jupyter-kim"]}
# the image build service plays no part here: not started (JupyterHub gives a managed service
# ten one-second tries to answer, less than its start takes on a loaded machine)
for service in c.JupyterHub.services:
    if service["name"] == "image-builder":
        service.pop("command")
"""

PUT = textwrap.dedent(
    """
    import os, boto3
    s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT_URL"])
    s3.put_object(Bucket=os.environ["BUCKET_NAME"], Key={key!r}, Body={body!r})
    print("ok")
    """
)

READ_WITH_ODH_VARIABLES = textwrap.dedent(
    """
    import os, boto3
    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_S3_ENDPOINT"])
    body = s3.get_object(Bucket=os.environ["AWS_S3_BUCKET"], Key="uploaded.txt")["Body"]
    print(body.read().decode())
    """
)

OWN_BUCKET_LISTING = textwrap.dedent(
    """
    import json, os, boto3
    s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT_URL"])
    bucket = os.environ["BUCKET_NAME"]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    get = lambda key: s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    print(json.dumps({key: get(key) for key in keys}))
    """
)


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with running_hub(tmp_path_factory.mktemp("hub"), extra_config=GRANTS) as hub:
        # the embedded S3 server writes its admin file once it listens: on a loaded machine
        # later than the provisioner's credentials_wait after the hub is up
        deadline = time.monotonic() + 120
        while not (hub.state / "s3-admin.json").exists():
            assert time.monotonic() < deadline, "the embedded S3 server did not start"
            time.sleep(0.2)
        yield hub


def api(hub, user, path, method="GET", **kw):
    url = f"{hub.url}/user/{user}/{path}"
    headers = {"Authorization": f"token {hub.token}"}
    return requests.request(method, url, headers=headers, timeout=30, **kw)


def resources(hub, user):
    r = api(hub, user, "jupyterfs/resources")
    r.raise_for_status()
    return {res["url"]: res for res in r.json()}


def test_upload_to_own_bucket_granted_listed_and_others_absent(hub, tmp_path):
    for other in ("hank", "ivy"):
        hub.start_server(other)
        code = PUT.format(key=f"{other}-notes.txt", body=f"{other}'s notes".encode())
        assert asyncio.run(run_code(hub.url, other, hub.token, code)).strip() == "ok"
    upload = tmp_path / "uploaded.txt"
    upload.write_text("uploaded in chromium\n")
    ARTIFACTS.mkdir(exist_ok=True)
    with browser_page(str(ARTIFACTS / "FAILED-bucket-browser.png")) as page:
        log_in(page, hub.url, "gina", "jupyterhub-ov")
        page.wait_for_selector('input[name="image"]')
        page.get_by_role("button", name="Start").click()
        page.wait_for_url(re.compile(r".*/user/gina/lab.*"), timeout=90_000)
        page.wait_for_selector(".jp-Launcher", timeout=90_000)

        found = resources(hub, "gina")
        assert set(found) == {"s3://jupyter-gina", "s3://jupyter-hank"}
        own = page.locator('.lm-TabBar-tab[title="jupyter-gina (your bucket)"]')
        shared = page.locator('.lm-TabBar-tab[title="jupyter-hank (shared)"]')
        assert page.locator('.lm-TabBar-tab[title*="jupyter-ivy"]').count() == 0

        own.click()
        panel = page.locator(".jp-tree-finder-sidebar:visible")
        with page.expect_file_chooser() as chooser:
            panel.locator(".jp-id-upload").click()
        chooser.value.set_files(str(upload))
        # jupyter-fs 1.2 asks whether to overwrite a key that does not exist yet: its
        # existence check (GET with content=0) answers 200 for any S3 path
        overwrite = page.get_by_role("button", name="Overwrite")
        overwrite.wait_for(timeout=10_000)
        overwrite.click()
        panel.get_by_text("uploaded.txt").wait_for(timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "bucket-browser-upload.png"))

        shared.click()
        panel = page.locator(".jp-tree-finder-sidebar:visible")
        panel.get_by_text("hank-notes.txt").wait_for(timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "bucket-browser-granted.png"))

    read = asyncio.run(run_code(hub.url, "gina", hub.token, READ_WITH_ODH_VARIABLES))
    assert read.strip() == "uploaded in chromium"

    hank = found["s3://jupyter-hank"]["drive"]
    r = api(hub, "gina", f"api/contents/{hank}:hank-notes.txt")
    assert r.status_code == 200 and r.json()["content"] == "hank's notes", r.text

    own_drive = found["s3://jupyter-gina"]["drive"]
    for path in (f"{own_drive}:../jupyter-ivy/ivy-notes.txt", "jupyter-ivy/ivy-notes.txt"):
        r = api(hub, "gina", f"api/contents/{path}")
        assert r.status_code >= 400 and "ivy's notes" not in r.text, (path, r.text)
    # a bucket name inside the own drive is a folder of the own bucket, not ivy's bucket
    r = api(hub, "gina", f"api/contents/{own_drive}:jupyter-ivy/ivy-notes.txt")
    assert r.status_code >= 400 and "jupyter-gina/jupyter-ivy/" in r.text, r.text
    assert "jupyter-ivy" not in json.dumps(found)


def test_refused_delete_and_upload_show_the_s3_error_and_lose_nothing(hub, tmp_path):
    hub.start_server("kim")
    code = PUT.format(key="kept.txt", body=b"kim's kept data")
    assert asyncio.run(run_code(hub.url, "kim", hub.token, code)).strip() == "ok"
    hub.start_server("jo")  # makes jo's IAM user; the Deny applies to the keys jo already has
    s3 = S3Server.of_credentials_file(hub.state / "s3-admin.json")
    s3.deny_writes(names.iam_user_name("jo", "jupyterhub-ov"), "jupyter-kim")
    upload = tmp_path / "jo-upload.txt"
    upload.write_text("jo was here\n")
    with browser_page(str(ARTIFACTS / "FAILED-bucket-browser-refused.png")) as page:
        log_in(page, hub.url, "jo", "jupyterhub-ov")
        page.goto(f"{hub.url}/user/jo/lab")
        page.wait_for_selector(".jp-Launcher", timeout=90_000)
        page.locator('.lm-TabBar-tab[title="jupyter-kim (shared)"]').click()
        panel = page.locator(".jp-tree-finder-sidebar:visible")
        panel.get_by_text("kept.txt").click(button="right")
        page.locator(".lm-Menu-item", has_text="Delete").click()
        page.locator(".jp-Dialog").get_by_role("button", name="Delete").click()
        failed = page.locator(".jp-Dialog", has_text="Delete Failed")
        failed.get_by_text("S3 refused to delete kept.txt: it is still there").wait_for()
        page.screenshot(path=str(ARTIFACTS / "bucket-browser-refused-delete.png"))
        failed.get_by_role("button", name="Close").click()
        panel.get_by_text("kept.txt").wait_for()

        with page.expect_file_chooser() as chooser:
            panel.locator(".jp-id-upload").click()
        chooser.value.set_files(str(upload))
        page.get_by_role("button", name="Overwrite").click()  # see the upload test above
        error = page.locator(".jp-Dialog", has_text="Upload Error")
        error.get_by_text(
            "S3 refused to save jo-upload.txt: An error occurred (AccessDenied) when calling "
            "the PutObject operation: Access Denied"
        ).wait_for()
        page.screenshot(path=str(ARTIFACTS / "bucket-browser-refused-upload.png"))

    # read back with kim's own keys, in kim's kernel
    read = asyncio.run(run_code(hub.url, "kim", hub.token, OWN_BUCKET_LISTING))
    assert json.loads(read) == {"kept.txt": "kim's kept data"}
