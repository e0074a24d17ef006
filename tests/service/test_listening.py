"""The service process listens before it has imported its modules: the hub's ten one-second
checks of a managed service wait on the bound socket instead of failing while a busy machine
imports the service (listening.py). A real process, connected to as the hub's check does."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from jupyterhub_ov.service import listening

from ..util import REPO, free_port

STARTED = "Platform service ("  # what the service logs once it serves


def test_the_port_answers_a_check_made_before_the_service_has_started(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "JUPYTERHUB_SERVICE_URL": f"http://127.0.0.1:{port}",
    }
    args = ["--backend=tests.builds.scripted.ScriptedBackend", "--log-level=INFO"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterhub_ov.service", *args],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    logged: list[tuple[float, str]] = []
    assert proc.stderr is not None
    reader = threading.Thread(
        target=lambda: logged.extend((time.monotonic(), line) for line in proc.stderr or ())
    )
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                check = socket.create_connection(("127.0.0.1", port), timeout=60)
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.02)
        connected = time.monotonic()
        with check:
            path = "/services/image-builder/api/openapi.json"
            check.sendall(f"GET {path} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
            answer = check.recv(100).decode()
        assert answer.startswith("HTTP/1.1 200"), answer
    finally:
        proc.terminate()
        proc.wait(30)
        reader.join(10)
    started = [at for at, line in logged if STARTED in line]
    # connected while the service was still importing: seconds before it said it serves
    assert started and started[0] - connected > 0.5, (started, connected)


def test_a_socket_for_another_address_is_closed_and_none_is_taken() -> None:
    port = free_port()
    listening.bind_early({"JUPYTERHUB_SERVICE_URL": f"http://127.0.0.1:{port}/"})
    assert listening.take(f"http://127.0.0.1:{free_port()}") is None
    with socket.socket() as s:  # the early one was closed: its port is free again
        s.bind(("127.0.0.1", port))


def test_without_a_service_url_nothing_is_bound_and_a_busy_port_is_left_to_the_service() -> None:
    listening.bind_early({})
    assert listening.take("http://127.0.0.1:1") is None
    with socket.create_server(("127.0.0.1", 0)) as busy:
        url = f"http://127.0.0.1:{busy.getsockname()[1]}"
        listening.bind_early({"JUPYTERHUB_SERVICE_URL": url})
        assert listening.take(url) is None
