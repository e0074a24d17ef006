"""How long after an ObjectBucketClaim turns Bound does the spawn go on?

Ours: `jupyterhub_ov.storage.claims.wait_bound` (the shared claim watch, woken by the event).
Baseline: what the OCS guide's pre-spawn hook does, re-reading the claim every 5 s.
Both run against the simulator's real HTTP API in one run; the claim is bound by a status
patch at a random moment, and the delay from that patch's answer to the waiter's return is
measured. Target: ours ≤ 100 ms.

    .venv/bin/python bench/bound_latency.py [--trials 5]
"""

# mypy: disable-error-code="arg-type"

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time

from jupyterhub_ov_sim.apiserver import ApiServer
from kubernetes_asyncio import client
from kubespawner import KubeSpawner
from kubespawner.clients import shared_client
from traitlets.config import LoggingConfigurable

from jupyterhub_ov.kube.reflectors import shared_reflector
from jupyterhub_ov.storage import claims, manifests

G, V, P = manifests.OBC_GROUP, manifests.OBC_VERSION, manifests.OBC_PLURAL


async def poll_every_5s(api: client.CustomObjectsApi, claim: dict) -> dict:
    """The baseline: the OCS guide's loop, sleep(5) between reads."""
    name = claim["metadata"]["name"]
    while True:
        obj = await api.get_namespaced_custom_object(G, V, "default", P, name)
        if manifests.claim_phase(obj) == "Bound":
            return obj
        await asyncio.sleep(5)


async def ours(api: client.CustomObjectsApi, claim: dict) -> dict:
    reflector = await shared_reflector(
        KubeSpawner, claims.ClaimReflector, "default", parent=LoggingConfigurable()
    )
    return await claims.wait_bound(reflector, "default", claim["metadata"]["name"], timeout=60)


async def trial(api: client.CustomObjectsApi, waiter, index: int) -> float:
    body = manifests.bucket_claim(
        name=f"claim-{waiter.__name__.replace('_', '-')}-{index}",
        namespace="default",
        generate_bucket_name="bench",
    )
    claim = await api.create_namespaced_custom_object(G, V, "default", P, body)
    task = asyncio.create_task(waiter(api, claim))
    await asyncio.sleep(random.uniform(0.2, 1.0))
    await api.patch_namespaced_custom_object_status(
        G,
        V,
        "default",
        P,
        body["metadata"]["name"],
        {"status": {"phase": "Bound"}},
        _content_type="application/merge-patch+json",
    )
    bound_at = time.perf_counter()
    await task
    return time.perf_counter() - bound_at


async def main(trials: int) -> None:
    server = ApiServer(seed=7)
    await server.start()
    # the shared reflector's client is KubeSpawner's shared one, on the default configuration
    client.Configuration.set_default(client.Configuration(host=server.url))
    try:
        async with client.ApiClient(client.Configuration(host=server.url)) as api_client:
            api = client.CustomObjectsApi(api_client)
            results = {}
            for waiter in (ours, poll_every_5s):
                results[waiter.__name__] = [await trial(api, waiter, i) for i in range(trials)]
    finally:
        await KubeSpawner._stop_all_reflectors()
        await shared_client("CustomObjectsApi").api_client.close()
        await server.stop()
    print(f"delay from Bound to the spawn going on, {trials} trials each (seconds)")
    print(f"{'waiter':<16}{'mean':>10}{'max':>10}")
    for name, delays in results.items():
        print(f"{name:<16}{statistics.mean(delays):>10.4f}{max(delays):>10.4f}")
    ratio = statistics.mean(results["poll_every_5s"]) / statistics.mean(results["ours"])
    print(
        f"ours is {ratio:.0f}x quicker; target ours <= 0.100 s: "
        f"{'met' if max(results['ours']) <= 0.1 else 'NOT met'}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=5)
    asyncio.run(main(parser.parse_args().trials))
