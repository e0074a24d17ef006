"""How long does it take to make a notebook environment with a few extra packages?

Ours: `LocalBuildBackend` (resolve + build of a PackageList: uv lock constrained to the base,
a uv venv layered on the hub's environment, uv install of what the base lacks, Jupyter links,
then the BYON validation with a real server start), timed per phase.
Baseline 1: what admins do today, a fresh environment with everything in it:
``python -m venv`` (with its bundled pip) + ``pip install jupyterhub jupyterlab <packages>``.
Baseline 2: the same layered venv as ours, but pip instead of uv: ``pip install -c <the base's
versions> <packages>`` run by the layer's interpreter (pip comes from the base through the
layer's .pth): it separates what layering contributes from what uv contributes.

All sides download from PyPI with warm caches (their own uv and pip cache directories,
filled by one unmeasured warm-up of each side), then run ``--runs`` times, interleaved.
Measurement only: nothing is asserted. Target: ours ≥ 5× faster than baseline 1.

Then, through the build service's `BuildManager` (SQLite store, the same backend): the
identical spec again (target ≤ 1 s to Success: resolved, found, nothing built), and 50
concurrent identical requests of a new image (target: 1 build).

    .venv/bin/python bench/local_build.py [--runs 3] [--packages pandas matplotlib ...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from jupyterhub_ov.builds.backends.local.backend import LocalBuildBackend
from jupyterhub_ov.builds.backends.local.environments import (
    create_layer,
    inspect_environment,
    link_jupyter_dirs,
)
from jupyterhub_ov.builds.backends.local.pins import base_constraints
from jupyterhub_ov.builds.manager import BuildManager
from jupyterhub_ov.builds.model import spec
from jupyterhub_ov.builds.model.phases import Phase
from jupyterhub_ov.builds.process import run, tool_env
from jupyterhub_ov.builds.resolve import uv_binary
from jupyterhub_ov.builds.store import BuildStore

PACKAGES = ["pandas", "matplotlib", "requests", "tqdm"]
Timings = dict[str, float]


class TimingReporter:
    """Keeps when each phase began (the manager's part is not needed for timing)."""

    def __init__(self) -> None:
        self.began: dict[Phase, float] = {}

    async def phase(self, phase: Phase, message: str = "") -> None:
        self.began[phase] = time.perf_counter()

    async def log(self, line: str) -> None:
        pass

    async def remember(self, reference: str) -> None:
        pass


async def ours(work: Path, packages: list[str]) -> Timings:
    backend = LocalBuildBackend(catalog_dir=str(work / "catalog"), validation_timeout=600)
    body = {
        "metadata": {
            "name": "bench",
            "annotations": {
                "opendatahub.io/notebook-image-name": "Bench",
                "opendatahub.io/notebook-image-desc": "bench",
            },
        },
        "spec": {"buildType": "PackageList", "packageVersions": packages},
    }
    request = spec.parse_request(body, creator="bench", policy=spec.SpecPolicy())
    reporter = TimingReporter()
    start = time.perf_counter()
    resolved = await backend.resolve(request, reporter)
    resolved_at = time.perf_counter()
    await backend.build(resolved, reporter)
    end = time.perf_counter()
    validating = reporter.began[Phase.VALIDATING]
    return {
        "resolve": resolved_at - start,
        "build": validating - resolved_at,
        "validate": end - validating,
        "without validation": validating - start,
        "total": end - start,
    }


async def pip_fresh(work: Path, packages: list[str]) -> Timings:
    env = work / "venv"
    start = time.perf_counter()
    await run([sys.executable, "-m", "venv", str(env)], env=tool_env())
    made = time.perf_counter()
    pip = [str(env / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check"]
    await run([*pip, "jupyterhub", "jupyterlab", *packages], env=tool_env())
    end = time.perf_counter()
    return {"venv + bundled pip": made - start, "pip install": end - made, "total": end - start}


async def pip_layered(work: Path, packages: list[str]) -> Timings:
    env = work / "layer"
    start = time.perf_counter()
    base = await inspect_environment(sys.prefix)
    await create_layer(base, str(env), uv=uv_binary(), on_line=_quiet)
    await asyncio.to_thread(link_jupyter_dirs, base.prefix, str(env))
    constraints = work / "constraints.txt"
    await asyncio.to_thread(constraints.write_text, "\n".join(base_constraints(base.packages)))
    made = time.perf_counter()
    pip = [str(env / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check"]
    await run([*pip, "-c", str(constraints), *packages], env=tool_env())
    end = time.perf_counter()
    return {"layer": made - start, "pip install": end - made, "total": end - start}


def request_body(name: str, packages: list[str]) -> dict:
    return {
        "metadata": {
            "name": name,
            "annotations": {
                "opendatahub.io/notebook-image-name": name.title(),
                "opendatahub.io/notebook-image-desc": "bench",
            },
        },
        "spec": {"buildType": "PackageList", "packageVersions": packages},
    }


async def through_the_manager(root: Path, packages: list[str], storm: int) -> None:
    """A build, the identical spec again, and ``storm`` identical requests at once."""
    store = BuildStore(f"sqlite:///{root / 'builds.sqlite'}")
    await store.start()
    backend = LocalBuildBackend(catalog_dir=str(root / "service-catalog"), validation_timeout=600)
    manager = BuildManager(store=store, backend=backend, policy=spec.SpecPolicy())
    await manager.start()

    async def to_the_end(body: dict) -> tuple[float, str]:
        started = time.perf_counter()
        record, _ = await manager.submit(body, creator="bench")
        async for _event in manager.events(record.id):
            pass
        done = await manager.get(record.id)
        return time.perf_counter() - started, f"{done.phase}: {done.message}"

    try:
        first = await to_the_end(request_body("cached", packages))
        again = await to_the_end(request_body("cached", packages))
        before = manager.builds_started
        started = time.perf_counter()
        results = await asyncio.gather(
            *(to_the_end(request_body("joined", packages)) for _ in range(storm))
        )
        elapsed = time.perf_counter() - started
    finally:
        await manager.stop()
        await store.close()
    print("\nthrough the build manager (SQLite store, same backend)")
    print(f"  first build                 {first[0]:6.2f} s   {first[1]}")
    print(f"  identical spec again        {again[0]:6.2f} s   {again[1]}   (target <= 1 s)")
    outcomes = sorted({outcome for _, outcome in results})
    print(
        f"  {storm} identical requests at once: {manager.builds_started - before} build(s) ran,"
        f" all ended in {elapsed:.1f} s, outcomes {outcomes}   (target: 1 build)"
    )


async def _quiet(line: str) -> None:
    pass


Side = Callable[[Path, list[str]], Awaitable[Timings]]


async def measure(side: Side, root: Path, packages: list[str], label: str) -> Timings:
    work = Path(tempfile.mkdtemp(prefix=f"{side.__name__}-", dir=root))
    try:
        timings = await side(work, packages)
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)
    print(f"  {label:<8} {side.__name__:<12} {timings['total']:7.1f} s", flush=True)
    return timings


def report(results: dict[str, list[Timings]]) -> None:
    def median(name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[name])

    print("\nmedians (seconds)")
    for name, runs in results.items():
        parts = ", ".join(f"{k} {median(name, k):.1f}" for k in runs[0] if k != "total")
        print(f"  {name:<12} {median(name, 'total'):7.1f}   ({parts})")
    ours_total, ours_build = median("ours", "total"), median("ours", "without validation")
    fresh, layered = median("pip_fresh", "total"), median("pip_layered", "total")
    print("\nratios")
    print(f"  pip fresh venv / ours (with validation)     {fresh / ours_total:5.1f}x")
    print(f"  pip fresh venv / ours (without validation)  {fresh / ours_build:5.1f}x")
    print(f"  pip fresh venv / pip layered (layering)     {fresh / layered:5.1f}x")
    print(f"  pip layered / ours without validation (uv)  {layered / ours_build:5.1f}x")


async def main(runs: int, packages: list[str], storm: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="jupyterhub-ov-bench-"))
    os.environ["UV_CACHE_DIR"] = str(root / "uv-cache")
    os.environ["PIP_CACHE_DIR"] = str(root / "pip-cache")
    sides: list[Side] = [ours, pip_fresh, pip_layered]
    print(f"packages: {' '.join(packages)}; base: {sys.prefix} (Python {sys.version.split()[0]})")
    try:
        for side in sides:
            await measure(side, root, packages, "warm-up")
        results: dict[str, list[Timings]] = {side.__name__: [] for side in sides}
        for i in range(runs):
            for side in sides:
                results[side.__name__].append(await measure(side, root, packages, f"run {i + 1}"))
        report(results)
        await through_the_manager(root, packages, storm)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--packages", nargs="+", default=PACKAGES)
    parser.add_argument("--storm", type=int, default=50, help="identical requests at once")
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.packages, args.storm))
