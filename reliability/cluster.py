"""The simulator and a real hub for the spawn scenarios, and hooks into the simulator's store.

`tiny_hub` is the tests' `kube_hub` (the simulated OpenShift namespace with buckets, a real
JupyterHub with OVKubeSpawner as a subprocess) whose default image runs the bench's stand-in
server, so hundreds of pods fit in memory. `on_store_events` calls a function with every
change of a kind as the store makes it (synchronously, before any watcher hears of it): the
scenarios count objects with it (`census`) and kill the hub at the exact step of a spawn.
Hub API calls block: run them through ``setup.run`` (a thread), the simulator shares the loop.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import requests
from jupyterhub_ov_sim.store import ObjectStore
from jupyterhub_ov_sim.watchcache import Subscription, WatchEvent

from tests.kube.conftest import KubeSetup, kube_hub
from tests.kube.streams import reference

from .checks import CLAIMS, PODS, PVCS, Census

REPO = Path(__file__).resolve().parent.parent
#: the default image of `kube_hub`'s catalog runs bench/tiny_singleuser.py
TINY = {reference("default", "scipy-notebook", "latest"): [
    sys.executable, "-S", str(REPO / "bench" / "tiny_singleuser.py")
]}  # fmt: skip
#: the image of the spawns (KubeImageCatalog's reference of scipy-notebook:latest)
DEFAULT_IMAGE = next(iter(TINY))
#: (group, version, plural) of what a spawn makes for a user
KIND_PATHS = {
    CLAIMS: ("objectbucket.io", "v1alpha1", "objectbucketclaims"),
    PVCS: ("", "v1", "persistentvolumeclaims"),
    PODS: ("", "v1", "pods"),
}
#: every spawn at once, nothing timing out before the scenario says so
SPAWN_CONFIG = """
c.JupyterHub.concurrent_spawn_limit = 0
c.JupyterHub.active_server_limit = 0
c.JupyterHub.api_page_max_limit = 5000
c.OVKubeSpawner.start_timeout = {timeout}
c.OVKubeSpawner.http_timeout = {timeout}
c.OVKubeSpawner.bucket_bind_timeout = {timeout}
c.OVKubeSpawner.k8s_api_request_retry_timeout = {timeout}
"""


@contextmanager
def workdir(name: str) -> Iterator[Path]:
    """A temporary directory for a scenario's simulator and hub; kept (its path printed)
    when ``$RELIABILITY_KEEP`` names a directory to keep them in, e.g. to read hub logs."""
    keep = os.environ.get("RELIABILITY_KEEP")
    if keep:
        path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=keep))
        print(f"reliability: {name} works in {path}", file=sys.stderr, flush=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix=f"rel-{name}-") as tmp:
        yield Path(tmp)


def spawn_config(timeout: float = 300) -> str:
    return SPAWN_CONFIG.format(timeout=timeout)


@asynccontextmanager
async def tiny_hub(
    directory: Path, extra_config: str = "", **cluster: Any
) -> AsyncIterator[KubeSetup]:
    """`kube_hub` whose default image (scipy-notebook:latest) runs the stand-in server."""
    async with kube_hub(directory, extra_config, entrypoints=TINY, **cluster) as setup:
        yield setup


class _Hook(Subscription):
    """A store subscriber that calls a function instead of queueing events."""

    def __init__(self, store: ObjectStore, path: tuple[str, str, str], call: Callable) -> None:
        kind = store.registry.lookup(*path)
        if kind is None:
            raise ValueError(f"the simulator serves no {path}")
        super().__init__(store.log(kind), None, lambda obj: True)
        self.call = call

    def offer(self, event: WatchEvent) -> None:
        self.call(event)


@contextmanager
def on_store_events(
    store: ObjectStore, path: tuple[str, str, str], call: Callable[[WatchEvent], None]
) -> Iterator[None]:
    """``call(event)`` for each change of the kind at ``path`` while inside."""
    hook = _Hook(store, path, call)
    hook._log.subscribers.add(hook)
    try:
        yield
    finally:
        hook._log.unsubscribe(hook)


def objects(store: ObjectStore, kind: str) -> list[dict[str, Any]]:
    found = store.registry.lookup(*KIND_PATHS[kind])
    assert found is not None
    return store.list_objects(found)[0]


def _observer(counts: Census, kind: str) -> Callable[[WatchEvent], None]:
    return lambda event: counts.observe(kind, event.type, event.obj)


@contextmanager
def census(store: ObjectStore) -> Iterator[Census]:
    """A `Census` of the claims, PVCs and pods, from what exists now and every change after."""
    counts = Census()
    with ExitStack() as stack:
        for kind, path in KIND_PATHS.items():
            for obj in objects(store, kind):
                counts.observe(kind, "ADDED", obj)
            stack.enter_context(on_store_events(store, path, _observer(counts, kind)))
        yield counts


@contextmanager
def pull_held(setup: KubeSetup, image: str) -> Iterator[None]:
    """The simulated kubelet fails to pull ``image`` while inside (its pods wait, Pending in
    ErrImagePull, and are retried): an image pull that lasts exactly as long as a scenario
    needs, whatever the machine's load."""
    kubelet = setup.cluster.kubelet
    assert kubelet is not None
    kubelet.image_failures[image] = "the registry is busy (held by the scenario)"
    try:
        yield
    finally:
        kubelet.image_failures.pop(image, None)


def sigkill_hub(setup: KubeSetup) -> None:
    """SIGKILL the hub process now (synchronous: safe inside a store hook)."""
    if setup.hub.proc.poll() is None:
        setup.hub.proc.send_signal(signal.SIGKILL)


async def restart_killed_hub(setup: KubeSetup) -> None:
    """Once the killed hub is gone, start it again on the same ports and database."""
    await asyncio.to_thread(setup.hub.proc.wait)
    await setup.restart_hub()


def last_progress_message(setup: KubeSetup, user: str) -> str:
    """The last message of the user's progress stream (a failed spawn's reason)."""
    hub = setup.hub
    r = requests.get(
        f"{hub.url}/hub/api/users/{user}/server/progress",
        headers={"Authorization": f"token {hub.token}"},
        timeout=60,
    )
    messages = [
        line.removeprefix("data:").strip()
        for line in r.text.splitlines()
        if line.startswith("data:")
    ]
    if not messages:
        return f"({r.status_code}) {r.text.strip()}"
    return str(json.loads(messages[-1]).get("message", ""))
