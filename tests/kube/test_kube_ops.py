"""OpenShift mode on the simulator: the spawn's metrics on /hub/metrics (image resolution, PVC,
bucket claim wait, claim outcomes), then the idle culler stops the server and the user's PVC
and ObjectBucketClaim stay."""

from __future__ import annotations

import asyncio
import time

import pytest

from ..scrape import culled, scrape, value
from .conftest import kube_hub
from .test_kube_hub import user_storage

pytestmark = pytest.mark.e2e

CULL = """
from jupyterhub_ov.culling import add_idle_culler
add_idle_culler(c, 6, cull_every=2)
c.JupyterHub.load_roles.append(
    {"name": "prometheus", "scopes": ["read:metrics"], "users": ["prom"]}
)
"""


async def test_spawn_metrics_then_the_idle_server_is_culled_and_storage_stays(tmp_path):
    async with kube_hub(tmp_path, CULL) as kube:
        hub = kube.hub
        prom = await kube.run(hub.new_token, "prom")
        await kube.run(hub.start_server, "olga")
        families = await kube.run(scrape, f"{hub.url}/hub/metrics", prom)
        steps = families["jupyterhub_ov_spawn_step_duration_seconds"]
        for step in ("image_resolution", "pvc", "bucket_claim_wait"):
            count = value(steps, "jupyterhub_ov_spawn_step_duration_seconds_count", step=step)
            assert count == 1, step
        claims = families["jupyterhub_ov_bucket_claims"]
        assert (
            value(claims, "jupyterhub_ov_bucket_claims_total", claim="created", outcome="bound")
            == 1
        )
        catalog = families["jupyterhub_ov_image_catalog_images"]
        assert value(catalog, "jupyterhub_ov_image_catalog_images", catalog="imagestreams") == 2
        labels = {v for samples in families.values() for s in samples for v in s.labels.values()}
        assert "olga" not in labels and "jupyter-bucket-olga" not in labels

        deadline = time.monotonic() + 60
        while not culled(await kube.run(hub.user, "olga")):
            assert time.monotonic() < deadline, f"not culled:\n{hub.log()[-3000:]}"
            await asyncio.sleep(1)
        assert "DELETE /hub/api/users/olga/server (idle-culler@" in hub.log()
        assert await user_storage(kube) == (["jupyter-bucket-olga"], ["claim-olga"])
        pods = await kube.core.list_namespaced_pod("default")
        assert not [p for p in pods.items if p.metadata.name == "jupyter-olga"]


PROMETHEUS = """
c.JupyterHub.load_roles.append(
    {"name": "prometheus", "scopes": ["read:metrics"], "users": ["prom"]}
)
c.OVKubeSpawner.bucket_storage_class = "no-such-class"
c.OVKubeSpawner.bucket_bind_timeout = 2
"""


async def test_a_claim_that_never_binds_is_counted_as_not_bound(tmp_path):
    async with kube_hub(tmp_path, PROMETHEUS) as kube:
        hub = kube.hub
        prom = await kube.run(hub.new_token, "prom")
        await kube.run(hub.api, "POST", "/users/vera")
        await kube.run(hub.api, "POST", "/users/vera/server", json={})
        deadline = time.monotonic() + 30
        while not culled(await kube.run(hub.user, "vera")):  # the spawn fails: stopped
            assert time.monotonic() < deadline, hub.log()[-3000:]
            await asyncio.sleep(0.5)
        families = await kube.run(scrape, f"{hub.url}/hub/metrics", prom)
        claims = families["jupyterhub_ov_bucket_claims"]
        counted = {
            (s.labels["claim"], s.labels["outcome"]): s.value
            for s in claims
            if s.name == "jupyterhub_ov_bucket_claims_total"
        }
        assert counted == {("created", "not_bound"): 1}
        steps = families["jupyterhub_ov_spawn_step_duration_seconds"]
        wait = "jupyterhub_ov_spawn_step_duration_seconds_sum"
        assert value(steps, wait, step="bucket_claim_wait") >= 2  # it waited the timeout
