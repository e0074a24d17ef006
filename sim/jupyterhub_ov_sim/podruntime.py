"""The simulated kubelet's records of the pods it runs, and how it stops their processes.

Part of the cluster simulator, a test double of Kubernetes (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import asyncio
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from .podenv import PodConfigError


class ImagePullError(PodConfigError):
    """An injected image pull failure."""

    reason = "ErrImagePull"


@dataclass
class PodRuntime:
    """The kubelet's record of one pod it runs."""

    uid: str
    namespace: str
    name: str
    ip: str
    directory: Path
    process: asyncio.subprocess.Process | None = None
    task: asyncio.Task[Any] | None = None
    stopping: bool = False
    last_problem: str = ""


@dataclass
class Launch:
    argv: list[str]
    env: dict[str, str]
    cwd: str


async def terminate(process: asyncio.subprocess.Process, grace: float) -> None:
    """SIGTERM the process group, SIGKILL it after ``grace`` seconds; then SIGKILL what is
    left of the pod's process tree in other sessions (a hub's proxy, started with a session
    of its own), as a container runtime ends every process of the container's PID namespace.
    """
    tree = await asyncio.to_thread(descendants, process.pid)
    try:
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, None)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                pass
            try:
                await asyncio.wait_for(process.wait(), wait)
                return
            except TimeoutError:
                continue
    finally:
        for pid in tree:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def end_group(pid: int) -> None:
    """SIGKILL what is left of the process group of ``pid``, a pod's main process that has
    exited: a container runtime ends every process of the container's PID namespace when its
    first process exits. Processes that made a session of their own are out of reach here;
    ``terminate`` reads the tree while the main process lives.
    """
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, their children...)."""
    try:
        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []
