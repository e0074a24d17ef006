"""From inside her own kernel, alice tries to log in as bob and as admin (the login form is
the shortest way to another user's server and files)."""

from __future__ import annotations

import textwrap

import pytest
import requests

from .conftest import Attack

pytestmark = [pytest.mark.e2e]

LOG_IN_AS = textwrap.dedent(
    """
    import http.cookiejar, json, urllib.parse, urllib.request
    out = {}
    for name, password in %(tries)r:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        opener.open(%(hub)r + "/hub/login").read()
        xsrf = next(c.value for c in jar if c.name == "_xsrf")
        form = urllib.parse.urlencode(
            {"username": name, "password": password, "_xsrf": xsrf}).encode()
        try:
            status = opener.open(%(hub)r + "/hub/login", data=form).status
        except urllib.error.HTTPError as e:
            status = e.code
        out[f"{name}:{password}"] = [status, sorted(c.name for c in jar)]
    print(json.dumps(out))
    """
)


def log_in(hub_url: str, name: str, password: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{hub_url}/hub/login", timeout=10)
    form = {"username": name, "password": password, "_xsrf": session.cookies["_xsrf"]}
    r = session.post(f"{hub_url}/hub/login", data=form, timeout=10, allow_redirects=False)
    assert r.status_code == 302, r.status_code
    return session


async def test_nobody_logs_in_under_a_name_someone_already_uses(attack: Attack):
    hub = attack.hub
    log_in(hub.url, "bob", "bobs-own-password")  # bob's first login sets his password
    tries = [
        ["bob", "jupyterhub-ov"],  # the old shared demo password
        ["bob", "bobs-own-passwor"],
        ["admin", "jupyterhub-ov-admin-demo-password"],  # the old documented admin password
        ["admin", "jupyterhub-ov"],
        ["admin", "bobs-own-password"],
    ]
    got = await attack.json("alice", LOG_IN_AS % {"tries": tries, "hub": hub.url})
    assert len(got) == len(tries)
    for attempt, (status, cookies) in got.items():
        assert status == 403, attempt
        assert not any(c.startswith("jupyterhub-hub-login") for c in cookies), attempt
    # the real owners still get in
    log_in(hub.url, "bob", "bobs-own-password")
    log_in(hub.url, "admin", hub.admin_password)
