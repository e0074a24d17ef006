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
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import spawn_requests  # noqa: E402  (bench/ is sys.path[0] when run as a script)

from tests.kube.conftest import kube_hub  # noqa: E402
from tests.kube.streams import reference  # noqa: E402

#: ``-S``: the stand-in imports only os and socket, and skipping ``site`` saves 1.5 MiB of its
#: 5.3 MiB (PSS), which decides how many fit in reliability/restart.py
TINY = [sys.executable, "-S", str(REPO / "bench" / "tiny_singleuser.py")]
SCALE_CONFIG = """
c.JupyterHub.concurrent_spawn_limit = 0
c.JupyterHub.active_server_limit = 0
c.JupyterHub.api_page_max_limit = 5000  # the final check lists every ready server at once
c.OVKubeSpawner.start_timeout = 900
c.OVKubeSpawner.http_timeout = 900
c.OVKubeSpawner.bucket_bind_timeout = 900
c.OVKubeSpawner.k8s_api_request_retry_timeout = 900
c.JupyterHub.authenticate_prometheus = False  # the bench reads /hub/metrics
# the bench's own client: a token the hub generates is checked with one hash round, while a
# token given in the config (the tests' admin service) costs 16,384 rounds of SHA-512 on the
# hub's event loop per request, which would measure the bench rather than the spawner
c.JupyterHub.load_roles.append(
    {"name": "bench-client", "users": ["bench-client"],
     "scopes": ["admin:users", "admin:servers", "list:users", "read:users"]}
)
"""

BASELINE_TIMEOUTS = """
c.KubeSpawner.start_timeout = 900
c.KubeSpawner.http_timeout = 900
c.KubeSpawner.k8s_api_request_retry_timeout = 900
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


def hub_direct_port(hub) -> int:
    """The hub's own port (hub_bind_url in the test config), bypassing the proxy."""
    config = (hub.data.parent / "test_jupyterhub_config.py").read_text()
    return int(config.split('hub_bind_url = "http://127.0.0.1:')[1].split('"')[0])


@dataclass
class Storm:
    label: str
    users: int
    codes: list[int]
    submitted: float
    ready: int
    listed: int
    elapsed: float
    rates: list[int]
    loop_before: dict[float, float]
    loop_after: dict[float, float]
    probes_direct: list[float]
    probes_proxy: list[float]

    def loop_quantile(self, q: float) -> float:
        return histogram_quantile(self.loop_before, self.loop_after, q)

    @property
    def ticks(self) -> float:
        return self.loop_after[float("inf")] - self.loop_before.get(float("inf"), 0.0)

    @property
    def on_time(self) -> float:
        return (self.loop_after[0.05] - self.loop_before.get(0.05, 0.0)) / self.ticks


def baseline_config(api: str) -> str:
    """Stock KubeSpawner with the OCS guide's bucket hook (what admins run today)."""
    return spawn_requests.baseline_config(api) + BASELINE_TIMEOUTS


async def storm(
    label: str, users: int, latency: float, hub_db_dir: str, hub_cpus: set[int], base=None
) -> Storm:
    with (
        tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp,
        tempfile.TemporaryDirectory(prefix="bench-scale-hubdb-", dir=hub_db_dir) as db_dir,
    ):
        entry = {reference("default", "scipy-notebook", "latest"): TINY}
        config = SCALE_CONFIG + f"c.JupyterHub.db_url = 'sqlite:///{db_dir}/jupyterhub.sqlite'\n"
        async with kube_hub(Path(tmp), config, base=base, entrypoints=entry) as kube:
            return await _storm(kube, label, users, latency, hub_cpus)


def pin_hub(hub_pid: int, hub_cpus: set[int]) -> None:
    """The hub and its proxy on ``hub_cpus``: the hub machine of a real deployment, not
    sharing its cores with the simulated cluster and hundreds of servers starting."""
    children = Path(f"/proc/{hub_pid}/task/{hub_pid}/children").read_text().split()
    for pid in [hub_pid, *map(int, children)]:
        os.sched_setaffinity(pid, hub_cpus)


