"""Per-model readiness of an OpenVINO Model Server, read from its ``GET /v1/config``.

`model_states` is pure: the document (``{"<model>": {"model_version_status": [{"version",
"state", "status": {"error_code", "error_message"}}]}}``) as one `ModelState` per model —
ready when a version is ``AVAILABLE``, with the errors of the others (a path that cannot be
read names the path and the S3 error there); one that is not ready and has no error is
still loading. `read_model_states` fetches it (tornado's
AsyncHTTPClient, a timeout, a bounded body) and raises `ReadinessError` with a clear
message when the server cannot be asked.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

#: a /v1/config document of even hundreds of models is far smaller
MAX_BODY = 1024 * 1024
AVAILABLE = "AVAILABLE"


class ReadinessError(Exception):
    """The server's /v1/config could not be read (unreachable, an error, not the document)."""


@dataclass(frozen=True)
class ModelState:
    """One model: whether it serves, its available versions, why the others do not."""

    name: str
    ready: bool
    versions: tuple[str, ...] = ()
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name, "ready": self.ready}
        body["versions"] = list(self.versions)
        if self.message:
            body["message"] = self.message
        return body


def _version_problem(entry: Mapping[str, Any]) -> str:
    status = entry.get("status")
    if not isinstance(status, Mapping):
        status = {}
    code = str(status.get("error_code") or "")
    message = str(status.get("error_message") or "")
    if code in ("", "OK") and not message:
        return ""
    version = str(entry.get("version", "?"))
    where = "the model path" if version == "0" else f"version {version}"
    return f"{where}: {code}: {message}" if message else f"{where}: {code}"


def model_states(doc: Any) -> list[ModelState]:
    """The models of a /v1/config document, sorted by name; ValueError when it is not one."""
    if not isinstance(doc, Mapping):
        raise ValueError("the /v1/config answer is not a JSON object")
    states = []
    for name, body in sorted(doc.items()):
        entries = body.get("model_version_status") if isinstance(body, Mapping) else None
        if not isinstance(entries, list):
            raise ValueError(f"model {name} in /v1/config has no model_version_status list")
        entries = [e for e in entries if isinstance(e, Mapping)]
        available = sorted(
            (str(e.get("version")) for e in entries if e.get("state") == AVAILABLE),
            key=lambda v: (len(v), v),
        )
        problems = [p for p in map(_version_problem, entries) if p]
        states.append(ModelState(str(name), bool(available), tuple(available), "; ".join(problems)))
    return states


async def read_model_states(url: str, timeout: float = 5) -> list[ModelState]:
    """The model states of the server whose REST base URL is ``url`` (``http://host:port``)."""
    target = url.rstrip("/") + "/v1/config"
    chunks: list[bytes] = []
    size = 0

    def collect(chunk: bytes) -> None:  # memory stays bounded: the rest is dropped
        nonlocal size
        size += len(chunk)
        if size <= MAX_BODY:
            chunks.append(chunk)

    request = HTTPRequest(
        target,
        connect_timeout=timeout,
        request_timeout=timeout,
        streaming_callback=collect,
        follow_redirects=False,
    )
    try:
        await AsyncHTTPClient().fetch(request)
    except HTTPClientError as e:
        if e.code == 599:  # tornado's own: a timeout, or the connection failed
            raise ReadinessError(f"{target}: {e.message}") from None
        raise ReadinessError(f"{target} answered {e.code}") from None
    except OSError as e:
        raise ReadinessError(f"{target} cannot be reached: {e}") from None
    if size > MAX_BODY:
        raise ReadinessError(f"{target}: the answer is over {MAX_BODY} bytes")
    try:
        return model_states(json.loads(b"".join(chunks)))
    except (ValueError, RecursionError) as e:
        raise ReadinessError(f"{target}: {e}") from None
