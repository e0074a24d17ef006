"""The ModelServer backends the contract suite runs against, each doing its real work:

- ``local``: `LocalBackend` over a real SQLite database, running the real ovms program
  (``python -m jupyterhub_ov.ovms``) on a real OpenVINO model, its servers' S3 identities on
  the shipped embedded S3 server;
- ``openshift``: `ClusterBackend` on the cluster simulator, with the `ModelServerReconciler`
  deploying what it writes (the pods' OVMS image mapped to a stand-in answering the health
  endpoints, as in test_cluster.py).

A case knows how to look behind the backend: whether anything of a server is left.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyterhub_ov.database import Database
from jupyterhub_ov.service.features.modelservers.backends.base import ModelServerBackend
from jupyterhub_ov.service.features.modelservers.backends.local import LocalBackend
from jupyterhub_ov.service.features.modelservers.backends.s3identity import ServerIdentities
from jupyterhub_ov.service.features.modelservers.store import ServerStore
from jupyterhub_ov.service.features.modelservers.view import ServerView, State
from jupyterhub_ov.storage.s3local import LocalBucketProvisioner
from tests import procs

LOG = logging.getLogger("modelserver-contract")
OVMS = [sys.executable, "-m", "jupyterhub_ov.ovms"]

#: a tiny model: y = 2x + 1 on a [1, 4] float tensor
MODEL_SCRIPT = """
import sys
import numpy as np, openvino as ov
from openvino import opset13 as ops
x = ops.parameter([1, 4], np.float32, name="x")
y = ops.add(ops.multiply(x, ops.constant(np.float32(sys.argv[2]))), ops.constant(np.float32(1)))
ov.save_model(ov.Model([y], [x], "affine"), sys.argv[1])
"""


def save_model(path: Path, factor: float = 2.0) -> None:
    """An OpenVINO IR of y = factor·x + 1 at ``path`` (``.../<version>/model.xml``), made in a
    child process (openvino is slow to import; the tests' process does not need it)."""
    import subprocess

    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-c", MODEL_SCRIPT, str(path), str(factor)], check=True)


@dataclass
class BackendCase:
    kind: str
    backend: ModelServerBackend
    #: a valid spec this backend can run (flat shape), serving a model named as the server
    spec: Callable[[str], dict[str, Any]]
    #: whether anything made for server ``name`` is left (processes, identity, objects)
    leftovers: Callable[[str], Awaitable[list[str]]]
    #: a new backend over the same records (the service restarted)
    #: (killed=True: the old one never stopped anything)
    restart: Callable[..., Awaitable[ModelServerBackend]]
    extra: dict[str, Any] = field(default_factory=dict)


async def until_state(
    backend: ModelServerBackend, name: str, *states: State, timeout: float = 60
) -> ServerView:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        view = await backend.get(name)
        if view.state in states:
            return view
        assert asyncio.get_running_loop().time() < deadline, view
        await asyncio.sleep(0.2)


def model_server_processes(model_name: str) -> list[int]:
    """Running processes of the ovms program serving ``model_name``."""
    return [
        p.pid
        for p in procs.mentioning("jupyterhub_ov.ovms")
        if {"jupyterhub_ov.ovms", model_name} <= set(p.info["cmdline"])
    ]


@asynccontextmanager
async def local_case(directory: Path, s3: Any) -> AsyncIterator[BackendCase]:
    volumes = directory / "volumes"
    save_model(volumes / "claims" / "models-pvc" / "affine" / "1" / "model.xml")
    database = Database(f"sqlite:///{directory / 'service.sqlite'}")
    await database.start()
    provisioner = LocalBucketProvisioner(credentials_file=str(s3.credentials_file))
    identities = ServerIdentities(provisioner)

    def make() -> LocalBackend:
        return LocalBackend(
            store=ServerStore(database),
            identities=identities,
            command=OVMS,
            log=LOG,
            volumes_dir=str(volumes),
            stop_timeout=5,
            backoff=(0.2, 2.0),
            mark=f"test-{id(database):x}",
        )

    backends = [make()]

    async def leftovers(name: str) -> list[str]:
        found = [f"process {p}" for p in model_server_processes(name)]
        if await identities.exists(name):
            found.append(f"IAM identity of {name}")
        rows = await ServerStore(database).all()
        found += [f"record {r.name}" for r in rows if r.name == name]
        return found

    async def restart(killed: bool = False) -> ModelServerBackend:
        """The service started again; ``killed``: its predecessor never stopped anything."""
        if not killed:
            await backends[-1].stop()
        backends.append(make())
        await backends[-1].start()
        return backends[-1]

    await backends[0].start()
    case = BackendCase(
        "local",
        backends[0],
        lambda name: {
            "model_name": name,
            "model_path": "/models/affine",
            "models_volume_claim": "models-pvc",
        },
        leftovers,
        restart,
        {"database": database, "volumes": volumes},
    )
    try:
        yield case
    finally:
        for backend in reversed(backends):
            await backend.stop()
        await database.close()


@asynccontextmanager
async def cluster_case(
    directory: Path, sim_server: Any, api_client: Any
) -> AsyncIterator[BackendCase]:
    from jupyterhub_ov_sim.cluster import SimulatedCluster, cluster_options
    from kubernetes_asyncio import client

    from jupyterhub_ov.service.features.modelservers.backends.cluster import ClusterBackend
    from jupyterhub_ov.service.features.modelservers.cluster import ModelServerReconciler
    from jupyterhub_ov.service.features.modelservers.spec import GROUP, PLURAL, VERSION

    from .test_cluster import FAKE_OVMS  # the health endpoints, as that test's pods answer

    script = directory / "fake_ovms.py"
    script.write_text(FAKE_OVMS)
    options = cluster_options(
        directory / "sim",
        image_commands={"openvino/model_server": [sys.executable, str(script), "0.0.0.0"]},
    )
    async with SimulatedCluster(options, server=sim_server) as cluster:
        core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
        custom = client.CustomObjectsApi(api_client)
        secret = {
            "metadata": {"name": "s3-creds"},
            "stringData": {"AWS_ACCESS_KEY_ID": "key", "AWS_SECRET_ACCESS_KEY": "secret"},
        }
        await core.create_namespaced_secret("default", secret)
        reconciler = ModelServerReconciler(
            kubeconfig=str(cluster.kubeconfig), resync_seconds=1, log=LOG
        )
        await reconciler.start()
        await asyncio.wait_for(reconciler.ready.wait(), 10)

        def make() -> ClusterBackend:
            return ClusterBackend(kubeconfig=str(cluster.kubeconfig), namespace="default", log=LOG)

        backends = [make()]
        await backends[0].start()

        async def leftovers(name: str) -> list[str]:
            found = []
            listed = await custom.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL)
            found += [
                f"ModelServer {o['metadata']['name']}"
                for o in listed["items"]
                if o["metadata"]["name"] == name
            ]
            for kind, lister in (
                ("Deployment", apps.list_namespaced_deployment),
                ("Service", core.list_namespaced_service),
            ):
                objects = (await lister("default", label_selector=f"release={name}")).items
                found += [f"{kind} {o.metadata.name}" for o in objects]
            return found

        async def restart(killed: bool = False) -> ModelServerBackend:
            await backends[-1].stop()  # (nothing of the cluster's stops with it)
            backends.append(make())
            await backends[-1].start()
            return backends[-1]

        case = BackendCase(
            "openshift",
            backends[0],
            lambda name: {
                "model_name": name,
                "model_path": "s3://models/affine",
                "aws_secret_name": "s3-creds",
                "s3_compat_api_endpoint": "http://s3:9000",
            },
            leftovers,
            restart,
        )
        try:
            yield case
        finally:
            await backends[-1].stop()
            await reconciler.stop()
