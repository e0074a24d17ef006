"""Many concurrent spawns against the simulator with API latency: do all reach ready?

A real JupyterHub with OVKubeSpawner (PVC + ObjectBucketClaim + pod per user) against the
simulator, every API request delayed by ``--latency``; pods run a stand-in server
(bench/tiny_singleuser.py) because 500 real single-user servers do not fit in memory. Prints
how many spawns became ready and how long it took, the peak API requests per second the hub
made (the simulator's counters, sampled every second), and the hub's overhead during the
storm:

- **event-loop delay** (the figure held against the 50 ms target): how late the hub's event
  loop ran compared to when it was due, measured inside the hub by JupyterHub's own
  ``jupyterhub_event_loop_interval_seconds`` histogram (a 50 ms tick), read from
  ``/hub/metrics`` before and after the storm. Every request and every spawn step the hub
  handles waits at most this long for the hub to get to it.
- **API probe latency**: `GET /hub/api/users/<first user>` every 100 ms from a separate
  process, both straight to the hub and through the proxy. These include the machine's
  CPU contention (the simulator, the S3 server, the proxy and 500 servers share its cores).

    .venv/bin/python bench/spawn_scale.py [--users 500] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.kube.conftest import kube_hub  # noqa: E402
from tests.kube.streams import reference  # noqa: E402

TINY = [sys.executable, str(REPO / "bench" / "tiny_singleuser.py")]
SCALE_CONFIG = """
c.JupyterHub.concurrent_spawn_limit = 0
c.JupyterHub.active_server_limit = 0
c.JupyterHub.api_page_max_limit = 5000  # the final check lists every ready server at once
c.OVKubeSpawner.start_timeout = 900
c.OVKubeSpawner.http_timeout = 900
c.OVKubeSpawner.bucket_bind_timeout = 900
c.OVKubeSpawner.k8s_api_request_retry_timeout = 900
c.JupyterHub.authenticate_prometheus = False  # the bench reads /hub/metrics
"""

#: run in its own process, so the bench process's busy event loop (the simulator) cannot
#: delay the probes: prints one latency in seconds per line
PROBE = """
import sys, time, requests
url, token = sys.argv[1], sys.argv[2]
session = requests.Session()
session.headers["Authorization"] = "token " + token
while True:
    started = time.perf_counter()
    session.get(url, timeout=60)
    print(time.perf_counter() - started, flush=True)
    time.sleep(0.1)
"""
LOOP_METRIC = "jupyterhub_event_loop_interval_seconds_bucket"
ROUTED = 'jupyterhub_proxy_add_duration_seconds_count{status="success"}'


def metric(text: str, name: str) -> str:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return line.rsplit(" ", 1)[1]
    return "0"


def loop_histogram(hub_url: str) -> dict[float, float]:
    """JupyterHub's cumulative event-loop histogram: upper bound -> count."""
    text = requests.get(f"{hub_url}/hub/metrics", timeout=60).text
    buckets = {}
    for line in text.splitlines():
        if line.startswith(LOOP_METRIC):
            bound = line.split('le="')[1].split('"')[0]
            buckets[float(bound)] = float(line.rsplit(" ", 1)[1])
    return buckets


def histogram_quantile(before: dict[float, float], after: dict[float, float], q: float) -> float:
    """The upper bound of the bucket holding quantile ``q`` of the ticks between two reads."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    total = counts[-1]
    for bound, count in zip(bounds, counts, strict=True):
        if count >= q * total:
            return bound
    return float("inf")


def start_probe(url: str, token: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", PROBE, url, token], stdout=subprocess.PIPE, text=True
    )


def stop_probe(proc: subprocess.Popen) -> list[float]:
    proc.terminate()
    out, _ = proc.communicate(timeout=30)
    return [float(v) for v in out.split()]


def quantiles(values: list[float]) -> str:
    q = statistics.quantiles(values, n=100)
    return (
        f"p50 {statistics.median(values) * 1000:.0f} ms, p95 {q[94] * 1000:.0f} ms,"
        f" p99 {q[98] * 1000:.0f} ms ({len(values)} probes)"
    )


def hub_direct_port(hub) -> int:
    """The hub's own port (hub_bind_url in the test config), bypassing the proxy."""
    config = (hub.data.parent / "test_jupyterhub_config.py").read_text()
    return int(config.split('hub_bind_url = "http://127.0.0.1:')[1].split('"')[0])


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
            done = asyncio.Event()

            async def sample() -> None:
                last = counters.total()
                while not done.is_set():
                    await asyncio.sleep(1)
                    now = counters.total()
                    rates.append(now - last)
                    last = now

            def ready_count() -> int:
                """Servers the hub finished (started and routed), from its own metrics: polling
                a listing of hundreds of users would load the hub we are measuring."""
                text = requests.get(f"{hub.url}/hub/metrics", timeout=60).text
                return int(float(metric(text, ROUTED)))

            def ready_listed() -> int:
                r = hub.api("GET", "/users", params={"state": "ready", "limit": users + 10})
                return len(r.json())

            print("users created", flush=True)
            sampler = asyncio.create_task(sample())
            hub_port = hub_direct_port(hub)
            via_proxy = start_probe(f"{hub.url}/hub/api/users/{names[0]}", hub.token)
            direct = start_probe(f"http://127.0.0.1:{hub_port}/hub/api/users/{names[0]}", hub.token)
            loop_before = await kube.run(loop_histogram, hub.url)
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
            loop_after = await kube.run(loop_histogram, hub.url)
            listed = await kube.run(ready_listed)  # the metric checked against the API
            done.set()
            await sampler
            probes_direct, probes_proxy = stop_probe(direct), stop_probe(via_proxy)
    print(f"{users} concurrent spawns, {latency * 1000:g} ms latency on every API request")
    print(
        f"POST answers: {dict((c, codes.count(c)) for c in sorted(set(codes)))},"
        f" all submitted in {submitted:.1f} s"
    )
    print(f"ready: {ready}/{users} after {elapsed:.1f} s ({listed} listed ready by the API)")
    print(f"API requests/s: peak {max(rates)}, mean {statistics.mean(rates):.0f}")
    ticks = loop_after[float("inf")] - loop_before.get(float("inf"), 0.0)
    on_time = (loop_after[0.05] - loop_before.get(0.05, 0.0)) / ticks
    print(
        f"hub overhead, event-loop delay ({ticks:.0f} ticks of 50 ms): {on_time:.1%} of ticks"
        f" under 50 ms; p95 <= {histogram_quantile(loop_before, loop_after, 0.95) * 1000:g} ms,"
        f" p99 <= {histogram_quantile(loop_before, loop_after, 0.99) * 1000:g} ms"
        " (target p95 <= 50 ms)"
    )
    print(f"hub API latency, straight to the hub: {quantiles(probes_direct)}")
    print(f"hub API latency, through the proxy:   {quantiles(probes_proxy)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    asyncio.run(storm(args.users, args.latency))
