"""A hub started from the shipped configuration, as `make run` starts it, with three users.

alice is the attacker: every attack runs as code in her own kernel, with nothing but what her
notebook has. bob is a victim with a server, files and a bucket of his own; admin is the hub's
admin with a running server (his credentials must be worth no more than anyone's).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from ..environments import MARKER, make_environment
from ..hubproc import Hub, running_hub
from ..kernel import run_code

NOTEBOOKS_IMAGE = "nb-notebook:latest"


@dataclass
class Attack:
    hub: Hub
    #: what each user's kernel reported about itself (pid, uid, bucket, secret, home)
    me: dict[str, dict]

    async def run(self, user: str, code: str) -> str:
        return await run_code(self.hub.url, user, self.hub.token, code)

    async def json(self, user: str, code: str) -> dict:
        return json.loads(await self.run(user, code))

    def server_pid(self, user: str) -> int:
        return int(self.hub.user(user)["servers"][""]["state"]["pid"])


SELF = """
import json, os, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT_URL"])
s3.put_object(Bucket=os.environ["BUCKET_NAME"], Key="private.txt", Body=b"%(user)s's data")
open(os.path.expanduser("~/private.txt"), "w").write("%(user)s's file")
print(json.dumps({"uid": os.getuid(), "home": os.environ["HOME"], "pid": os.getpid(),
    "bucket": os.environ["BUCKET_NAME"], "key": os.environ["AWS_ACCESS_KEY_ID"],
    "secret": os.environ["AWS_SECRET_ACCESS_KEY"], "token": os.environ["JUPYTERHUB_API_TOKEN"],
    "endpoint": os.environ["S3_ENDPOINT_URL"]}))
"""


@pytest.fixture(scope="package")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    directory = tmp_path_factory.mktemp("attacked-hub")
    environments = directory / "data" / "environments"
    environments.mkdir(parents=True)
    manifest = {**MARKER, "name": "nb-notebook", "notebooks": "notebooks"}
    env = make_environment(environments / "nb", manifest)
    (env / "notebooks").mkdir()
    (env / "notebooks" / "demo.ipynb").write_text("{}")
    with running_hub(directory) as running:
        yield running


@pytest.fixture(scope="package")
def attack(hub: Hub) -> Attack:
    me = {}
    for user in ("alice", "bob", "admin"):
        hub.start_server(user)
        code = SELF % {"user": user}
        me[user] = json.loads(asyncio.run(run_code(hub.url, user, hub.token, code)))
    return Attack(hub, me)
