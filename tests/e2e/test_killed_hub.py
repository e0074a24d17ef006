"""A local hub killed outright (SIGKILL: no clean-up runs) takes its managed services with it
(jupyterhub_ov.lifeline), so the hub started again in its place gets its ports and keys, and
serves: a user's server starts and reaches the new embedded S3 server."""

from __future__ import annotations

import psutil
import pytest

from ..hubproc import running_hub
from ..kernel import run_code
from ..util import free_port

pytestmark = pytest.mark.e2e

#: the managed services of the shipped config, as their processes' command lines say
SERVICES = ("jupyterhub_ov.storage.embedded", "jupyterhub_ov.service")
BUCKET_ROUND_TRIP = (
    "import os, boto3; s3 = boto3.client('s3', endpoint_url=os.environ['S3_ENDPOINT_URL']);"
    "s3.put_object(Bucket=os.environ['BUCKET_NAME'], Key='k', Body=b'after the kill');"
    "print(s3.get_object(Bucket=os.environ['BUCKET_NAME'], Key='k')['Body'].read().decode())"
)


def services_of(pid: int) -> dict[str, psutil.Process]:
    found = {}
    for child in psutil.Process(pid).children():
        line = " ".join(child.cmdline())
        found.update({name: child for name in SERVICES if f"-m {name}" in line})
    return found


async def test_a_killed_hubs_services_end_with_it_and_the_next_hub_serves(tmp_path):
    ports = (free_port(), free_port(), free_port())
    env = {"JUPYTERHUB_OV_S3_PORT": str(free_port())}
    with running_hub(tmp_path, env=env, ports=ports) as hub:
        services = services_of(hub.proc.pid)
        assert set(services) == set(SERVICES)
        hub.proc.kill()
        hub.proc.wait()
        _, alive = psutil.wait_procs(list(services.values()), timeout=20)
        assert alive == []
    with running_hub(tmp_path, env=env, ports=ports, timeout=120) as hub:
        hub.start_server("kim")
        assert (await run_code(hub.url, "kim", hub.token, BUCKET_ROUND_TRIP)).strip() == (
            "after the kill"
        )
        hub.stop_server("kim")
