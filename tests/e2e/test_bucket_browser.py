"""Buckets in JupyterLab's file browser, local mode, in Chromium: a real hub, real servers.

gina's server shows her own bucket and the one granted to her (hank's) as jupyter-fs panels;
she uploads a file into hers through the browser and reads it back with boto3 in a kernel;
ivy's bucket is not offered, and a direct path to it is refused.
"""

from __future__ import annotations

import asyncio
import json
import re
import textwrap

import pytest
import requests

from ..browser import browser_page, log_in
from ..hubproc import running_hub
from ..kernel import run_code
from ..util import ARTIFACTS

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

GRANTS = """
c.LocalBucketProvisioner.grants = {"gina": ["jupyter-hank"]}
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


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with running_hub(tmp_path_factory.mktemp("hub"), extra_config=GRANTS) as hub:
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
