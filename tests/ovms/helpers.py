"""Tiny OpenVINO models and the local model server run as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tests.util import free_port

#: the simulator's image mapping: pods of the OVMS image run the local model server, bound
#: (OVMS's default 0.0.0.0, which the kubelet makes the pod's IP) to their own address
OVMS_IMAGE_COMMANDS = {
    "openvino/model_server": [
        sys.executable,
        "-m",
        "jupyterhub_ov.ovms",
        *("--rest_bind_address", "0.0.0.0", "--grpc_bind_address", "0.0.0.0"),
    ]
}
INPUT, OUTPUT = "x", "y"
#: the tiny model's input and what version ``v`` makes of it: x * v * [1, 2, 3]
SAMPLE = np.array([[1.0, 1.0, 2.0]], dtype=np.float32)


def expected(version: int) -> np.ndarray:
    return SAMPLE * version * np.array([[1, 2, 3]], dtype=np.float32)


def save_tiny_model(directory: Path, version: int) -> Path:
    """``directory/<version>/model.xml|.bin``: Parameter [1,3] → Multiply by a constant
    (``version * [1, 2, 3]``) → Result, made with openvino's Python API."""
    import openvino as ov
    from openvino import opset13 as ops

    x = ops.parameter([1, 3], np.float32, name=INPUT)
    scale = np.array([[1, 2, 3]], dtype=np.float32) * version
    result = ops.result(ops.multiply(x, ops.constant(scale)))
    model = ov.Model([result], [x], "tiny")
    model.outputs[0].get_tensor().set_names({OUTPUT})
    target = directory / str(version)
    target.mkdir(parents=True, exist_ok=True)
    ov.save_model(model, str(target / "model.xml"))
    return target


def upload_version(s3: Any, bucket: str, prefix: str, version: int, scratch: Path) -> None:
    """The tiny model's version ``version`` put under ``s3://bucket/prefix/<version>/``."""
    folder = save_tiny_model(scratch, version)
    for name in ("model.xml", "model.bin"):
        s3.upload_file(str(folder / name), bucket, f"{prefix}/{version}/{name}")


def get(url: str, timeout: float = 5) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def post(url: str, body: bytes, headers: Mapping[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=dict(headers or {}), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@dataclass
class RunningServer:
    process: subprocess.Popen[bytes]
    rest: str  # host:port
    grpc: str
    log: Path

    @property
    def url(self) -> str:
        return f"http://{self.rest}"

    def config(self) -> dict[str, Any]:
        status, body = get(f"{self.url}/v1/config")
        assert status == 200, body
        doc: dict[str, Any] = json.loads(body)
        return doc

    def states(self, model: str) -> dict[str, str]:
        return {s["version"]: s["state"] for s in self.config()[model]["model_version_status"]}

    def wait_for(self, check: Callable[[], bool], timeout: float = 30) -> float:
        """Seconds until ``check()`` holds (AssertionError with the log after ``timeout``)."""
        start = time.monotonic()
        while not check():
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            if time.monotonic() - start > timeout:
                raise AssertionError(f"not within {timeout}s: {self.log.read_text()[-3000:]}")
            time.sleep(0.05)
        return time.monotonic() - start


def server_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "jupyterhub_ov.ovms", *args]


@contextmanager
def running_server(
    args: list[str], log_dir: Path, env: Mapping[str, str] | None = None, ready: bool = True
) -> Iterator[RunningServer]:
    """The server started with ``args`` plus its ports on 127.0.0.1; waits until it is live
    (and ready, unless ``ready`` is False); stopped with SIGTERM at the end."""
    rest, grpc = free_port(), free_port()
    log = log_dir / f"ovms-{rest}.log"
    command = server_command(
        *args,
        *("--port", str(grpc), "--rest_port", str(rest)),
        *("--rest_bind_address", "127.0.0.1", "--grpc_bind_address", "127.0.0.1"),
    )
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
    server = RunningServer(process, f"127.0.0.1:{rest}", f"127.0.0.1:{grpc}", log)
    try:
        path = "/v2/health/ready" if ready else "/v2/health/live"
        server.wait_for(lambda: _answers(f"{server.url}{path}"), timeout=60)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _answers(url: str) -> bool:
    try:
        return get(url, timeout=1)[0] == 200
    except OSError:
        return False
