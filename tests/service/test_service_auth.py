"""Who may do what: JupyterHub scopes through API tokens and through browser (OAuth) sessions.

The shipped config gives every user `custom:image-builds:read` (role `user`) and the admins
`custom:image-builds:write` (role `image-build-admin`); the service lists both in its
`oauth_client_allowed_scopes`, so a browser session's token carries them too.
"""

from __future__ import annotations

import re

import pytest
import requests

from jupyterhub_ov.service.scopes import READ_SCOPE

from .svc import Builder, package_list

pytestmark = pytest.mark.e2e

USER_PASSWORD = "jupyterhub-ov"


@pytest.fixture(scope="module")
def ended(builder: Builder) -> str:
    """A build that failed (so retry and delete would be allowed for an admin)."""
    build_id = builder.submit(package_list("authz", "fail")).json()["id"]
    builder.finished(build_id)
    return build_id


WRITES = [
    ("POST", "/api/builds"),
    ("POST", "/api/builds/{id}/cancel"),
    ("POST", "/api/builds/{id}/retry"),
    ("DELETE", "/api/builds/{id}"),
]
READS = ["/api/builds", "/api/builds/{id}", "/api/builds/{id}/log"]


@pytest.mark.parametrize("method, path", WRITES)
def test_a_user_without_the_write_scope_gets_403_on_every_write(
    builder: Builder, ended: str, method: str, path: str
) -> None:
    before = builder.recorded()
    r = builder.api(method, path.format(id=ended), user="bob", json=package_list("bobs", "x"))
    assert r.status_code == 403, r.text
    assert r.json()["message"] == "The user 'bob' lacks the scope custom:image-builds:write."
    assert builder.recorded() == before
    assert builder.api("GET", f"/api/builds/{ended}").json()["phase"] == "Failure"


def test_a_user_reads_builds_logs_and_events(builder: Builder, ended: str) -> None:
    for path in READS:
        assert builder.api("GET", path.format(id=ended), user="bob").status_code == 200
    events = [e for e in builder.events(ended, user="bob") if "data" in e]
    assert events[-1]["data"]["phase"] == "Failure"


def test_scopes_not_admin_status_decide(builder: Builder, ended: str) -> None:
    """An admin's token limited to the read scope cannot write; no token cannot read."""
    builder.tokens["admin-readonly"] = builder.hub.new_token("admin", scopes=[READ_SCOPE])
    r = builder.api("POST", "/api/builds", user="admin-readonly", json=package_list("ro", "x"))
    assert r.status_code == 403 and "lacks the scope custom:image-builds:write" in r.text
    assert builder.api("GET", f"/api/builds/{ended}", user="admin-readonly").status_code == 200
    r = builder.api("GET", "/api/builds", user=None)
    assert r.status_code == 403 and "Authorization: token" in r.json()["message"]


def browser_session(builder: Builder, user: str, password: str) -> tuple[requests.Session, str]:
    """Log in at the hub and open the panel (the OAuth redirects); returns the page's XSRF."""
    session = requests.Session()
    login = session.get(f"{builder.hub.url}/hub/login")
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', login.text)
    assert xsrf, login.text
    form = {"username": user, "password": password, "_xsrf": xsrf.group(1)}
    r = session.post(f"{builder.hub.url}/hub/login", data=form)
    assert r.status_code == 200, r.text
    page = session.get(builder.url + "/")
    assert page.status_code == 200 and page.url == builder.url + "/", page.url
    token = re.search(r'data-xsrf="([^"]+)"', page.text)
    assert token, page.text
    return session, token.group(1)


def test_browser_sessions_carry_the_scopes_and_writes_need_the_xsrf_token(
    builder: Builder,
) -> None:
    session, xsrf = browser_session(builder, "admin", builder.hub.admin_password)
    page = session.get(builder.url + "/").text
    assert 'data-can-write="true"' in page and "New build" in page
    api = builder.url + "/api/builds"
    before = builder.recorded()

    r = session.post(api, json=package_list("cookie", "ovtiny"))
    assert r.status_code == 403 and "XSRF" in r.json()["message"]
    r = session.post(api, json=package_list("cookie", "ovtiny"), headers={"X-XSRFToken": "x"})
    assert r.status_code == 403
    assert builder.recorded() == before  # nothing ran

    r = session.post(api, json=package_list("cookie", "ovtiny"), headers={"X-XSRFToken": xsrf})
    assert r.status_code == 201, r.text
    assert r.json()["creator"] == "admin"
    builder.finished(r.json()["id"])
    r = session.delete(f"{api}/{r.json()['id']}")
    assert r.status_code == 403  # no token: refused


def test_a_users_browser_session_reads_but_cannot_write(builder: Builder) -> None:
    session, xsrf = browser_session(builder, "carl", USER_PASSWORD)
    page = session.get(builder.url + "/").text
    assert 'data-can-write="false"' in page and "New build" not in page
    headers = {"X-XSRFToken": xsrf, "Sec-Fetch-Mode": "cors"}  # as the page's fetch() sends
    r = session.get(builder.url + "/api/builds", headers=headers)
    assert r.status_code == 200 and "builds" in r.json()
    r = session.post(builder.url + "/api/builds", json=package_list("carl", "x"), headers=headers)
    assert r.status_code == 403 and "carl" in r.json()["message"]


def test_the_service_is_in_the_services_menu(builder: Builder) -> None:
    session, _ = browser_session(builder, "dora", USER_PASSWORD)
    home = session.get(f"{builder.hub.url}/hub/home").text
    assert 'href="/services/image-builder/"' in home
