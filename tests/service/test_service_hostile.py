"""The build service against hostile clients, through a real hub and its proxy: security
headers on every answer, bodies refused from their headers, hostile JSON, malformed ids, and
script requests that must not start OAuth."""

from __future__ import annotations

import http.client
import json
import re
import socket
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from jupyterhub_ov.builds.model.spec import InvalidBuildRequest, SpecPolicy
from jupyterhub_ov.service.features.builds.openapi import BUILD_ID
from jupyterhub_ov.service.features.notebooks import model as openvino
from jupyterhub_ov.service.features.notebooks.openapi import NOTEBOOK_NAME
from jupyterhub_ov.service.scopes import MODEL_WRITE_SCOPE, READ_SCOPE, WRITE_SCOPE
from jupyterhub_ov.service.web.jsonbody import MAX_DEPTH

from .openapi_check import DOC
from .svc import PREFIX, Builder, package_list
from .test_service_auth import browser_session

pytestmark = pytest.mark.e2e

UNKNOWN = "0" * 32  # a well-formed build id no build has
NOTEBOOK = "nothere"  # a well-formed notebook name no notebook has
#: every operation of the API that may change something (the routes that take a body)
WRITES = [
    (method.upper(), path)
    for path, item in DOC["paths"].items()
    for method in item
    if method in ("post", "put", "patch", "delete")
]


def concrete(path: str) -> str:
    return path.replace("{id}", NOTEBOOK if path.startswith("/api/notebooks/") else UNKNOWN)


def assert_secure_headers(r: requests.Response | http.client.HTTPResponse, what: str) -> None:
    csp = r.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, (what, csp)
    assert "unsafe-inline" not in csp, (what, csp)
    assert r.headers.get("X-Frame-Options") == "DENY", what
    assert r.headers.get("X-Content-Type-Options") == "nosniff", what


def test_write_routes_are_the_documented_ones() -> None:
    assert len(WRITES) == 11 and ("POST", "/api/notebooks/{id}/check") in WRITES
    assert {("POST", "/api/modelservers"), ("DELETE", "/api/modelservers/{id}")} <= set(WRITES)
    assert {
        ("PUT", "/api/modelservers/{id}/scale"),
        ("POST", "/api/modelservers/{id}/scale"),
    } <= set(WRITES)


# -- headers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [(m.upper(), p) for p, item in DOC["paths"].items() for m in item if m != "parameters"],
)
@pytest.mark.parametrize("user", ["admin", None])
def test_every_api_answer_carries_the_headers(
    builder: Builder, method: str, path: str, user: str | None
) -> None:
    """Every documented operation, authenticated (200/404/422 answers) and anonymous (403)."""
    before = builder.recorded()
    kw: dict = {"data": b"{}", "headers": {"Content-Type": "application/json"}}
    if method == "GET":
        kw = {}
    r = builder.api(method, concrete(path), user=user, check=False, timeout=10, **kw)
    assert r.status_code < 500, r.text
    assert_secure_headers(r, f"{method} {path} as {user}: {r.status_code}")
    assert builder.recorded() == before


def test_pages_static_files_errors_and_redirects_carry_the_headers(builder: Builder) -> None:
    session, _ = browser_session(builder, "admin", builder.hub.admin_password)
    anonymous = requests.Session()
    cases = [
        (session, "/", 200),
        (session, f"/builds/{UNKNOWN}", 200),  # the page renders; its script reports the 404
        (session, "/static/panel.js", 200),
        (session, "/static/nothing.js", 404),
        (session, "/nothing", 404),
        (session, "/builds/not-an-id", 404),
        (session, "/api/nothing", 404),
        (anonymous, "/", 302),  # to log in
        (anonymous, "/oauth_callback?code=x&state=y", 403),  # state mismatch
    ]
    for client, path, status in cases:
        r = client.get(builder.url + path, allow_redirects=False, timeout=10)
        assert r.status_code == status, (path, r.status_code, r.text[:300])
        assert_secure_headers(r, path)
    r = session.get(builder.url, allow_redirects=False, timeout=10)  # no trailing slash
    assert r.status_code == 301 and r.headers["Location"] == PREFIX
    assert_secure_headers(r, "redirect to the prefix")


