"""The embedded S3 server (moto, IAM enforced) as a subprocess of the simulator.

Runs ``python -m jupyterhub_ov_sim.s3server``, which spends moto's few unauthenticated
calls on an admin identity and writes its credentials to a file; those feed the bucket
provisioner. In memory: everything is lost when it stops. A test double, not storage.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from pathlib import Path

from .s3admin import AdminCredentials


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedS3:
    """Start with ``await start()`` (returns the admin credentials), end with ``stop()``."""

    def __init__(self, state_dir: Path, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state_dir = Path(state_dir)
        self.host = host
        self.port = port
        self.process: asyncio.subprocess.Process | None = None
        self.credentials_file = self.state_dir / "s3-admin.json"
        self.log_file = self.state_dir / "s3.log"

    async def start(self, timeout: float = 30) -> AdminCredentials:
        self.port = self.port or _free_port(self.host)
        await asyncio.to_thread(self.state_dir.mkdir, parents=True, exist_ok=True)
        log = await asyncio.to_thread(open, self.log_file, "ab")
        try:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "jupyterhub_ov_sim.s3server",
                "--host", self.host, "--port", str(self.port),
                "--credentials-file", str(self.credentials_file),
                stdout=log, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
        finally:
            log.close()
        async with asyncio.timeout(timeout):
            while not await asyncio.to_thread(self.credentials_file.exists):
                if self.process.returncode is not None:
                    output = await asyncio.to_thread(self.log_file.read_text)
                    raise RuntimeError(f"the embedded S3 server exited:\n{output}")
                await asyncio.sleep(0.05)  # noqa: ASYNC110 - another process writes the file
        data = json.loads(await asyncio.to_thread(self.credentials_file.read_text))
        return AdminCredentials(
            data["endpoint_url"], data["region"], data["access_key_id"], data["secret_access_key"]
        )

    async def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()
