"""ODH connection Secrets with a real hub and OVKubeSpawner on the simulator: an admin labels
and annotates a Secret for alice with a real kubectl; alice sees it in the menu and her
notebook gets its variables by envFrom; bob neither sees nor forges it; the hub asks for the
Secrets' metadata only, and their values never reach its log or database."""

from __future__ import annotations

import json
import os
import textwrap

import pytest

from ..kernel import run_code
from ..sim.helpers import Kubectl
from .conftest import KubeSetup, kube_hub
from .test_kube_hub import pod_of
from .test_kube_unlisted import PASSWORD, post_form, refused_at_submit_and_start, wait_ready

pytestmark = pytest.mark.e2e

CANARY = "connection-secret-canary-9f3b"
ENABLED = "\nc.OVKubeSpawner.connections_enabled = True\n"
SHOW_ENV = textwrap.dedent(
    """
    import json, os
    print(json.dumps({k: os.environ.get(k) for k in (
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_S3_ENDPOINT", "AWS_S3_BUCKET",
        "AWS_DEFAULT_REGION", "BUCKET_NAME")}))
    """
)


async def admin_grants(kube: KubeSetup, tmp) -> None:
    """What an admin does: a Secret with ODH's keys, labelled and annotated for alice."""
    kubectl = Kubectl({**os.environ, "KUBECONFIG": str(kube.cluster.kubeconfig), "HOME": str(tmp)})
    await kubectl(
        "create", "secret", "generic", "team-s3", "-n", "default",
        "--from-literal=AWS_ACCESS_KEY_ID=team-key",
        f"--from-literal=AWS_SECRET_ACCESS_KEY={CANARY}",
        "--from-literal=AWS_S3_ENDPOINT=http://s3.team.example:9000",
        "--from-literal=AWS_S3_BUCKET=team-data",
        "--from-literal=AWS_DEFAULT_REGION=eu-west-1",
    )  # fmt: skip
    await kubectl("label", "secret", "team-s3", "-n", "default", "opendatahub.io/dashboard=true")
    await kubectl(
        "annotate", "secret", "team-s3", "-n", "default",
        "opendatahub.io/connection-type-ref=s3",
        "openshift.io/display-name=Team data (S3)",
        "jupyterhub-ov/connection-users=alice",
    )  # fmt: skip


async def test_a_granted_connection_reaches_only_its_user(tmp_path):
    async with kube_hub(tmp_path, ENABLED) as kube:
        await admin_grants(kube, tmp_path)
        counters = kube.cluster.server.counters
        counters.reset()  # kubectl label/annotate read the whole Secret: only the hub's count
        alice_form = await kube.run(_spawn_page, kube, "alice")
        assert 'name="connection" id="ov-connection-0" value="team-s3">' in alice_form
        assert "Team data (S3)" in alice_form
        bob_form = await kube.run(_spawn_page, kube, "bob")
        assert "team-s3" not in bob_form and "Team data" not in bob_form

        # bob forges the field, in the form and through the REST API: refused, nothing starts
        await refused_at_submit_and_start(
            kube,
            "bob",
            {"image": "default/marker:2024.1", "connection": "team-s3"},
            {"connections": ["team-s3"]},
            "Connection 'team-s3' is not available to you.",
            "Connection 'team-s3' is not available to you.",
        )

        await kube.run(
            post_form,
            kube.hub.url,
            "alice",
            {"image": "default/marker:2024.1", "connection": "team-s3"},
        )
        server = await wait_ready(kube, "alice")
        assert server["user_options"]["connections"] == ["team-s3"]
        env = json.loads(await run_code(kube.hub.url, "alice", kube.hub.token, SHOW_ENV))
        assert env == {
            "AWS_ACCESS_KEY_ID": "team-key",
            "AWS_SECRET_ACCESS_KEY": CANARY,
            "AWS_S3_ENDPOINT": "http://s3.team.example:9000",
            "AWS_S3_BUCKET": "team-data",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "BUCKET_NAME": env["BUCKET_NAME"],  # her own bucket stays listed
        } and env["BUCKET_NAME"].startswith("jupyter-alice-")
        container = (await pod_of(kube, "alice"))["spec"]["containers"][0]
        assert container["envFrom"] == [{"secretRef": {"name": "team-s3"}}]
        assert CANARY not in json.dumps(container)

        # the hub asked for metadata only, and the value is nowhere in its log or database
        assert counters.shaped("list", "secrets", "PartialObjectMetadataList") >= 1
        assert counters.shaped("watch", "secrets", "PartialObjectMetadata") >= 1
        for verb in ("get", "list", "watch"):
            assert counters.shaped(verb, "secrets", None) == 0, verb
        assert CANARY not in kube.hub.log()
        hub_files = [p for p in (tmp_path / "hub").rglob("*") if p.is_file()]
        assert hub_files and not any(CANARY.encode() in p.read_bytes() for p in hub_files)


def _spawn_page(kube: KubeSetup, user: str) -> str:
    from ..hubproc import spawn_page

    return spawn_page(kube.hub.url, user, PASSWORD)
