"""Scenario 6, hub restart at scale: N running servers on the simulator, the hub stopped and
started again on the same database; ours (OVKubeSpawner) beside stock KubeSpawner with the OCS
guide's bucket hook, same N, one after the other in one run.

Pods run bench/tiny_singleuser.py (about 4 MB each). Figures per side: servers running before
the restart, time from starting the new hub process until it answers ``/hub/health`` and an
API call, until the users API shows every server ready again (the hub polled each spawner and
checked each server's URL), the new hub's peak RSS by then, the Kubernetes API requests it
made meanwhile (the simulator's counters), servers not ready afterwards and pods deleted or
replaced (both must be 0).
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

from . import figures
from .figures import Figure
from .procmem import available_bytes, peak_rss, pss, rss

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))  # bench/ modules import each other by plain name

import spawn_scale  # noqa: E402

from tests.kube.conftest import KubeSetup, kube_hub  # noqa: E402
from tests.kube.streams import reference  # noqa: E402

NAME = "restart"
SHORT_USERS = 30
FULL_USERS = 3000
#: what one more running server costs, measured with 3,000 (ours): the tiny server's own
#: 3.7 MiB (PSS, started with ``python -S``), the simulator's 0.2 MiB and the hub's 0.15 MiB;
#: the machine's used memory grew by 4.2 MiB per server (the kernel's share); and headroom
PER_SERVER_BYTES = int(5.5 * 2**20)
#: servers starting at once while the scenario starts them (see `spawn_in_waves`)
WINDOW = 100
#: the share of the machine's available memory the full run may take: the full mode is run on
#: an otherwise idle machine, and 3,000 servers need about 16 GiB
MEMORY_SHARE = 0.75


def fitting_servers(wanted: int, available: int, per_server: int, share: float) -> int:
    """How many of ``wanted`` servers fit in ``share`` of ``available`` bytes."""
    return max(1, min(wanted, int(available * share) // per_server))


def first_log_time(log: str) -> datetime | None:
    """When the hub wrote its first log line (``[I 2026-12-02 07:57:59.094 JupyterHub ...``,
    local time), the end of Python's start-up, imports and configuration."""
    found = re.search(r"^\[\w (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) ", log, re.M)
    return datetime.strptime(found[1], "%Y-%m-%d %H:%M:%S.%f") if found else None


def replaced_pods(before: dict[str, str], after: dict[str, str]) -> int:
    """Pods (name -> uid) present before that are gone or were recreated (another uid)."""
    return sum(1 for name, uid in before.items() if after.get(name) != uid)


@dataclass
class Restart:
    running_before: int = 0
    server_pss_mib: float = 0.0
    old_hub_rss_mib: float = 0.0
    simulator_rss_mib: float = 0.0
    stop_s: float = 0.0
    boot_s: float = 0.0
    serving_s: float = 0.0
    health_s: float = 0.0
    confirmed_s: float = 0.0
    rss_peak_mib: float = 0.0
    api_requests: int = 0
    not_ready: int = 0
    pods_replaced: int = 0


async def running_pods(kube: KubeSetup) -> dict[str, str]:
    pods = await kube.core.list_namespaced_pod(
        "default", label_selector="component=singleuser-server"
    )
    return {p.metadata.name: p.metadata.uid for p in pods.items if p.status.phase == "Running"}


def ready_count(hub: Any, users: int) -> int:
    r = hub.api("GET", "/users", params={"state": "ready", "limit": users + 10})
    r.raise_for_status()
    return len(r.json())


def spawn(hub: Any, name: str) -> int:
    return int(hub.api("POST", f"/users/{name}/server").status_code)


def routed_count(hub: Any) -> int:
    """Servers started and routed (the hub's own metric, cheap to read at any scale)."""
    text = requests.get(f"{hub.url}/hub/metrics", timeout=60).text
    return int(float(spawn_scale.metric(text, spawn_scale.ROUTED)))


def spawn_in_waves(hub: Any, names: list[str], timeout: float) -> int:
    """Start every user's server, at most `WINDOW` starting at once; how many got routed.

    All at once, 3,000 spawns time out their proxy calls (599: the proxy and the hub's loop
    are swamped), and the hub stops each such server again: the restart is what is measured
    here, so the servers are started as a careful admin would, in a window."""
    r = hub.api("POST", "/users", json={"usernames": names})
    assert r.status_code == 201, r.text
    deadline, posted, routed = time.monotonic() + timeout, 0, 0
    with ThreadPoolExecutor(32) as pool:
        while routed < len(names) and time.monotonic() < deadline:
            routed = routed_count(hub)
            wave = names[posted : posted + max(0, WINDOW - (posted - routed))]
            codes = list(pool.map(lambda n: spawn(hub, n), wave))
            refused = [c for c in codes if c not in (201, 202)]
            assert not refused, f"spawns refused: {refused[:10]}"
            posted += len(wave)
            time.sleep(0.5)
    return routed


def wait_ready(hub: Any, users: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    ready = 0
    while time.monotonic() < deadline:
        ready = ready_count(hub, users)
        if ready >= users:
            break
        time.sleep(0.5)
    return ready


async def restart_side(label: str, users: int, base: Any, hub_db_dir: str) -> Restart:
    with (
        tempfile.TemporaryDirectory(prefix=f"rel-restart-{label}-") as tmp,
        tempfile.TemporaryDirectory(prefix="rel-restart-db-", dir=hub_db_dir) as db_dir,
    ):
        entry = {reference("default", "scipy-notebook", "latest"): spawn_scale.TINY}
        config = (
            spawn_scale.SCALE_CONFIG + f"c.JupyterHub.db_url = 'sqlite:///{db_dir}/hub.sqlite'\n"
        )
        async with kube_hub(Path(tmp), config, base=base, entrypoints=entry) as kube:
            return await _restart(kube, label, users)


async def _restart(kube: KubeSetup, label: str, users: int) -> Restart:
    result = Restart()
    cheap = await kube.run(kube.hub.new_token, "bench-client")
    names = [f"r{i:04d}" for i in range(users)]
    started = time.monotonic()
    routed = await kube.run(
        spawn_in_waves, replace(kube.hub, token=cheap), names, 120 + users * 0.5
    )
    print(
        f"restart/{label}: {routed}/{users} servers up in {time.monotonic() - started:.0f} s",
        flush=True,
    )
    result.running_before = await kube.run(ready_count, replace(kube.hub, token=cheap), users)
    assert kube.cluster.kubelet is not None
    processes = [p.process.pid for p in kube.cluster.kubelet.pods.values() if p.process]
    result.server_pss_mib = sum(map(pss, processes)) / max(1, len(processes)) / 2**20
    pods_before = await running_pods(kube)
    result.old_hub_rss_mib = rss(kube.hub.proc.pid) / 2**20
    result.simulator_rss_mib = rss(os.getpid()) / 2**20
    counters = kube.cluster.server.counters

    t0 = time.monotonic()
    await asyncio.to_thread(kube.stop_hub)
    result.stop_s = time.monotonic() - t0
    requests_before = counters.total()
    t0, wall = time.monotonic(), datetime.now()
    kube.hub = await asyncio.to_thread(kube.start_hub)  # returns once GET /hub/api/ is 200
    result.serving_s = time.monotonic() - t0
    logged = first_log_time(kube.hub.log())
    result.boot_s = (logged - wall).total_seconds() if logged else float("nan")
    hub = replace(kube.hub, token=cheap)
    health = await kube.run(requests.get, f"{hub.url}/hub/health", timeout=60)
    assert health.status_code == 200, health.status_code
    result.health_s = time.monotonic() - t0
    ready = await kube.run(wait_ready, hub, users, 120 + users * 0.2)
    result.confirmed_s = time.monotonic() - t0
    result.api_requests = counters.total() - requests_before
    result.rss_peak_mib = peak_rss(kube.hub.proc.pid) / 2**20
    result.not_ready = users - ready
    result.pods_replaced = replaced_pods(pods_before, await running_pods(kube))
    print(f"restart/{label}: {result}", flush=True)

    return result


def side_figures(users: int, ours: Restart, base: Restart) -> list[Figure]:
    def info(name: str, attr: str) -> Figure:
        return figures.info(NAME, name, getattr(ours, attr), getattr(base, attr))

    return [
        Figure(
            NAME,
            "servers running before the restart",
            ours.running_before,
            base.running_before,
            expect=f"= {users}",
            ok=ours.running_before == users,
        ),
        info("memory per tiny server (MiB PSS)", "server_pss_mib"),
        info("simulator process RSS (MiB)", "simulator_rss_mib"),
        info("hub RSS before the restart (MiB)", "old_hub_rss_mib"),
        info("hub stop (s)", "stop_s"),
        info("new hub's first log line (s): Python, imports, config", "boot_s"),
        info("new hub answers the API (s)", "serving_s"),
        info("new hub answers /hub/health (s)", "health_s"),
        info("all servers confirmed ready (s)", "confirmed_s"),
        info("new hub RSS peak (MiB)", "rss_peak_mib"),
        info("API requests by the new hub until confirmed", "api_requests"),
        figures.zero(NAME, "servers not ready after the restart", ours.not_ready, base.not_ready),
        figures.zero(NAME, "pods deleted or replaced", ours.pods_replaced, base.pods_replaced),
    ]


async def measure(users: int) -> list[Figure]:
    ours = await restart_side("ours", users, None, "/dev/shm")
    base = await restart_side("baseline", users, spawn_scale.baseline_config, "/dev/shm")
    return side_figures(users, ours, base)


def run(full: bool) -> list[Figure]:
    users = SHORT_USERS
    note: list[Figure] = []
    if full:
        users = fitting_servers(FULL_USERS, available_bytes(), PER_SERVER_BYTES, MEMORY_SHARE)
        note.append(figures.info(NAME, f"servers (of {FULL_USERS:,} asked; what fits)", users))
    return note + asyncio.run(measure(users))
