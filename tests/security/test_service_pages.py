"""From inside her own kernel, alice probes the platform service (findings 4 and 6)."""

from __future__ import annotations

import textwrap

import pytest

from .conftest import Attack

pytestmark = [pytest.mark.e2e]

SERVICE = "/services/image-builder"

HEADERS = textwrap.dedent(
    """
    import json, os, urllib.request, urllib.error
    hub = %(hub)r
    token = os.environ["JUPYTERHUB_API_TOKEN"]
    out = {}
    for path in %(paths)r:
        request = urllib.request.Request(hub + path, headers={"Authorization": "token " + token})
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                status, headers = r.status, r.headers
        except urllib.error.HTTPError as e:
            status, headers = e.code, e.headers
        out[path] = [status, headers.get("Content-Security-Policy", ""),
                     headers.get("X-Frame-Options", ""), headers.get("X-Content-Type-Options", "")]
    print(json.dumps(out))
    """
)

#: headers that announce a 90 MB body and its first KiB (the hub's proxy forwards a request
#: once body bytes arrive): the answer must come before the rest is sent
LARGE = textwrap.dedent(
    """
    import http.client, json
    out = {}
    for path in %(paths)r:
        c = http.client.HTTPConnection(%(host)r, %(port)d, timeout=10)
        c.putrequest("POST", path)
        c.putheader("Content-Type", "application/json")
        c.putheader("Content-Length", str(90 * 1024 * 1024))
        c.endheaders(b"{" + b" " * 1023)
        try:
            out[path] = c.getresponse().status
        except Exception as e:
            out[path] = type(e).__name__
        c.close()
    print(json.dumps(out))
    """
)


async def test_every_service_answer_refuses_framing(attack: Attack):
    paths = [
        f"{SERVICE}/",
        f"{SERVICE}/api/builds",
        f"{SERVICE}/api/openapi.json",
        f"{SERVICE}/api/builds/no-such-build",
        f"{SERVICE}/static/panel.js",
    ]
    got = await attack.json("alice", HEADERS % {"hub": attack.hub.url, "paths": paths})
    for path, (status, csp, frame, sniff) in got.items():
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, (path, csp)
        assert frame == "DENY" and sniff == "nosniff", (path, status)


async def test_announced_large_bodies_are_refused_before_they_are_sent(attack: Attack):
    host, port = attack.hub.url.removeprefix("http://").split(":")
    paths = [
        f"{SERVICE}/api/builds",
        f"{SERVICE}/api/notebooks",
        f"{SERVICE}/api/notebooks/x-notebook/check",
        f"{SERVICE}/api/builds/{'a' * 32}/cancel",
        f"{SERVICE}/api/builds/{'a' * 32}/retry",
        f"{SERVICE}/api/no-such-route",
    ]
    got = await attack.json("alice", LARGE % {"paths": paths, "host": host, "port": int(port)})
    unknown = got.pop(f"{SERVICE}/api/no-such-route")
    assert unknown in (400, 403, 404)  # 400: the server's own backstop for any route
    assert set(got.values()) == {403}, got  # anonymous: refused before the body is read
