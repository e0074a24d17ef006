"""The local mode's trial authenticator: each name gets its own password on first use.

JupyterHub's shared-password authenticator lets anyone who knows the one user password log in
under any name, so on a shared trial hub every user could become every other user (from a
notebook, with one request to the login form). This is jupyterhub-firstuseauthenticator (The
Littlest JupyterHub's default): the first login under a name sets that name's password
(bcrypt-hashed in a dbm file), every later login must match it. Two changes:

- the admins (``Authenticator.admin_users``) log in with ``admin_password`` only, so nobody can
  claim an admin name by logging in first;
- bcrypt and the dbm file, blocking in the original, run in a thread, one login at a time;
- a form without a name or password, or a password longer than bcrypt's 72 bytes, is refused
  with a message (bcrypt 5 raises on longer ones; the original and JupyterHub's login handler
  answered those with 500).

A name an admin created but nobody has logged in under yet is claimed by its first login, as
in the original: on a trial hub, users create themselves by logging in.
"""

from __future__ import annotations

import asyncio
import hmac
from typing import Any

from firstuseauthenticator import FirstUseAuthenticator
from firstuseauthenticator.firstuseauthenticator import CustomLoginHandler, ResetPasswordHandler
from tornado import web
from traitlets import Unicode

#: bcrypt hashes at most this many bytes of a password; bcrypt 5 refuses longer ones
MAX_PASSWORD_BYTES = 72
TOO_LONG = f"Password too long! Please choose one of at most {MAX_PASSWORD_BYTES} bytes."


class TrialLoginHandler(CustomLoginHandler):
    """The login form. One without a name field is a failed login: JupyterHub's own handler
    answered it with a 500 (it reads the missing name for its error message)."""

    async def post(self) -> None:
        if "username" not in self.request.body_arguments:
            self.set_status(403)
            self.finish(await self._render(login_error="Invalid username or password"))
            return
        await super().post()


class AsyncResetPasswordHandler(ResetPasswordHandler):
    """The change-password page with its bcrypt off the event loop; admins are refused."""

    @web.authenticated
    async def post(self) -> None:
        self._register_template_path()
        user = self.current_user
        new_password = self.get_body_argument("password", strip=False)
        if user.name in self.authenticator.admin_users:
            msg = "An admin's password is the hub's admin password: it cannot be changed here."
        else:
            async with self.authenticator.passwords_lock:
                msg = await asyncio.to_thread(
                    self.authenticator.reset_password, user.name, new_password
                )
        alert = "success" if "success" in msg else "danger"
        html = await self.render_template(
            "reset.html", result=True, alert=alert, result_message=msg
        )
        self.finish(html)


class TrialAuthenticator(FirstUseAuthenticator):
    """The local trial's authenticator (the shipped config's
    `c.JupyterHub.authenticator_class`): jupyterhub-firstuseauthenticator's
    `FirstUseAuthenticator`, whose options apply (`dbm_path`, `min_password_length` (7),
    `create_users`). The first login under a name sets that name's password
    (bcrypt, in the dbm file; the shipped config keeps it in `data/hub/`), later logins must
    match it, and users change it at `/hub/auth/change-password`. Passwords are at most 72
    bytes (UTF-8), bcrypt's limit. Admins log in only with `admin_password`. bcrypt and the
    dbm file run in a thread, one login at a time.
    """

    admin_password = Unicode(
        "",
        config=True,
        help="""The password of every user in Authenticator.admin_users (no other password
        logs them in; empty: admins cannot log in). The shipped config makes a random one on
        the first start, kept in <data>/hub/admin-password.""",
    )

    _lock: asyncio.Lock | None = None

    @property
    def passwords_lock(self) -> asyncio.Lock:
        """One reader or writer of the dbm file at a time (made on the hub's own loop)."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def authenticate(self, handler: Any, data: dict[str, str]) -> str | None:
        username = self.normalize_username(data.get("username", ""))
        password = data.get("password", "")
        if username in self.admin_users:
            given, expected = password.encode(), self.admin_password.encode()
            return username if expected and hmac.compare_digest(given, expected) else None
        if not username:
            return None
        if len(password.encode()) > MAX_PASSWORD_BYTES:
            handler.custom_login_error = TOO_LONG
            return None
        async with self.passwords_lock:
            form = {"username": username, "password": password}
            return await asyncio.to_thread(self._first_use, handler, form)

    def reset_password(self, username: str, new_password: str) -> str:
        if len(new_password.encode()) > MAX_PASSWORD_BYTES:
            return TOO_LONG
        message: str = super().reset_password(username, new_password)
        return message

    def _first_use(self, handler: Any, data: dict[str, str]) -> str | None:
        # FirstUseAuthenticator's own check, in this worker thread: bcrypt and dbm block
        result: str | None = asyncio.run(FirstUseAuthenticator.authenticate(self, handler, data))
        return result

    async def delete_user(self, user: Any) -> None:
        async with self.passwords_lock:
            await asyncio.to_thread(super().delete_user, user)

    def get_handlers(self, app: Any) -> list[tuple[str, Any]]:
        return [
            (r"/login", TrialLoginHandler),
            (r"/auth/change-password", AsyncResetPasswordHandler),
        ]
