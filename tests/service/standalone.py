"""The service as its own process, without a hub (as `python -m jupyterhub_ov.service`)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import requests

from ..util import REPO, free_port


@contextmanager
def service_process(
    cwd: Path, *args: str, env: Mapping[str, str] | None = None, log: Path | None = None
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The running service (with ``env`` added to this process's environment) and its URL
    prefix, once it answers; stop it with `stop`. Its stderr is a pipe (read by `stop`), or
    appended to ``log`` (for a service that runs long and logs much)."""
    port = free_port()
    env = {
        **os.environ,
        **(env or {}),
        "PYTHONPATH": str(REPO),
        "JUPYTERHUB_SERVICE_URL": f"http://127.0.0.1:{port}",
    }
    with open(log, "a") if log else contextlib.nullcontext() as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub_ov.service", *args],
            cwd=cwd,
            env=env,
            stderr=sink or subprocess.PIPE,
            text=True,
        )
    base = f"http://127.0.0.1:{port}/services/image-builder/"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None
            try:
                if requests.get(base + "api/openapi.json", timeout=2).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):  # bound, not yet serving
                pass
            assert time.monotonic() < deadline
            time.sleep(0.1)
        yield proc, base
    finally:
        if proc.poll() is None:
            proc.kill()


def stop(proc: subprocess.Popen[str]) -> str:
    """SIGTERM, as the hub stops it; what it logged. It must exit cleanly."""
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return err or ""
