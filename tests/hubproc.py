"""A real `jupyterhub` process started from the shipped jupyterhub_config.py, for e2e tests."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests import procs

from . import accounts
from .util import REPO, free_port

SCOPES = [
    "admin:users",
    "admin:servers",
    "admin:server_state",
    "access:servers",
    "read:users",
    "list:users",
    "tokens",
]


@dataclass
class Hub:
    url: str
    token: str
    data: Path
    log_path: Path
    proc: subprocess.Popen
    #: the prefix of its users' system accounts (``jovt-<hex>-``)
    user_prefix: str = ""

    @property
    def state(self) -> Path:
        """The hub's private state directory (databases, secrets)."""
        return self.data / "hub"

    @property
    def admin_password(self) -> str:
        """The shipped config's admin password: random, made on the first start."""
        return (self.state / "admin-password").read_text().strip()

    def system_user(self, slug: str) -> str:
        """The account the server of the user with this slug runs as ('' if shared)."""
        return self.user_prefix + slug if self.user_prefix else ""

    def api(self, method: str, path: str, **kw: Any) -> requests.Response:
        headers = {"Authorization": f"token {self.token}", **kw.pop("headers", {})}
        return requests.request(
            method, f"{self.url}/hub/api{path}", headers=headers, timeout=30, **kw
        )

    def new_token(self, user: str, **body: Any) -> str:
        """A new API token of ``user`` (created if missing), with ``body`` (e.g. scopes)."""
        self.api("POST", f"/users/{user}")  # 201 created, or 409 exists: both fine
        r = self.api("POST", f"/users/{user}/tokens", json={"note": "test", **body})
        assert r.status_code == 201, r.text
        return str(r.json()["token"])

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def user(self, name: str) -> dict:
        r = self.api("GET", f"/users/{name}", params={"include_stopped_servers": "1"})
        r.raise_for_status()
        return r.json()

    def start_server(self, name: str, options: dict | None = None, timeout: float = 90) -> None:
        self.api("POST", f"/users/{name}")  # 201 created, or 409 exists: both fine
        r = self.api("POST", f"/users/{name}/server", json=options or {})
        assert r.status_code in (201, 202), (r.status_code, r.text)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            server = self.user(name)["servers"].get("")
            if server and server.get("ready"):
                return
            if not server or server.get("stopped") or not server.get("pending"):
                raise AssertionError(f"server of {name} failed to start:\n{self.log()[-3000:]}")
            time.sleep(0.2)
        raise TimeoutError(f"server of {name} not ready in {timeout} s")

    def stop_server(self, name: str, timeout: float = 60) -> None:
        r = self.api("DELETE", f"/users/{name}/server")
        assert r.status_code in (202, 204), r.text
        deadline = time.monotonic() + timeout
        while self.user(name)["servers"].get("", {}).get("pending"):
            assert time.monotonic() < deadline, f"server of {name} did not stop"
            time.sleep(0.2)


def spawn_page(hub_url: str, user: str, password: str) -> str:
    """``/hub/spawn`` as ``user`` sees it after logging in with the form."""
    with requests.Session() as session:
        session.get(f"{hub_url}/hub/login", timeout=30).raise_for_status()
        form = {"username": user, "password": password, "_xsrf": session.cookies["_xsrf"]}
        session.post(f"{hub_url}/hub/login", data=form, timeout=30).raise_for_status()
        page = session.get(f"{hub_url}/hub/spawn", timeout=30)
        page.raise_for_status()
        # the hub sends text/html without a charset (requests would guess Latin-1); the page
        # declares <meta charset="utf-8">, as browsers read it
        page.encoding = "utf-8"
        return page.text


SHIPPED_CONFIG = REPO / "jupyterhub_config.py"


