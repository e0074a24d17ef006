"""The build service under load: status reads with 1,000 builds stored, and a request storm.

    .venv/bin/python bench/build_service.py [--builds 1000] [--reads 3000] [--concurrency 16]

A real hub from the shipped config runs the service (scripted recording backend, as in the
tests); the client is tornado's async HTTP client in this process, sending API tokens.

(a) ``GET /api/builds/{id}`` of random builds among ``--builds`` stored ones (seeded into the
    service's database before it starts: each with its transitions and 20 log lines), through
    the hub's proxy (what clients use) and straight to the service's port (the proxy's share).
    Prints requests/s, p50/p99 latency; targets ≥500 req/s and p99 ≤50 ms. Whether the hub
    token check is cached shows as the hub's ``GET /hub/api/user`` count during the reads.
(b) ``--storm`` (50) concurrent identical ``POST /api/builds``: distinct build ids, answers
    (201 new / 200 joined) and how many builds the backend actually started (expect 1).

A measurement, never a test: nothing asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tornado.httpclient import AsyncHTTPClient, HTTPRequest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jupyterhub_ov.builds.model.phases import PATHS, Phase, Transition  # noqa: E402
from jupyterhub_ov.builds.model.spec import SpecPolicy, parse_request  # noqa: E402
from jupyterhub_ov.builds.store import BuildRecord, BuildStore  # noqa: E402
from tests.service.svc import Builder, builder_hub, package_list  # noqa: E402


async def seed(db_url: str, count: int) -> list[str]:
    """``count`` ended builds with their transitions and logs, as the manager writes them."""
    store = BuildStore(db_url)
    await store.start()
    ids = []
    start = datetime.now(UTC) - timedelta(days=30)
    for i in range(count):
        request = parse_request(
            package_list(f"seed{i}", f"pkg{i}==1.0"), creator="admin", policy=SpecPolicy()
        )
        at = start + timedelta(minutes=i)
        record = BuildRecord(
            id=uuid.uuid4().hex,
            request=request,
            backend="recording",
            phase=Phase.PREPARING,
            message="",
            created=at,
            updated=at,
        )
        path = PATHS["PackageList"] if i % 10 else PATHS["PackageList"][:3] + (Phase.FAILURE,)
        await store.create(record, Transition(path[0], at))
        logs = [(2 + n, at, f"log line {n} of build {i}") for n in range(20)]
        seq = 22
        for phase in path[1:]:
            seq += 1
            await store.record(
                record.id, logs=logs, transition=(seq, Transition(phase, at, str(phase)))
            )
            logs = []
        ids.append(record.id)
    await store.close()
    return ids


def hub_user_lookups(builder: Builder) -> int:
    return len(re.findall(r"200 GET /hub/api/user ", builder.hub.log()))


async def reads(base: str, token: str, ids: list[str], total: int, concurrency: int) -> dict:
    client = AsyncHTTPClient(force_instance=True, max_clients=concurrency)
    headers = {"Authorization": f"token {token}"}
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue = list(range(total))

    async def worker() -> None:
        while queue:
            queue.pop()
            url = f"{base}/api/builds/{random.choice(ids)}"
            t0 = time.perf_counter()
            r = await client.fetch(HTTPRequest(url, headers=headers), raise_error=False)
            latencies.append(time.perf_counter() - t0)
            statuses[r.code] = statuses.get(r.code, 0) + 1

    t0, cpu0 = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - t0
    client_cpu = (time.process_time() - cpu0) / elapsed
    client.close()
    q = statistics.quantiles(latencies, n=100)
    return {
        "rps": total / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * q[98],
        "statuses": statuses,
        "client_cpu": client_cpu,
    }


async def storm(builder: Builder, token: str, count: int) -> dict:
    client = AsyncHTTPClient(force_instance=True, max_clients=count)
    body = json.dumps(package_list("storm", "slow"))
    headers = {"Authorization": f"token {token}", "Content-Type": "application/json"}
    request = HTTPRequest(f"{builder.url}/api/builds", "POST", headers=headers, body=body)
    answers = await asyncio.gather(
        *(client.fetch(request, raise_error=False) for _ in range(count))
    )
    client.close()
    ids = {json.loads(r.body)["id"] for r in answers if r.code in (200, 201)}
    codes = [r.code for r in answers]
    builder.release("storm")
    for build_id in ids:
        builder.finished(build_id)
    started = [e for e in builder.recorded() if e["event"] == "build" and "storm" in e["image"]]
    return {
        "ids": len(ids),
        "201": codes.count(201),
        "200": codes.count(200),
        "other": len(codes) - codes.count(201) - codes.count(200),
        "builds_started": len(started),
    }


def service_port(builder: Builder) -> int:
    found = re.search(
        r"Starting managed service image-builder at http://[\d.]+:(\d+)", builder.hub.log()
    )
    assert found
    return int(found.group(1))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--builds", type=int, default=1000)
    p.add_argument("--reads", type=int, default=3000)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--storm", type=int, default=50)
    args = p.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="jupyterhub-ov-bench-builder-"))
    data = directory / "data"
    data.mkdir()
    t0 = time.perf_counter()
    ids = asyncio.run(seed(f"sqlite:///{data / 'builds.sqlite'}", args.builds))
    print(f"seeded {len(ids)} builds in {time.perf_counter() - t0:.1f} s")

    with builder_hub(directory, step_delay=0.0, log_level="INFO") as builder:
        token = builder.token("admin")
        direct = f"http://127.0.0.1:{service_port(builder)}/services/image-builder"
        asyncio.run(reads(builder.url, token, ids, 50, 4))  # warm-up: first token check
        print(f"\n(a) GET /api/builds/{{id}}, {args.reads} reads, {args.concurrency} concurrent")
        for label, base in (("through the hub's proxy", builder.url), ("service port", direct)):
            before = hub_user_lookups(builder)
            result = asyncio.run(reads(base, token, ids, args.reads, args.concurrency))
            lookups = hub_user_lookups(builder) - before
            print(
                f"  {label:24} {result['rps']:7.0f} req/s  p50 {result['p50_ms']:5.1f} ms"
                f"  p99 {result['p99_ms']:5.1f} ms  statuses {result['statuses']}"
                f"  hub token checks during the reads: {lookups}"
                f"  (the client itself used {100 * result['client_cpu']:.0f}% of a core)"
            )
        print(
            "  targets: >= 500 req/s, p99 <= 50 ms; token checks are cached by HubAuth"
            " (cache_max_age 300 s) when the count above is 0"
        )

        result = asyncio.run(storm(builder, token, args.storm))
        print(f"\n(b) {args.storm} concurrent identical POST /api/builds")
        print(
            f"  distinct build ids {result['ids']}, answers 201: {result['201']},"
            f" 200 (joined): {result['200']}, other: {result['other']};"
            f" builds the backend started: {result['builds_started']} (expect 1)"
        )


if __name__ == "__main__":
    main()
