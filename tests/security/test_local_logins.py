"""From inside her own kernel, alice tries to log in as bob and as admin (the login form is
the shortest way to another user's server and files)."""

from __future__ import annotations

import textwrap
from urllib.parse import urlencode

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
        # longer than bcrypt's 72 bytes: bcrypt 5 raises, and the hub answered 500
        ["bob", "b" * 100],
        ["carol", "c" * 100],  # a new name's first login
    ]
    got = await attack.json("alice", LOG_IN_AS % {"tries": tries, "hub": hub.url})
    assert len(got) == len(tries)
    for attempt, (status, cookies) in got.items():
        assert status == 403, attempt
        assert not any(c.startswith("jupyterhub-hub-login") for c in cookies), attempt
    # the real owners still get in
    log_in(hub.url, "bob", "bobs-own-password")
    log_in(hub.url, "admin", hub.admin_password)


@pytest.mark.parametrize(
    "body",
    [{"password": "a-password-long-enough"}, b"\x07\x80#\xe0", b""],
    ids=["no name field", "raw bytes", "empty"],
)
def test_a_login_form_without_a_name_is_refused_not_a_500(attack: Attack, body) -> None:
    """Found by the reliability campaign's form fuzzing: JupyterHub's login handler read the
    missing name for its error message (KeyError: a 500)."""
    with requests.Session() as session:
        session.get(f"{attack.hub.url}/hub/login", timeout=10)
        xsrf = session.cookies["_xsrf"]
        if isinstance(body, dict):
            data = urlencode({**body, "_xsrf": xsrf}).encode()
        else:
            data = body + f"&_xsrf={xsrf}".encode()
        r = session.post(
            f"{attack.hub.url}/hub/login",
            data=data,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=10,
            allow_redirects=False,
        )
    assert r.status_code == 403, r.status_code
    assert "Invalid username or password" in r.text
