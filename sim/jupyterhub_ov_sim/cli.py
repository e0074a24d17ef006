"""``jupyterhub-ov-sim``: run a simulated OpenShift namespace on this machine for a dry run.

Starts the simulated API server and controllers, writes a kubeconfig, prints how to point a
hub at it and runs until interrupted (SIGINT/SIGTERM), then stops every pod process.
The simulator is a test double of Kubernetes, never a production runtime.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shlex
import shutil
import signal
import tempfile
import textwrap
from collections.abc import Sequence
from pathlib import Path

from .cluster import ClusterOptions, SimulatedCluster, this_environment_path


def _pairs(values: Sequence[str], what: str) -> dict[str, str]:
    result = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise SystemExit(f"--{what} expects NAME=VALUE, got {value!r}")
        result[key] = rest
    return result


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="jupyterhub-ov-sim",
        description="Run a simulated Kubernetes/OpenShift namespace "
        "(a test double, not a cluster).",
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    p.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    p.add_argument("--state-dir", type=Path, help="where volumes, pod logs and the kubeconfig go")
    p.add_argument("--namespace", default="default", help="the kubeconfig's namespace")
    p.add_argument("--no-kubelet", action="store_true", help="do not run pods as processes")
    p.add_argument("--no-volumes", action="store_true", help="do not bind volume claims")
    p.add_argument(
        "--no-s3", action="store_true", help="no S3 server and no ObjectBucketClaim provisioner"
    )
    p.add_argument("--no-builds", action="store_true", help="do not run OpenShift builds")
    p.add_argument(
        "--no-imports", action="store_true", help="do not import ImageStream tags from registries"
    )
    p.add_argument(
        "--import-failure",
        action="append",
        default=[],
        metavar="REFERENCE=MESSAGE",
        help="an image reference whose import fails with MESSAGE (empty: not found); repeatable",
    )
    p.add_argument("--bind-delay", type=float, default=0.0, help="seconds before a claim binds")
    p.add_argument("--pull-delay", type=float, default=0.0, help="seconds to 'pull' an image")
    p.add_argument("--bucket-delay", type=float, default=0.0, help="seconds to provision a bucket")
    p.add_argument(
        "--storage-class",
        action="append",
        default=[],
        metavar="NAME=POLICY",
        help="a storage class and its reclaim policy (Delete or Retain); repeatable",
    )
    p.add_argument(
        "--entrypoint",
        action="append",
        default=[],
        metavar="IMAGE=COMMAND",
        help="the command an image runs when a pod gives none (shell words); repeatable",
    )
    p.add_argument(
        "--image-command",
        action="append",
        default=[],
        metavar="REPOSITORY=COMMAND",
        help="the local command (shell words) containers of an image repository (any tag,"
        " with or without registry host) run when they give no command; args follow it;"
        " repeatable",
    )
    p.add_argument("--log-level", default="INFO", help="logging level (default: %(default)s)")
    return p


def options_from(args: argparse.Namespace) -> ClusterOptions:
    state_dir = args.state_dir or Path(tempfile.mkdtemp(prefix="jupyterhub-ov-sim-"))
    classes = _pairs(args.storage_class, "storage-class") or {"standard": "Delete"}
    entrypoints = {k: shlex.split(v) for k, v in _pairs(args.entrypoint, "entrypoint").items()}
    mapped = _pairs(args.image_command, "image-command")
    return ClusterOptions(
        state_dir=state_dir.resolve(),
        host=args.host,
        port=args.port,
        namespace=args.namespace,
        kubelet=not args.no_kubelet,
        volumes=not args.no_volumes,
        builds=not args.no_builds,
        imports=not args.no_imports,
        import_failures=_pairs(args.import_failure, "import-failure"),
        s3=not args.no_s3,
        bind_delay=args.bind_delay,
        pull_delay=args.pull_delay,
        bucket_delay=args.bucket_delay,
        storage_classes=classes,
        default_storage_class=next(iter(classes)),
        entrypoints=entrypoints,
        image_commands={k: shlex.split(v) for k, v in mapped.items()},
        extra_env={"PATH": this_environment_path()},
    )


def hub_config(cluster: SimulatedCluster, *, as_root: bool) -> str:
    """A jupyterhub_config.py that spawns servers on this simulator as it is printed."""
    root = (
        "# pods run as the simulator's own OS user, here root, and jupyter-server refuses\n"
        "# to run as root unless told --allow-root (drop it when the simulator is not root)\n"
        'c.KubeSpawner.args = ["--allow-root"]\n'
        if as_root
        else ""
    )
    return f"""\
c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
c.JupyterHub.hub_connect_ip = "127.0.0.1"
c.KubeSpawner.namespace = "{cluster.options.namespace}"
# a dry run: any name logs in with any password
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
# there are no images: the kubelet runs a pod's command on this machine, so name it
# (an image's own entrypoint is unknown here); found on the simulator's PATH, its
# Python's bin first
c.KubeSpawner.cmd = ["jupyterhub-singleuser"]
{root}"""


def banner(cluster: SimulatedCluster) -> str:
    url = cluster.server.url
    s3 = (
        f"S3 endpoint (moto, IAM enforced): http://{cluster.s3.host}:{cluster.s3.port}\n"
        if cluster.s3
        else ""
    )
    path = cluster.options.extra_env.get("PATH", os.environ.get("PATH", ""))
    missing = (
        ""
        if shutil.which("jupyterhub-singleuser", path=path)
        else "\nNote: jupyterhub-singleuser is not on the simulator's PATH; install jupyterhub"
        " into its environment, or pods fail with CreateContainerError.\n"
    )
    config = textwrap.indent(hub_config(cluster, as_root=os.geteuid() == 0), "  ")
    router = cluster.router
    routes = (
        f"Routes and Ingresses: every host at {router.address} (HTTP {router.http_port}, HTTPS "
        f"{router.https_port}; CA {router.ca_file}), e.g.\n  curl --cacert {router.ca_file} "
        f"--resolve HOST:{router.https_port}:{router.address} {router.https_url('HOST')}/\n"
        if router
        else ""
    )
    return f"""\
Simulated Kubernetes API server (a test double, not a cluster): {url}
{s3}{routes}State directory: {cluster.options.state_dir}

Point a hub at it:
  export KUBECONFIG={cluster.kubeconfig}

  # jupyterhub_config.py
{config}{missing}
Press Ctrl+C to stop.
"""


async def run(options: ClusterOptions) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with SimulatedCluster(options) as cluster:
        print(banner(cluster), flush=True)
        await stop.wait()
        print("Stopping the simulator...", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    asyncio.run(run(options_from(args)))
    return 0