def write_config(
    path: Path,
    token: str,
    port: int,
    hub_port: int,
    api_port: int,
    extra: str,
    base: Path | None,
) -> None:
    load = f"load_subconfig({str(base)!r})" if base else ""
    path.write_text(
        textwrap.dedent(
            f"""
            c = get_config()
            {load}
            c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
            c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub_port}"
            c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
            c.JupyterHub.services.append({{"name": "test-admin", "api_token": {token!r}}})
            # appended: the roles of the config loaded above (e.g. the user role) stay
            c.JupyterHub.load_roles.append(
                {{"name": "test-admin", "scopes": {SCOPES!r}, "services": ["test-admin"]}}
            )
            """
        )
        + textwrap.dedent(extra)
    )


@contextmanager
def running_hub(
    directory: Path,
    extra_config: str = "",
    env: dict | None = None,
    timeout: float = 60,
    base_config: Path | None = SHIPPED_CONFIG,
    ports: tuple[int, int, int] | None = None,
) -> Iterator[Hub]:
    """Start the hub in `directory` (its data dir is directory/data) and stop it afterwards."""
    token = secrets.token_hex(16)
    port, hub_port, api_port = ports or (free_port(), free_port(), free_port())
    config = directory / "test_jupyterhub_config.py"
    write_config(config, token, port, hub_port, api_port, extra_config, base_config)
    prefix = accounts.new_prefix() if accounts.isolating() else ""
    if prefix:
        accounts.open_for_traversal(directory)
        accounts.open_for_traversal(Path(sys.prefix))
    hub_env = dict(os.environ)
    hub_env.update(
        JUPYTERHUB_OV_USER_PREFIX=prefix or "jupyter-",
        # not root: the shipped config insists that the admin choose shared identity
        JUPYTERHUB_OV_SHARED_IDENTITY="" if prefix else "1",
        JUPYTERHUB_OV_DATA_DIR=str(directory / "data"),
        JUPYTERHUB_OV_BIND_URL=f"http://127.0.0.1:{port}",
        JUPYTERHUB_OV_S3_PORT=str(free_port()),
        JUPYTERHUB_OV_BUILDER_URL=f"http://127.0.0.1:{free_port()}",
    )
    hub_env.update(env or {})
    log_path = directory / "jupyterhub.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(config)],
            cwd=directory,
            env=hub_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    hub = Hub(f"http://127.0.0.1:{port}", token, directory / "data", log_path, proc, prefix)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"jupyterhub exited:\n{hub.log()[-5000:]}")
            try:
                if hub.api("GET", "/").status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"jupyterhub did not start:\n{hub.log()[-5000:]}")
            time.sleep(0.2)
        yield hub
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        stop_orphans(directory, api_port)
        if prefix:
            accounts.remove_accounts(prefix)


def orphans_of(directory: Path, api_port: int | None = None) -> list[int]:
    """Processes adopted by init (their parent gone) whose command line names ``directory``,
    and the proxy listening for its API on ``api_port`` (its command line names no directory).

    The managed services end with their hub (jupyterhub_ov.lifeline), but a hub that gives
    up on a service exits without stopping its proxy, and a test's own processes may outlive
    it too: this is the backstop that keeps them from running on."""
    found = [p.pid for p in procs.orphans_mentioning(str(directory))]
    if api_port is not None:
        proxies = procs.orphans_mentioning("configurable-http-proxy")
        found += [p.pid for p in proxies if _api_port(p.info["cmdline"]) == str(api_port)]
    return found


def _api_port(argv: list[str]) -> str | None:
    after = argv[argv.index("--api-port") + 1 :] if "--api-port" in argv else []
    return after[0] if after else None


def stop_orphans(directory: Path, api_port: int | None = None, timeout: float = 10) -> None:
    """SIGTERM the hub's orphans (see `orphans_of`), SIGKILL what is left after ``timeout``."""
    pids = orphans_of(directory, api_port)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while (pids := orphans_of(directory, api_port)) and time.monotonic() < deadline:
            time.sleep(0.2)
        if not pids:
            return
