"""`supervisor.Replica` with real processes: a crash is restarted with backoff and shown,
secrets never appear in what it keeps, and a stop leaves nothing of the process group."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

from jupyterhub_ov.service.features.modelservers.supervisor import Launch, Replica, scrub
from tests import procs

LOG = logging.getLogger("test-supervisor")
SECRET = "s3cr3t-value-1234"


def script(tmp_path: Path, body: str) -> list[str]:
    path = tmp_path / "child.py"
    path.write_text(body)
    return [sys.executable, str(path)]


async def until(predicate, timeout: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_crash_is_restarted_with_backoff_and_shown_without_secrets(tmp_path: Path) -> None:
    argv = script(
        tmp_path,
        "import os, sys\n"
        "print('starting with key', os.environ['AWS_SECRET_ACCESS_KEY'], flush=True)\n"
        "print('PATH' in os.environ, 'HUB_TOKEN' in os.environ, flush=True)\n"
        "sys.exit(3)\n",
    )
    starts: list[float] = []

    async def prepare() -> Launch:
        starts.append(asyncio.get_running_loop().time())
        env = {"PATH": os.environ["PATH"], "AWS_SECRET_ACCESS_KEY": SECRET}
        return Launch(argv, env, (SECRET,))

    replica = Replica("crashy[0]", prepare, log=LOG, backoff_base=0.2, backoff_max=0.8)
    replica.start()
    try:
        await until(lambda: replica.restarts >= 4)
    finally:
        await replica.stop()
    status = replica.status()
    assert status["last_exit"] == "exited with code 3"
    assert status["last_error"] == "exited with code 3"
    assert status["pid"] is None
    assert "starting with key ***" in status["log"]
    assert "True False" in status["log"]  # only the environment given
    assert SECRET not in repr(status) and SECRET not in repr(replica.lines)
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert gaps[0] >= 0.2 and gaps[2] >= 0.75  # 0.2, 0.4, 0.8 (capped)
    assert gaps[-1] < 1.5


async def test_stop_terms_then_kills_the_whole_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    argv = script(
        tmp_path,
        "import signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"child = subprocess.Popen([sys.executable, '-c', "
        "'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)'])\n"
        f"open({str(pidfile)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(600)\n",
    )

    async def prepare() -> Launch:
        return Launch(argv, {"PATH": os.environ["PATH"]})

    replica = Replica("stubborn[0]", prepare, log=LOG, stop_timeout=0.5)
    replica.start()
    await until(lambda: pidfile.exists() and pidfile.read_text().strip() != "")
    pid, grandchild = replica.pid, int(pidfile.read_text())
    assert pid is not None and procs.running(pid) and procs.running(grandchild)
    began = asyncio.get_running_loop().time()
    await replica.stop()
    assert asyncio.get_running_loop().time() - began >= 0.5  # SIGTERM was ignored: waited
    await until(lambda: not procs.running(grandchild), timeout=5)
    assert not procs.running(pid)
    assert replica.restarts == 0  # a stop is no crash


async def test_a_failed_preparation_is_retried_and_reported(tmp_path: Path) -> None:
    argv = script(tmp_path, "import time; time.sleep(600)\n")
    calls = 0

    async def prepare() -> Launch:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise RuntimeError("The S3 service at http://127.0.0.1:1 is unreachable.")
        return Launch(argv, {"PATH": os.environ["PATH"]})

    replica = Replica("later[0]", prepare, log=LOG, backoff_base=0.1)
    replica.start()
    try:
        await until(lambda: replica.running)
        assert calls == 3
        assert (
            replica.last_error
            == "could not start: The S3 service at http://127.0.0.1:1 is unreachable."
        )
    finally:
        await replica.stop()
    assert not replica.running


def test_scrub() -> None:
    assert scrub("key=abc and abc", ("abc", "")) == "key=*** and ***"


#: a service stand-in: supervises a sleeping model server, prints its pid, and waits
SERVICE = """
import asyncio, logging, sys
from jupyterhub_ov.service.features.modelservers.supervisor import Launch, Replica

async def main():
    async def prepare():
        return Launch([sys.executable, "-c", "import time; time.sleep(120)"], {}, ())
    replica = Replica("orphan[0]", prepare, log=logging.getLogger("service"))
    replica.start()
    await replica.started.wait()
    print(replica.proc.pid, flush=True)
    await asyncio.sleep(120)

asyncio.run(main())
"""


async def test_a_killed_service_leaves_no_model_server_running() -> None:
    service = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SERVICE, stdout=asyncio.subprocess.PIPE
    )
    assert service.stdout is not None
    pid = int(await service.stdout.readline())
    assert procs.running(pid)
    service.kill()  # SIGKILL: no clean-up code of the service runs
    await service.wait()
    try:
        await until(lambda: not procs.running(pid))
    finally:
        if procs.running(pid):
            os.kill(pid, 9)
