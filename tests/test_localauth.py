"""The trial authenticator: first use sets a name's password, admins need the admin password,
and its bcrypt and dbm work never blocks the hub's event loop."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

from traitlets.config import Config

from jupyterhub_ov.localauth import TrialAuthenticator


def authenticator(tmp_path, admin_password: str = "a" * 32) -> TrialAuthenticator:
    c = Config()
    c.TrialAuthenticator.dbm_path = str(tmp_path / "passwords.dbm")
    c.TrialAuthenticator.admin_password = admin_password
    c.Authenticator.admin_users = {"admin"}
    return TrialAuthenticator(config=c)


async def login(auth: TrialAuthenticator, name: str, password: str) -> str | None:
    return await auth.authenticate(SimpleNamespace(), {"username": name, "password": password})


async def test_a_names_first_login_sets_its_password(tmp_path):
    auth = authenticator(tmp_path)
    assert await login(auth, "bob", "bobs-secret") == "bob"
    assert await login(auth, "bob", "bobs-secret") == "bob"
    assert await login(auth, "bob", "jupyterhub-ov") is None  # alice, trying bob's name
    assert await login(auth, "Bob", "anything-else") is None  # the same name, normalised
    handler = SimpleNamespace()
    assert await auth.authenticate(handler, {"username": "eve", "password": "short"}) is None
    assert "Password too short" in handler.custom_login_error
    assert await login(auth, "eve", "long-enough") == "eve"  # nothing was stored before


async def test_a_password_longer_than_bcrypt_takes_is_refused_with_a_message(tmp_path):
    auth = authenticator(tmp_path)
    handler, long = SimpleNamespace(), "\u00e9" * 37  # 37 characters, 74 bytes
    assert await auth.authenticate(handler, {"username": "dan", "password": long}) is None
    assert "at most 72 bytes" in handler.custom_login_error
    assert await login(auth, "dan", "x" * 72) == "dan"
    assert await login(auth, "dan", "x" * 72 + "y") is None
    assert auth.reset_password("dan", long).startswith("Password too long")
    assert await login(auth, "dan", "x" * 72) == "dan"  # unchanged


async def test_a_form_without_a_name_or_a_password_is_refused(tmp_path):
    auth = authenticator(tmp_path)
    assert await auth.authenticate(SimpleNamespace(), {"password": "long-enough"}) is None
    handler = SimpleNamespace()
    assert await auth.authenticate(handler, {"username": "erin"}) is None
    assert "Password too short" in handler.custom_login_error


async def test_admins_log_in_with_the_admin_password_only(tmp_path):
    auth = authenticator(tmp_path, admin_password="the-admin-password-of-this-hub!!")
    assert await login(auth, "admin", "claimed-first") is None  # never claimed by first use
    assert await login(auth, "admin", "the-admin-password-of-this-hub!!") == "admin"
    assert await login(authenticator(tmp_path / "x", admin_password=""), "admin", "") is None


async def test_racing_first_logins_under_one_name_let_exactly_one_in(tmp_path):
    auth = authenticator(tmp_path)
    results = await asyncio.gather(*(login(auth, "carol", f"password-{i}") for i in range(4)))
    winners = [i for i, r in enumerate(results) if r == "carol"]
    assert len(winners) == 1
    assert await login(auth, "carol", f"password-{winners[0]}") == "carol"


async def test_logins_never_stall_the_event_loop(tmp_path):
    auth = authenticator(tmp_path)
    gaps: list[float] = []

    async def tick() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    start = time.monotonic()
    for i in range(3):
        await login(auth, f"user{i}", "a-password")  # bcrypt: a fraction of a second each
    took = time.monotonic() - start
    ticker.cancel()
    assert took > 0.1  # bcrypt really ran
    assert max(gaps) < 0.1, max(gaps)
