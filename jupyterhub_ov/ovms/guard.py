"""Pure: what the REST server refuses before kserve parses a request, and the version
routing kserve lacks.

- a body over `MAX_BODY` bytes (413), a JSON body nested deeper than `MAX_DEPTH` (400);
- ``/v2/models/{name}/versions/{v}[/ready|/infer]`` becomes ``/v2/models/{name}[...]``
  with the version set aside (`split_version`);
- only OVMS's paths are served (`served`): kserve's app has more (its v1 protocol, which is
  the TensorFlow Serving API's shape OVMS removed in 2026.3, and a model repository
  extension whose load/unload this server does not have).
"""

from __future__ import annotations

import re

from jupyterhub_ov.digits import is_number

#: OVMS's REST limit is 1 GB; a stand-in for tiny models needs far less
MAX_BODY = 64 * 1024 * 1024
#: an inference request's JSON needs a few levels (tensors may be nested by dimension)
MAX_DEPTH = 32
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(rb"[\[\]{}]")
_SERVED = re.compile(
    r"^/v2(/health/(live|ready)|/models/[^/]+(/versions/[^/]+)?(/ready|/infer)?)?/?$"
    r"|^/v1/config(/reload)?$|^/metrics$"
)
_VERSIONED = re.compile(r"^/v2/models/([^/]+)/versions/([^/]*)(/ready|/infer)?/?$")


def served(path: str) -> bool:
    """Whether ``path`` is one of OVMS's REST paths this server answers."""
    return _SERVED.match(path) is not None


def split_version(path: str) -> tuple[str, str | None]:
    """(the path without ``/versions/{v}``, the version); (path, None) when it has none."""
    match = _VERSIONED.match(path)
    if match is None:
        return path, None
    name, version, rest = match.groups()
    return f"/v2/models/{name}{rest or ''}", version


def json_depth(text: bytes, limit: int = MAX_DEPTH) -> int:
    """How deep the JSON ``text`` nests arrays and objects, counted up to ``limit + 1``
    (brackets inside strings do not count)."""
    if text.count(b"[") + text.count(b"{") <= limit:
        return 0  # cannot nest deeper than the brackets it has
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub(b"", text)):
        if bracket in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                break
        else:
            depth -= 1
    return deepest


def body_problem(body: bytes, json_length: str | None) -> str:
    """Why a request body is refused with 400 ("" when it is not): JSON nested too deep.
    A body is JSON (whatever its type says, as OVMS reads it) up to the binary extension's
    ``Inference-Header-Content-Length`` (``json_length``) when there is one."""
    head = body
    if json_length is not None:
        head = body[: int(json_length)] if is_number(json_length) else body
    if json_depth(head) > MAX_DEPTH:
        return f"the JSON body nests deeper than {MAX_DEPTH} levels"
    return ""
