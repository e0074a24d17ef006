"""Issue 17, scenario 2 (the hub's part): the hub SIGKILLed at each step of a spawn.

OpenShift mode on the simulator with the real hub and OVKubeSpawner (tiny servers). For each
step of `checks.KILL_STEPS` — right after the ObjectBucketClaim create, while waiting for
Bound (the simulator provisions buckets in ``BUCKET_DELAY`` s), right after the pod create,
during progress (the simulator holds the image pull until the new hub has looked at the pod,
as a slow pull would) — a user's spawn is started,
the hub SIGKILLed at that store event (`cluster.on_store_events`), started again on the same
database and the spawn asked for again. The retry must end ready or failed with a clear
message; then the user's server is stopped and the user deleted (with the admin's opt-in to
delete storage): nothing of theirs may remain. Objects are counted from the store's events.
Short mode: one user per step; full mode: ``FULL_USERS`` per step, one after the other.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import requests

from tests.kube.conftest import KubeSetup

from . import figures
from .checks import CLAIMS, KILL_STEPS, KINDS, PODS, PVCS, Census, KillStep, clear_failure
from .cluster import (
    DEFAULT_IMAGE,
    KIND_PATHS,
    census,
    last_progress_message,
    on_store_events,
    pull_held,
    restart_killed_hub,
    sigkill_hub,
    spawn_config,
    tiny_hub,
    workdir,
)

NAME = "hubcrash"
FULL_USERS = 4
#: seconds the simulator takes to provision a bucket: the window of "while waiting for Bound"
BUCKET_DELAY = 1.0
#: seconds the pull stays held once the new hub answers (it checks the spawner meanwhile)
HELD_AFTER_RESTART = 2.0
#: seconds a spawn may take to reach its step, and a retry to settle: half the hub's own
#: timeouts, so a hub waiting for one (a stuck spawn) is caught
REACH_TIMEOUT, SETTLE_TIMEOUT = 30.0, 60.0
#: the admin's opt-in to delete storage with the user; the restarted hub serves after 1 s and
#: checks the servers it had in the background (JupyterHub's default waits 10 s)
CONFIG = spawn_config(2 * SETTLE_TIMEOUT) + (
    "c.OVKubeSpawner.delete_pvc = True\nc.OVKubeSpawner.delete_bucket_claim = True\n"
    "c.JupyterHub.init_spawners_timeout = 1\n"
)


@dataclass
class Outcome:
    """What happened to one user's spawn killed at one step."""

    user: str
    step: str
    killed: bool = False
    #: "ready", "failed" (clear message), "unclear" (raw error), "stuck" (never settled)
    retry: str = ""
    message: str = ""
    #: the hub said ready while the server did not answer through the proxy
    phantom: bool = False
    left: dict[str, int] = field(default_factory=dict)
    #: seconds from the kill until the new hub answered, and for the whole round
    restart_s: float = 0.0
    round_s: float = 0.0


def _server(kube: KubeSetup, user: str) -> dict[str, Any]:
    return dict(kube.hub.user(user)["servers"].get("", {}))


def _post_spawn(kube: KubeSetup, user: str) -> None:
    """Ask for the server; the hub may die while answering (its kill is the point)."""
    try:
        kube.hub.api("POST", f"/users/{user}/server", json={})
    except requests.RequestException:
        pass


async def _kill_at(kube: KubeSetup, outcome: Outcome, step: KillStep) -> bool:
    """Start ``user``'s spawn and SIGKILL the hub at ``step``; False if never reached."""
    loop, user = asyncio.get_running_loop(), outcome.user
    reached = asyncio.Event()

    def hook(event: Any) -> None:
        if not reached.is_set() and step.matches(user, event.type, event.obj):
            reached.set()
            if step.after:
                loop.call_later(step.after, sigkill_hub, kube)
            else:
                sigkill_hub(kube)  # synchronous: before any watcher hears of the change

    store = kube.cluster.server.store
    with ExitStack() as held:
        if step.pull_held:
            held.enter_context(pull_held(kube, DEFAULT_IMAGE))
        with on_store_events(store, KIND_PATHS[step.kind], hook):
            spawn = asyncio.ensure_future(kube.run(_post_spawn, kube, user))
            try:
                await asyncio.wait_for(reached.wait(), REACH_TIMEOUT)
            except TimeoutError:
                await spawn
                return False
        await spawn
        killed = time.monotonic()
        await restart_killed_hub(kube)
        outcome.restart_s = time.monotonic() - killed
        if step.pull_held:
            await asyncio.sleep(HELD_AFTER_RESTART)
    return True


async def _settled(kube: KubeSetup, user: str) -> dict[str, Any] | None:
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while time.monotonic() < deadline:
        server = await kube.run(_server, kube, user)
        if not server.get("pending"):
            return server
        await asyncio.sleep(0.3)
    return None


