"""Many concurrent spawns against the simulator with API latency: do all reach ready?

A real JupyterHub with OVKubeSpawner (PVC + ObjectBucketClaim + pod per user) against the
simulator, every API request delayed by ``--latency``; pods run a stand-in server
(bench/tiny_singleuser.py) because 500 real single-user servers do not fit in memory. Prints
how many spawns became ready and how long it took, the peak API requests per second the hub
made (the simulator's counters, sampled every second), and the hub's own responsiveness
during the storm: the latency of `GET /hub/api/users/<first user>` probes (p50, p95).

    .venv/bin/python bench/spawn_scale.py [--users 500] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.kube.conftest import kube_hub  # noqa: E402
from tests.kube.streams import reference  # noqa: E402

TINY = [sys.executable, str(REPO / "bench" / "tiny_singleuser.py")]
SCALE_CONFIG = """
c.JupyterHub.concurrent_spawn_limit = 0
c.JupyterHub.active_server_limit = 0
c.JupyterHub.api_page_max_limit = 5000  # count every ready server in one answer
c.OVKubeSpawner.start_timeout = 900
c.OVKubeSpawner.http_timeout = 900
c.OVKubeSpawner.bucket_bind_timeout = 900
c.OVKubeSpawner.k8s_api_request_retry_timeout = 900
"""


async def storm(users: int, latency: float) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        entry = {reference("default", "scipy-notebook", "latest"): TINY}
        async with kube_hub(Path(tmp), SCALE_CONFIG, entrypoints=entry) as kube:
            hub, counters = kube.hub, kube.cluster.server.counters
            kube.cluster.server.faults.add(latency=latency)
            names = [f"u{i:04d}" for i in range(users)]
            r = await kube.run(hub.api, "POST", "/users", json={"usernames": names})
            assert r.status_code == 201, r.text
            rates: list[int] = []
            probes: list[float] = []
            done = asyncio.Event()

            async def sample() -> None:
                last = counters.total()
                while not done.is_set():
                    await asyncio.sleep(1)
                    now = counters.total()
                    rates.append(now - last)
                    last = now

            def probe() -> None:
                while not done.is_set():
                    started = time.perf_counter()
                    hub.api("GET", f"/users/{names[0]}")
                    probes.append(time.perf_counter() - started)
                    time.sleep(0.1)

            def ready_count() -> int:
                r = hub.api("GET", "/users", params={"state": "ready", "limit": users + 10})
                return len(r.json())

            print("users created", flush=True)
            sampler = asyncio.create_task(sample())
            prober = threading.Thread(target=probe, daemon=True)  # not the default pool
            prober.start()
            started = time.perf_counter()
            with ThreadPoolExecutor(32) as pool:
                codes = await asyncio.gather(
                    *(
                        asyncio.get_running_loop().run_in_executor(
                            pool, lambda n=n: hub.api("POST", f"/users/{n}/server").status_code
                        )
                        for n in names
                    )
                )
            submitted = time.perf_counter() - started
            print("submitted", codes[:5], flush=True)
            ready = 0
            while ready < users and time.perf_counter() - started < 900:
                await asyncio.sleep(2)
                ready = await kube.run(ready_count)
                print(f"ready {ready}/{users} at {time.perf_counter() - started:.0f} s", flush=True)
            elapsed = time.perf_counter() - started
            done.set()
            await sampler
            prober.join()
    print(f"{users} concurrent spawns, {latency * 1000:g} ms latency on every API request")
    print(
        f"POST answers: {dict((c, codes.count(c)) for c in sorted(set(codes)))},"
        f" all submitted in {submitted:.1f} s"
    )
    print(f"ready: {ready}/{users} after {elapsed:.1f} s")
    print(f"API requests/s: peak {max(rates)}, mean {statistics.mean(rates):.0f}")
    q = statistics.quantiles(probes, n=20)
    print(
        f"hub API latency during the storm ({len(probes)} probes):"
        f" p50 {statistics.median(probes) * 1000:.0f} ms, p95 {q[18] * 1000:.0f} ms"
        f" (target p95 <= 50 ms)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    asyncio.run(storm(args.users, args.latency))
