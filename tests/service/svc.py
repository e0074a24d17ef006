"""The build service under a real hub, from the shipped config, with the recording backend."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import requests

from ..builds.service_backend import recorded
from ..hubproc import Hub, running_hub
from ..util import REPO
from .openapi_check import check_response

SERVICE = "image-builder"
PREFIX = f"/services/{SERVICE}/"


BACKEND = "tests.builds.service_backend.RecordingBackend"


def builder_config(
    record_dir: Path,
    *,
    keepalive: float = 0.5,
    step_delay: float = 0.2,
    log_level: str = "DEBUG",
) -> str:
    """Extra hub config: options of the recording backend (chosen through the environment,
    see `builder_env`) appended to the shipped service's command."""
    ours = [
        f"--RecordingBackend.record_dir={record_dir}",
        f"--RecordingBackend.step_delay={step_delay}",
        f"--PlatformService.keepalive_interval={keepalive}",
        # OpenVINO notebooks from local repositories, checked every 0.2 s per "minute"
        "--PlatformService.git_schemes=https",
        "--PlatformService.git_schemes=file",
        "--NotebookController.period_unit=0.2",
        f"--log-level={log_level}",
    ]
    return textwrap.dedent(
        f"""
        for _service in c.JupyterHub.services:
            if _service["name"] == {SERVICE!r}:
                _service["command"] = _service["command"] + {ours!r}
        """
    )


#: the shipped config runs the service with this backend; the hub (which checks that the
#: backend is importable) and the service (which inherits PYTHONPATH) find the tests package
builder_env = {"JUPYTERHUB_OV_BUILDER_BACKEND": BACKEND, "PYTHONPATH": str(REPO)}


@dataclass
class Builder:
    hub: Hub
    record: Path
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.hub.url + PREFIX.rstrip("/")

    def token(self, user: str) -> str:
        if user not in self.tokens:
            self.tokens[user] = self.hub.new_token(user)
        return self.tokens[user]

    def api(
        self, method: str, path: str, user: str | None = "admin", check: bool = True, **kw: Any
    ) -> requests.Response:
        """``path`` below the prefix (``/api/builds``); answers checked against the OpenAPI doc."""
        headers = kw.pop("headers", {})
        if user:
            headers["Authorization"] = f"token {self.token(user)}"
        kw.setdefault("timeout", 30)
        r = requests.request(method, self.url + path, headers=headers, **kw)
        if check and not kw.get("stream"):
            check_response(method, path.split("?")[0], r)
        return r

    def submit(self, body: dict, user: str = "admin") -> requests.Response:
        return self.api("POST", "/api/builds", user, json=body)

    def events(self, build_id: str, user: str = "admin", **headers: str) -> Iterator[dict]:
        """Parsed server-sent events (comments as ``{"comment": ...}``) until the stream ends."""
        headers = {"Authorization": f"token {self.token(user)}", **headers}
        with requests.get(
            f"{self.url}/api/builds/{build_id}/events", headers=headers, stream=True, timeout=30
        ) as r:
            assert r.status_code == 200, r.text
            assert r.headers["Content-Type"].startswith("text/event-stream")
            yield from parse_sse(str(line) for line in r.iter_lines(decode_unicode=True))

    def wait_phase(self, build_id: str, *phases: str, timeout: float = 20) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            build = self.api("GET", f"/api/builds/{build_id}").json()
            if build["phase"] in phases:
                return build
            assert time.monotonic() < deadline, f"still {build['phase']}, wanted {phases}"
            time.sleep(0.1)

    def finished(self, build_id: str) -> dict:
        for _ in self.events(build_id):
            pass
        return self.api("GET", f"/api/builds/{build_id}").json()

    def release(self, name: str) -> None:
        (self.record / f"release-{name}-notebook").touch()

    def recorded(self) -> list[dict[str, str]]:
        return recorded(self.record)

    def wait_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(self.url + "/api/openapi.json", timeout=5).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):  # bound, not yet serving
                pass
            assert time.monotonic() < deadline, f"service not up:\n{self.hub.log()[-3000:]}"
            time.sleep(0.2)

    def service_pid(self) -> int:
        """The service process: the hub's child running ``jupyterhub_ov.service``."""
        for child in psutil.Process(self.hub.proc.pid).children():
            with contextlib.suppress(psutil.NoSuchProcess):
                if "jupyterhub_ov.service" in child.cmdline():
                    return child.pid
        raise AssertionError("no build service process")

    def kill_service(self) -> int:
        pid = self.service_pid()
        os.kill(pid, signal.SIGKILL)
        return pid


def parse_sse(lines: Iterator[str]) -> Iterator[dict]:
    event: dict[str, Any] = {}
    for line in lines:
        if line == "":
            if event:
                yield event
            event = {}
        elif line.startswith(":"):
            yield {"comment": line[1:].strip()}
        else:
            key, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if key == "data":
                event["data"] = json.loads(value)
            elif key in ("id", "event", "retry"):
                event[key] = value


@contextmanager
def builder_hub(directory: Path, **options: Any) -> Iterator[Builder]:
    record = directory / "record"
    record.mkdir(parents=True, exist_ok=True)
    with running_hub(directory, builder_config(record, **options), env=builder_env) as hub:
        builder = Builder(hub, record)
        builder.wait_up()
        yield builder


def package_list(name: str, *packages: str, **spec: Any) -> dict:
    return {
        "metadata": {
            "name": name,
            "annotations": {
                "opendatahub.io/notebook-image-name": f"{name.title()} image",
                "opendatahub.io/notebook-image-desc": "for tests",
            },
        },
        "spec": {"buildType": "PackageList", "packageVersions": list(packages), **spec},
    }
