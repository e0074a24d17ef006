"""Kubeconfig files pointing clients (kubernetes_asyncio, KubeSpawner, kubectl) at the simulator.

``kubernetes_asyncio`` reads ``$KUBECONFIG`` when it is imported and KubeSpawner always loads
a kubeconfig, so a test or the CLI writes one of these and sets ``KUBECONFIG`` before anything
imports kubespawner. The file is JSON, which every kubeconfig reader accepts as YAML.
Part of the cluster simulator, a test double of Kubernetes (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

DEFAULT_CONTEXT = "jupyterhub-ov-sim"
# The simulator accepts any bearer token; clients still want one to send.
DEFAULT_TOKEN = "jupyterhub-ov-sim"


def kubeconfig(
    server_url: str,
    *,
    namespace: str = "default",
    name: str = DEFAULT_CONTEXT,
    token: str = DEFAULT_TOKEN,
) -> dict[str, Any]:
    """A kubeconfig document with one cluster, user and (current) context named ``name``."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": name, "cluster": {"server": server_url}}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [
            {
                "name": name,
                "context": {"cluster": name, "user": name, "namespace": namespace},
            }
        ],
        "current-context": name,
    }


def write_kubeconfig(
    path: str | os.PathLike[str],
    server_url: str,
    *,
    namespace: str = "default",
    name: str = DEFAULT_CONTEXT,
    token: str = DEFAULT_TOKEN,
) -> Path:
    """Write the kubeconfig (mode 0600, like kubectl does) and return its path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    document = kubeconfig(server_url, namespace=namespace, name=name, token=token)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(document, handle, indent=2)
    return target