def test_the_panel_has_no_inline_scripts(builder: Builder) -> None:
    """script-src 'self' allows no inline code: every script is a file of the service."""
    session, _ = browser_session(builder, "admin", builder.hub.admin_password)
    for path in ("/", f"/builds/{UNKNOWN}"):
        page = session.get(builder.url + path, timeout=10).text
        scripts = page.split("<script")[1:]
        assert scripts and all(s.lstrip().startswith(f'src="{PREFIX}static/') for s in scripts)
        assert " onclick=" not in page and " onload=" not in page and "javascript:" not in page


# -- bodies ---------------------------------------------------------------------------------


def first_answer(builder: Builder, method: str, path: str, headers: dict[str, str]) -> bytes:
    """Send the headers declaring 90 MB and 1 KiB of body; the whole answer, or fail."""
    url = urlsplit(builder.url)
    lines = [f"{method} {url.path}{path} HTTP/1.1", f"Host: {url.netloc}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines += ["Content-Type: application/json", f"Content-Length: {90 * 1024 * 1024}", "", ""]
    with socket.create_connection((url.hostname, url.port), timeout=10) as s:
        s.sendall("\r\n".join(lines).encode() + b"[" * 1024)
        answer = b""
        while not complete(answer):
            chunk = s.recv(4096)
            assert chunk, answer
            answer += chunk
    return answer


def complete(answer: bytes) -> bool:
    head, found, body = answer.partition(b"\r\n\r\n")
    if not found:
        return False
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    return bool(length) and len(body) >= int(length.group(1))  # type: ignore[union-attr]


@pytest.mark.parametrize("method, path", WRITES)
@pytest.mark.parametrize(
    "caller, status, message",
    [
        ("anonymous", 403, "Not authenticated"),
        ("reader", 403, "lacks the scope {write}"),
        ("admin", 413, "larger than 65536 bytes"),
    ],
)
def test_a_large_body_is_answered_from_its_headers(
    builder: Builder, method: str, path: str, caller: str, status: int, message: str
) -> None:
    """Who calls first, then the declared length: the answer comes with 1 KiB of 90 MB sent."""
    if caller == "reader":
        builder.tokens.setdefault("reader", builder.hub.new_token("admin", scopes=[READ_SCOPE]))
    headers = {} if caller == "anonymous" else {"Authorization": f"token {builder.token(caller)}"}
    started = time.monotonic()
    answer = first_answer(builder, method, concrete(path), headers)
    assert answer.startswith(f"HTTP/1.1 {status}".encode()), answer[:300]
    assert time.monotonic() - started < 5
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"x-frame-options: deny" in head.lower()
    write = MODEL_WRITE_SCOPE if path.startswith("/api/modelservers") else WRITE_SCOPE
    assert message.format(write=write).encode() in body, body


def service_rss(builder: Builder) -> int:
    """The service's resident memory in bytes, from /proc."""
    status = Path(f"/proc/{builder.service_pid()}/status").read_text()
    kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(kib) * 1024


def test_anonymous_90mb_bodies_do_not_grow_the_service(builder: Builder) -> None:
    """Finding 6: three anonymous 90 MB bodies took the service from 93 MB to 422 MB. Sent in
    full now, they are answered and dropped as they arrive."""
    big = b"[" * (90 * 1024 * 1024)
    baseline = service_rss(builder)
    for path in (
        "/api/notebooks",
        f"/api/notebooks/{NOTEBOOK}/check",
        f"/api/builds/{UNKNOWN}/cancel",
    ):
        started = time.monotonic()
        r = requests.post(
            builder.url + path, data=big, headers={"Content-Type": "application/json"}, timeout=60
        )
        assert r.status_code == 403 and "Not authenticated" in r.json()["message"], r.text[:300]
        assert time.monotonic() - started < 20
    grown = service_rss(builder) - baseline
    assert grown < 20 * 1024 * 1024, f"the service grew by {grown / 2**20:.0f} MiB"


def test_a_chunked_body_is_cut_off_at_the_limit(builder: Builder) -> None:
    """No Content-Length: counted while it streams, 413 once past max_body_size."""

    def chunks():
        for _ in range(200):  # 200 x 8 KiB, well past 64 KiB
            yield b" " * 8192

    for path in ("/api/builds", "/api/notebooks", f"/api/builds/{UNKNOWN}/cancel"):
        r = builder.api(
            "POST", path, data=chunks(), headers={"Content-Type": "application/json"}, timeout=20
        )
        assert r.status_code == 413 and "65536 bytes" in r.json()["message"], (path, r.text)


def nested(depth: int) -> bytes:
    return b'{"metadata": ' + b"[" * depth + b"]" * depth + b"}"


HOSTILE_JSON = [
    ("deep", nested(30_000), "nested 30001 levels deep"),  # 60 kB: under the limit
    ("just too deep", nested(MAX_DEPTH), f"more than {MAX_DEPTH}"),
    ("long integer", b'{"spec": {"x": ' + b"9" * 5000 + b"}}", "more than 4300 digits"),
    ("huge float", b'{"spec": {"x": 1e999}}', "too large"),
    ("NaN", b'{"spec": {"x": NaN}}', "NaN is not a JSON number"),
    ("duplicate keys", b'{"metadata": {}, "metadata": {}}', "duplicate keys ['metadata']"),
    ("not UTF-8", b'{"metadata": "\xff"}', "not UTF-8"),
    ("truncated", b'{"metadata": {', "not valid JSON"),
]


@pytest.mark.parametrize("method, path", WRITES)
@pytest.mark.parametrize(
    "raw, message", [h[1:] for h in HOSTILE_JSON], ids=[h[0] for h in HOSTILE_JSON]
)
def test_hostile_json_is_400_with_a_reason_on_every_write(
    builder: Builder, method: str, path: str, raw: bytes, message: str
) -> None:
    before = builder.recorded()
    r = builder.api(method, concrete(path), data=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text[:300]
    assert message in r.json()["message"], r.json()
    assert builder.recorded() == before


#: JSON bodies of the wrong shape for every write (the schema agreement test reads them too)
WRONG_TYPES = [b"[]", b'"x"', b"1", b"null", b'{"a": 1}']


@pytest.mark.parametrize("method, path", WRITES)
@pytest.mark.parametrize("raw", WRONG_TYPES)
def test_wrong_top_level_types_are_422(
    builder: Builder, method: str, path: str, raw: bytes
) -> None:
    takes_body = path in ("/api/builds", "/api/notebooks")
    expected = "unknown keys" if raw == b'{"a": 1}' and takes_body else ""
    r = builder.api(method, concrete(path), data=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text[:300]
    problems = r.json()["problems"]
    assert problems and all(isinstance(p, str) for p in problems)
    assert expected in " ".join(problems)


def test_the_service_limit_also_bounds_the_http_server(builder: Builder) -> None:
    """A GET declaring more than max_body_size is refused too (nothing route-specific)."""
    r = builder.api("GET", "/api/builds", data=b"x" * 70_000, check=False)
    assert r.status_code == 413 and "65536 bytes" in r.json()["message"]


# -- ids ------------------------------------------------------------------------------------


def raw_get(builder: Builder, path: str, token: str) -> tuple[int, Any, bytes]:
    """GET ``path`` exactly as written (requests and browsers normalise ``..``)."""
    url = urlsplit(builder.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        connection.request("GET", url.path + path, headers={"Authorization": f"token {token}"})
        r = connection.getresponse()
        return r.status, r.headers, r.read()
    finally:
        connection.close()


BAD_IDS = ["..", "a%2Fb", "%2e%2e", "%2e%2e%2f%2e%2e", "x/y", "%C3%A9", "%00", "A" * 32, "0" * 41]


@pytest.mark.parametrize("bad", BAD_IDS)
@pytest.mark.parametrize(
    "template", ["/api/builds/{}", "/api/builds/{}/log", "/api/notebooks/{}", "/builds/{}"]
)
def test_malformed_ids_are_no_route(builder: Builder, template: str, bad: str) -> None:
    status, headers, body = raw_get(builder, template.format(bad), builder.token("admin"))
    if status == 200:  # the proxy resolved ``..``: /builds/.. is the list, not a build
        assert template == "/builds/{}" and b'id="builds-section"' in body, body[:300]
    else:
        assert status in (400, 404), (status, body[:300])
    if template.startswith("/api/") and status == 404:  # never a handler's "No build ..."
        assert json.loads(body)["message"].startswith("No such API path"), body
    assert headers.get("X-Frame-Options") == "DENY"


NAMES = ["v2024", "a", "a.b-c", "a..b", "9", "-a", "a-", ".a", "A", "a" * 40, "a" * 41, "é", "a/b"]


@pytest.mark.parametrize("name", NAMES)
def test_the_notebook_name_pattern_is_what_the_controller_accepts(name: str) -> None:
    """The route admits exactly the names `openvino.parse_params` accepts."""
    try:
        openvino.parse_params(name, {}, policy=SpecPolicy())
        accepted = True
    except InvalidBuildRequest as e:
        accepted = not any(p.startswith("name ") for p in e.problems)
    assert bool(re.fullmatch(NOTEBOOK_NAME, name)) == accepted


def test_a_real_build_id_is_routed(builder: Builder) -> None:
    """The build pattern is the manager's id format (``uuid4().hex``)."""
    r = builder.submit(package_list("idform", "ovtiny"))
    build_id = r.json()["id"]
    assert re.fullmatch(BUILD_ID, build_id)
    for path in ("", "/log"):
        assert builder.api("GET", f"/api/builds/{build_id}{path}").status_code == 200
    builder.finished(build_id)


# -- script requests never start OAuth ------------------------------------------------------

#: what a page's fetch() sends (Chromium), with no XSRF token
FETCH = {"Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty", "Accept": "*/*"}


def hub_tokens(builder: Builder, user: str) -> int:
    r = builder.hub.api("GET", f"/users/{user}/tokens")
    r.raise_for_status()
    return len(r.json()["api_tokens"])


@pytest.mark.parametrize(
    "path, headers",
    [
        ("/", FETCH),
        (f"/builds/{UNKNOWN}", FETCH),
        (f"/api/builds/{UNKNOWN}/events", {**FETCH, "Accept": "text/event-stream"}),
    ],
)
def test_a_fetch_without_the_xsrf_token_gets_403_and_mints_no_token(
    builder: Builder, path: str, headers: dict[str, str]
) -> None:
    """Finding 7: a logged-in browser's fetch() of a page without the XSRF cookie and token
    is not authenticated; it used to be sent to log in, came back from the OAuth exchange
    (a new hub token) still without the token, and went round again."""
    session, _ = browser_session(builder, "admin", builder.hub.admin_password)
    for cookie in [c for c in session.cookies if c.name == "_xsrf"]:
        session.cookies.clear(cookie.domain, cookie.path, cookie.name)
    before = hub_tokens(builder, "admin")
    r = session.get(builder.url + path, headers=headers, timeout=30)
    assert r.status_code == 403 and r.history == [], [h.headers.get("Location") for h in r.history]
    assert r.headers["Content-Type"].startswith("application/json")
    assert "Not authenticated" in r.json()["message"]
    assert hub_tokens(builder, "admin") == before


@pytest.mark.parametrize(
    "headers",
    [
        FETCH,
        {"X-Requested-With": "XMLHttpRequest"},
        {"Accept": "application/json"},
        {"Accept": "text/event-stream"},
        {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "iframe"},
    ],
)
def test_script_and_frame_requests_without_a_session_get_403_json(
    builder: Builder, headers: dict[str, str]
) -> None:
    r = requests.get(builder.url + "/", headers=headers, allow_redirects=False, timeout=10)
    assert r.status_code == 403 and "Location" not in r.headers
    assert "Not authenticated" in r.json()["message"]
    assert_secure_headers(r, str(headers))


def test_a_navigation_is_still_sent_to_log_in(builder: Builder) -> None:
    r = requests.get(
        builder.url + "/",
        headers={"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 302 and "/hub/api/oauth2/authorize" in r.headers["Location"]


def test_the_oauth_callback_completes_only_for_a_navigation(builder: Builder) -> None:
    """A script that followed the redirects to a valid callback mints no token; the same
    callback as a navigation does (so the count below can tell)."""
    session, _ = browser_session(builder, "admin", builder.hub.admin_password)
    for cookie in [c for c in session.cookies if c.name == "service-image-builder"]:
        session.cookies.clear(cookie.domain, cookie.path, cookie.name)
    start = session.get(builder.url + "/", allow_redirects=False, timeout=10)
    assert start.status_code == 302
    authorize = session.get(builder.hub.url + start.headers["Location"], allow_redirects=False)
    assert authorize.status_code == 302 and "/oauth_callback?code=" in authorize.headers["Location"]
    callback = builder.hub.url + authorize.headers["Location"]
    before = hub_tokens(builder, "admin")
    r = session.get(callback, headers=FETCH, allow_redirects=False, timeout=10)
    assert r.status_code == 403 and "Location" not in r.headers
    assert_secure_headers(r, "the OAuth callback")
    assert hub_tokens(builder, "admin") == before
    r = session.get(callback, allow_redirects=False, timeout=10)
    assert r.status_code == 302 and r.headers["Location"] == PREFIX
    assert hub_tokens(builder, "admin") == before + 1
