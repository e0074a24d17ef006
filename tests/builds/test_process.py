"""`process.run`'s tools die with the service: a service killed mid-build (SIGKILL) leaves
no uv or git running for nobody (found by issue 17's servicecrash scenario)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests import procs

#: a stand-in service: runs a long tool through `run`, prints the tool's pid, then waits
SERVICE = textwrap.dedent(
    """
    import asyncio, sys
    from jupyterhub_ov.builds.process import run

    async def main():
        async def line(text):
            print(text, flush=True)
        await run([sys.executable, "-c", "import os, time; print(os.getpid(), flush=True); "
                   "time.sleep(120)"], on_line=line)

    asyncio.run(main())
    """
)


def test_a_tool_dies_with_the_killed_service(tmp_path: Path) -> None:
    script = tmp_path / "service.py"
    script.write_text(SERVICE)
    service = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=tmp_path
    )
    try:
        assert service.stdout is not None
        tool = int(service.stdout.readline())
        assert procs.running(tool)
        os.kill(service.pid, signal.SIGKILL)
        service.wait(10)
        deadline = time.monotonic() + 10
        while procs.running(tool):
            assert time.monotonic() < deadline, f"the tool {tool} outlived the killed service"
            time.sleep(0.05)
    finally:
        service.kill()
        service.wait(10)
        if "tool" in locals() and procs.running(tool):
            os.kill(tool, signal.SIGKILL)
