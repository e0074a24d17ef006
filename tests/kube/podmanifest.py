"""``python -m tests.kube.podmanifest '<variants JSON>'``: the pods OVKubeSpawner would
create for a user, one per variant of its traits, as JSON on stdout. A process of its own
because KubeSpawner loads a kubeconfig when a spawner is made and kubernetes_asyncio reads
``$KUBECONFIG`` only when first imported (`pod_manifests` sets it); no cluster is contacted."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tests.util import REPO


def pod_manifests(kubeconfig: Path, *variants: dict[str, Any]) -> list[dict[str, Any]]:
    """The pod of each variant (OVKubeSpawner traits), in a subprocess."""
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(
        [sys.executable, "-m", "tests.kube.podmanifest", json.dumps(variants)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
        check=True,
    )
    pods: list[dict[str, Any]] = json.loads(out.stdout)
    return pods


async def _render(variants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from kubernetes_asyncio.client import ApiClient
    from traitlets.config import Config

    from jupyterhub_ov.spawners.kube import OVKubeSpawner

    user = SimpleNamespace(name="alice", id=1, url="/user/alice/", admin=False)
    hub = SimpleNamespace(
        public_host="", url="http://hub:8081/hub/", base_url="/hub/", api_url="http://hub/api"
    )
    pods = []
    for traits in variants:
        config = Config({"OVKubeSpawner": {"image": "quay.io/x/nb:1", **traits}})
        spawner = OVKubeSpawner(config=config, user=user, hub=hub)
        pods.append(ApiClient().sanitize_for_serialization(await spawner.get_pod_manifest()))
    return pods


if __name__ == "__main__":
    print(json.dumps(asyncio.run(_render(json.loads(sys.argv[1])))))
