"""API requests and time per spawn: OVKubeSpawner against stock KubeSpawner + the OCS
guide's bucket hook (bench/ocs_guide_hook.py), in one run, against the simulator with a
real JupyterHub and real single-user servers. The simulator binds bucket claims after
``--bucket-delay`` seconds, as NooBaa takes a moment.

Targets (issue 4): at most 3 creates, 0 lists, 0 secret reads per spawn.

    .venv/bin/python bench/spawn_requests.py [--users 3] [--bucket-delay 1]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.kube.conftest import hub_config, kube_hub  # noqa: E402


def baseline_config(api: str) -> str:
    return (
        hub_config("KubeSpawner", api)
        + f"""
import sys
sys.path.insert(0, {str(REPO / "bench")!r})
from ocs_guide_hook import ocs_guide_hook
c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
c.KubeSpawner.image = "image-registry.sim:5000/default/scipy-notebook:latest"
c.KubeSpawner.pre_spawn_hook = ocs_guide_hook
"""
    )


def by_verb(before: dict, after: dict) -> Counter:
    diff: Counter = Counter()
    for (verb, resource), count in after.items():
        delta = count - before.get((verb, resource), 0)
        if delta:
            diff[verb] += delta
            if resource == "secrets":
                diff["secret " + verb] += delta
            if verb in ("list", "watch"):
                diff[f"{verb} {resource}"] += delta
    return diff


# KubeSpawner's reflectors restart their list+watch every 30 s once events flow: background
# work of any KubeSpawner, not of a spawn. Both variants get long intervals so the counts
# below are what the spawns themselves ask for.
QUIET_REFLECTORS = """
c.ResourceReflector.restart_seconds = 3600
c.ResourceReflector.timeout_seconds = 3600
"""


async def measure(label: str, users: int, bucket_delay: float, base) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"bench-{label}-") as tmp:
        async with kube_hub(
            Path(tmp), QUIET_REFLECTORS, base=base, bucket_delay=bucket_delay
        ) as kube:
            counters = kube.cluster.server.counters
            # the first spawn starts KubeSpawner's shared reflectors (a list + a watch each,
            # once per hub); it is reported apart from the steady state
            before = counters.snapshot()
            await kube.run(kube.hub.start_server, "warm-up")
            first = by_verb(before, counters.snapshot())
            totals: Counter = Counter()
            seconds = []
            for i in range(users):
                before = counters.snapshot()
                started = time.perf_counter()
                await kube.run(kube.hub.start_server, f"user{i}")
                seconds.append(time.perf_counter() - started)
                totals += by_verb(before, counters.snapshot())
    per_spawn = {verb: count / users for verb, count in sorted(totals.items())}
    return {"per_spawn": per_spawn, "seconds": seconds, "first": dict(sorted(first.items()))}


async def main(users: int, bucket_delay: float) -> None:
    ours = await measure("ours", users, bucket_delay, None)
    base = await measure("baseline", users, bucket_delay, baseline_config)
    verbs = sorted(set(ours["per_spawn"]) | set(base["per_spawn"]))
    print(f"API requests per spawn after the first ({users} spawns each,", end=" ")
    print(f"bucket claims bound after {bucket_delay:g} s)")
    print(f"{'verb resource':<30}{'ours':>10}{'baseline':>10}")
    for verb in verbs:
        row = [ours["per_spawn"], base["per_spawn"]]
        print(f"{verb:<30}" + "".join(f"{r.get(verb, 0):>10.1f}" for r in row))
    print(f"first spawn of a hub: ours {ours['first']}")
    print(f"                  baseline {base['first']}")
    mean_ours, mean_base = statistics.mean(ours["seconds"]), statistics.mean(base["seconds"])
    print(
        f"spawn time (s): ours {mean_ours:.2f}, baseline {mean_base:.2f},"
        f" ratio {mean_base / mean_ours:.2f}x"
    )
    ok = (
        ours["per_spawn"].get("create", 0) <= 3
        and ours["per_spawn"].get("list", 0) == 0
        and not any(v.startswith("secret") and n > 0 for v, n in ours["per_spawn"].items())
    )
    print(f"targets (<=3 creates, 0 lists, 0 secret reads): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=3)
    parser.add_argument("--bucket-delay", type=float, default=1.0)
    args = parser.parse_args()
    asyncio.run(main(args.users, args.bucket_delay))