async def _retry(kube: KubeSetup, outcome: Outcome) -> None:
    """Ask again (the restarted hub may have kept or dropped the server) and judge the end."""
    user = outcome.user
    first = await _settled(kube, user)  # the restarted hub's own check of the spawner
    if first is None:
        outcome.retry = "stuck"  # the hub still checks the server (waiting on a timeout)
        return
    if not first.get("ready"):
        r = await kube.run(kube.hub.api, "POST", f"/users/{user}/server", json={})
        if r.status_code not in (201, 202, 400):
            outcome.message = f"retry answered {r.status_code}: {r.text[:200]}"
    server = await _settled(kube, user)
    if server is None:
        outcome.retry = "stuck"
    elif server.get("ready"):
        outcome.retry = "ready"
        outcome.phantom = not await kube.run(_answers, kube, server)
    else:
        message = outcome.message or await kube.run(last_progress_message, kube, user)
        outcome.message = message
        outcome.retry = "failed" if clear_failure(message) else "unclear"


def _answers(kube: KubeSetup, server: dict[str, Any]) -> bool:
    """The server the hub calls ready answers through the proxy (the stand-in says "ok")."""
    try:
        r = requests.get(f"{kube.hub.url}{server['url']}api", timeout=10, allow_redirects=False)
    except requests.RequestException:
        return False
    return r.status_code == 200 and r.text == "ok"


async def _remove(kube: KubeSetup, outcome: Outcome, counts: Census) -> None:
    """Stop the server and delete the user (storage too): what is left of them is a leak."""
    user = outcome.user
    r = await kube.run(kube.hub.api, "DELETE", f"/users/{user}/server")
    if r.status_code in (202, 204):
        await _settled(kube, user)
    r = await kube.run(kube.hub.api, "DELETE", f"/users/{user}")
    if r.status_code != 204:
        outcome.message += f" (delete answered {r.status_code}: {r.text[:200]})"
    # the provisioner releases a deleted claim (its finalizer) before it disappears
    deadline = time.monotonic() + 30
    while any(counts.of(user).values()) and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.2)  # the census offers no event to await
    outcome.left = counts.of(user)


async def _round(kube: KubeSetup, counts: Census, user: str, step: KillStep) -> Outcome:
    started, outcome = time.monotonic(), Outcome(user, step.name)
    r = await kube.run(kube.hub.api, "POST", f"/users/{user}")
    assert r.status_code == 201, r.text
    outcome.killed = await _kill_at(kube, outcome, step)
    await _retry(kube, outcome)
    await _remove(kube, outcome, counts)
    outcome.round_s = time.monotonic() - started
    print(f"hubcrash: {outcome}", flush=True)
    return outcome


async def _run(per_step: int) -> tuple[list[Outcome], Census, float]:
    started = time.monotonic()
    outcomes = []
    with workdir(NAME) as tmp:
        async with tiny_hub(tmp, CONFIG, bucket_delay=BUCKET_DELAY) as kube:
            with census(kube.cluster.server.store) as counts:
                for i in range(per_step):
                    for s, step in enumerate(KILL_STEPS):
                        outcomes.append(await _round(kube, counts, f"crash{s}u{i}", step))
    return outcomes, counts, time.monotonic() - started


def _step_figures(step: str, outcomes: list[Outcome]) -> list[figures.Figure]:
    mine = [o for o in outcomes if o.step == step]
    n = len(mine)
    done = sum(o.retry in ("ready", "failed") for o in mine)
    failed = sum(o.retry == "failed" for o in mine)
    for o in mine:
        if o.retry != "ready":
            print(f"hubcrash: {o.user} ({step}): {o.retry}: {o.message}", flush=True)
    return [
        figures.at_least(NAME, f"{step}: hub killed at the step", sum(o.killed for o in mine), n),
        figures.at_least(NAME, f"{step}: retries ready or failed clearly", done, n),
        figures.info(NAME, f"{step}:   of them failed (clear message)", failed),
        figures.zero(
            NAME, f"{step}: servers ready but not answering", sum(o.phantom for o in mine)
        ),
        figures.zero(
            NAME, f"{step}: objects left after delete", sum(sum(o.left.values()) for o in mine)
        ),
    ]


def _figures(outcomes: list[Outcome], counts: Census, took: float) -> list[figures.Figure]:
    killed = [o.restart_s for o in outcomes if o.killed]
    restart = round(sum(killed) / max(1, len(killed)), 1)
    out = []
    for step in KILL_STEPS:
        out += _step_figures(step.name, outcomes)
    out += [
        figures.zero(NAME, "duplicate claims", counts.duplicates(CLAIMS)),
        figures.zero(NAME, "duplicate PVCs", counts.duplicates(PVCS)),
        figures.zero(NAME, "duplicate pods", counts.duplicates(PODS)),
        figures.zero(NAME, "objects left in the store", sum(counts.left(k) for k in KINDS)),
        figures.info(NAME, "seconds from a kill until the new hub answered (mean)", restart),
        figures.info(NAME, "seconds", round(took, 1)),
    ]
    return out


def run(full: bool) -> list[figures.Figure]:
    return _figures(*asyncio.run(_run(FULL_USERS if full else 1)))