async def _storm(kube, label: str, users: int, latency: float, hub_cpus: set[int]) -> Storm:
    if hub_cpus:
        pin_hub(kube.hub.proc.pid, hub_cpus)
    cheap = await kube.run(kube.hub.new_token, "bench-client")
    hub, counters = replace(kube.hub, token=cheap), kube.cluster.server.counters
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
        """Servers the hub finished (started and routed), from its own metrics: polling a
        listing of hundreds of users would load the hub we are measuring."""
        text = requests.get(f"{hub.url}/hub/metrics", timeout=60).text
        return int(float(metric(text, ROUTED)))

    def ready_listed() -> int:
        r = hub.api("GET", "/users", params={"state": "ready", "limit": users + 10})
        return len(r.json())

    def post(name: str) -> int:
        return hub.api("POST", f"/users/{name}/server").status_code

    print(f"{label}: users created", flush=True)
    sampler = asyncio.create_task(sample())
    hub_port = hub_direct_port(hub)
    via_proxy = start_probe(f"{hub.url}/hub/api/users/{names[0]}", hub.token)
    direct = start_probe(f"http://127.0.0.1:{hub_port}/hub/api/users/{names[0]}", hub.token)
    loop_before = await kube.run(loop_histogram, hub.url)
    started = time.perf_counter()
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(32) as pool:
        codes = await asyncio.gather(*(loop.run_in_executor(pool, post, n) for n in names))
    submitted = time.perf_counter() - started
    ready = 0
    while ready < users and time.perf_counter() - started < 900:
        await asyncio.sleep(2)
        ready = await kube.run(ready_count)
        print(
            f"{label}: ready {ready}/{users} at {time.perf_counter() - started:.0f} s", flush=True
        )
    elapsed = time.perf_counter() - started
    loop_after = await kube.run(loop_histogram, hub.url)
    listed = await kube.run(ready_listed)  # the metric checked against the API
    done.set()
    await sampler
    probes_direct, probes_proxy = stop_probe(direct), stop_probe(via_proxy)
    return Storm(
        label, users, codes, submitted, ready, listed, elapsed, rates,
        loop_before, loop_after, probes_direct, probes_proxy,
    )  # fmt: skip


def report(results: list[Storm], latency: float) -> None:
    users = results[0].users
    print(f"\n{users} concurrent spawns, {latency * 1000:g} ms latency on every API request")
    rows = [
        ("POST answers", lambda r: str({c: r.codes.count(c) for c in sorted(set(r.codes))})),
        ("all submitted (s)", lambda r: f"{r.submitted:.1f}"),
        ("ready (hub metric / API)", lambda r: f"{r.ready}/{r.listed} of {r.users}"),
        ("all ready after (s)", lambda r: f"{r.elapsed:.1f}"),
        ("API requests/s peak", lambda r: f"{max(r.rates)}"),
        ("API requests/s mean", lambda r: f"{statistics.mean(r.rates):.0f}"),
        ("event-loop ticks on time", lambda r: f"{r.on_time:.1%} of {r.ticks:.0f}"),
        ("event-loop delay p95 (ms)", lambda r: f"<= {r.loop_quantile(0.95) * 1000:g}"),
        ("event-loop delay p99 (ms)", lambda r: f"<= {r.loop_quantile(0.99) * 1000:g}"),
        ("hub API p50/p95 direct (ms)", lambda r: pair(r.probes_direct)),
        ("hub API p50/p95 proxied (ms)", lambda r: pair(r.probes_proxy)),
    ]
    print(f"{'':<30}" + "".join(f"{r.label:>24}" for r in results))
    for title, cell in rows:
        print(f"{title:<30}" + "".join(f"{cell(r):>24}" for r in results))
    print("target: all ready; hub overhead (event-loop delay) p95 <= 50 ms")


def pair(values: list[float]) -> str:
    q = statistics.quantiles(values, n=100)
    return f"{statistics.median(values) * 1000:.0f} / {q[94] * 1000:.0f}"


async def main(args: argparse.Namespace) -> None:
    cpus = sorted(os.sched_getaffinity(0))
    hub_cpus: set[int] = set()
    if args.pin_hub and len(cpus) >= 2:
        # everything this process starts (simulator, S3, pods) on the other cores
        hub_cpus = {cpus[0]}
        os.sched_setaffinity(0, set(cpus[1:]))
    print(f"hub on cores {sorted(hub_cpus) or cpus}; cluster and servers on {cpus[1:] or cpus}")
    sides = [("ours", None), ("baseline", baseline_config)][: 1 if args.no_baseline else 2]
    results = [
        await storm(label, args.users, args.latency, args.hub_db_dir, hub_cpus, base)
        for label, base in sides
    ]
    report(results, args.latency)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--no-baseline", action="store_true", help="run ours only")
    parser.add_argument(
        "--no-pin-hub",
        dest="pin_hub",
        action="store_false",
        help="""let the hub share all cores with the simulated cluster and the servers (by
        default the hub and its proxy get the first core to themselves, as on a hub node)""",
    )
    parser.add_argument(
        "--hub-db-dir",
        default="/dev/shm",
        help="""where the hub's SQLite database lives. The default, tmpfs, stands in for an
        external database (ODH runs JupyterHub on PostgreSQL): JupyterHub commits on its
        event loop, and on this VM's disk each SQLite commit waits ~9 ms for fsync, which
        then dominates the hub's overhead. Pass a disk directory (e.g. /tmp) to see that.""",
    )
    args = parser.parse_args()
    print(f"hub database in {args.hub_db_dir}")
    asyncio.run(main(args))
