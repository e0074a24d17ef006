"""OpenShift mode on the simulator: the S3-aware image's start-up configuration in a pod that
OVKubeSpawner started from a real hub shows the user's bucket in JupyterLab, in Chromium; the
notebook's boto3 works with ODH's connection variables alone, which the pod has by reference."""

from __future__ import annotations

import asyncio
import json
import re
import textwrap

import pytest

from jupyterhub_ov.buckets import JUPYTER_CONFIG_DIR

from ..browser import browser_page, log_in
from ..kernel import run_code
from ..util import ARTIFACTS
from .conftest import kube_hub
from .streams import reference

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

#: the S3-aware image as its Containerfile makes it: the same start-up configuration on
#: Jupyter's config path (the image's ENV), the server command KubeSpawner gives
S3_AWARE = reference("default", "scipy-notebook", "latest")

ODH_ONLY = textwrap.dedent(
    """
    import os, boto3
    odh = ("AWS_S3_ENDPOINT", "AWS_S3_BUCKET", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
           "AWS_DEFAULT_REGION")
    for name in list(os.environ):
        if name.startswith(("S3_", "BUCKET_", "AWS_", "JUPYTERHUB_OV_")) and name not in odh:
            del os.environ[name]
    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_S3_ENDPOINT"])
    bucket = os.environ["AWS_S3_BUCKET"]
    s3.put_object(Bucket=bucket, Key="from-odh-variables.txt", Body=b"odh")
    body = s3.get_object(Bucket=bucket, Key="from-odh-variables.txt")["Body"]
    print(bucket, body.read().decode())
    """
)


def look_in_the_browser(hub_url: str, bucket: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with browser_page(str(ARTIFACTS / "FAILED-sim-bucket-browser.png")) as page:
        log_in(page, hub_url, "alice", "kube-test-password")
        page.goto(f"{hub_url}/user/alice/lab")
        page.wait_for_url(re.compile(r".*/user/alice/lab.*"), timeout=90_000)
        page.wait_for_selector(".jp-Launcher", timeout=90_000)
        page.locator(f'.lm-TabBar-tab[title="{bucket} (your bucket)"]').click()
        panel = page.locator(".jp-tree-finder-sidebar:visible")
        panel.get_by_text("from-odh-variables.txt").wait_for(timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "sim-bucket-browser.png"))


async def test_the_s3_aware_pod_shows_the_bucket_and_boto3_works_on_odh_variables(tmp_path):
    image_env = {S3_AWARE: {"JUPYTER_CONFIG_PATH": JUPYTER_CONFIG_DIR}}
    async with kube_hub(tmp_path, image_env=image_env) as kube:
        await kube.run(kube.hub.start_server, "alice")
        out = await run_code(kube.hub.url, "alice", kube.hub.token, ODH_ONLY)
        bucket, read = out.split()
        assert bucket.startswith("jupyter-alice-") and read == "odh"

        pods = await kube.core.list_namespaced_pod(
            "default", label_selector="hub.jupyter.org/username=alice", _preload_content=False
        )
        (pod,) = json.loads(await pods.read())["items"]
        container = pod["spec"]["containers"][0]
        assert container["image"] == S3_AWARE
        env = {e["name"]: e for e in container["env"]}
        assert env["AWS_S3_BUCKET"] == {"name": "AWS_S3_BUCKET", "value": "$(BUCKET_NAME)"}
        assert env["AWS_S3_ENDPOINT"]["value"] == "http://$(BUCKET_HOST):$(BUCKET_PORT)"
        assert env["AWS_SECRET_ACCESS_KEY"]["valueFrom"]["secretKeyRef"] == {
            "name": "jupyter-bucket-alice",
            "key": "AWS_SECRET_ACCESS_KEY",
        }
        assert bucket not in json.dumps(pod["spec"])  # the name comes from the ConfigMap

        await asyncio.to_thread(look_in_the_browser, kube.hub.url, bucket)
