"""Scenario 7, soak: mixed traffic at a steady rate against the local mode (the shipped
config as ``make run`` starts it: first-use logins, the local spawner's menu, real
single-user servers under accounts of their own, the platform service), for 60 s (short) or
30 minutes (full).

Local mode, not the simulator: it runs every part a user touches end to end in processes of
their own (hub, proxy, service, servers, model server), so their memory is theirs alone; the
simulator would share this process with the load generator, and OpenShift-mode spawning at
scale is what the restart and fault storm scenarios measure. Builds go through the service
with the tests' recording backend (it runs every phase, writes logs and publishes, without
building anything); model server requests go to the local model server
(``python -m jupyterhub_ov.ovms``) serving a tiny OpenVINO model, when OpenVINO is installed.

Figures: hub, service and model server RSS at start and end, requests per route, errors
(any 5xx, unexpected status, failed spawn or build, wrong inference answer, or exception; must
be 0), p99 latency per route.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from tests.service.svc import builder_hub, package_list

from . import figures
from .figures import Figure
from .load import Load
from .procmem import rss

NAME = "soak"
SHORT_SECONDS = 45.0
FULL_SECONDS = 1800.0
PASSWORD = "soak-password-1"
#: seconds between two requests of each kind (a steady rate, whatever the answers take)
PERIODS = {"login": 2.0, "menu": 1.0, "api": 1.0, "build": 5.0, "infer": 0.2}
SPAWN_USERS, MENU_USERS = 3, 4
MODEL = "tiny"
USER_ROUTE = "GET /hub/api/users/{name}"
#: a spawn, a request to the server and a stop take about this long on 2 busy cores: no
#: cycle is begun that would outlast the run
CYCLE_SECONDS = 15.0


@dataclass
class Target:
    hub: str
    service: str
    token: str  # an admin's API token (one the hub generated: cheap to check)
    model: str | None  # the model server's base URL, None without OpenVINO


class Traffic:
    def __init__(self, target: Target, http: aiohttp.ClientSession) -> None:
        self.target, self.http, self.load = target, http, Load()
        self.end = 0.0
        self.sessions: list[aiohttp.ClientSession] = []
        self.auth = {"Authorization": f"token {target.token}"}

    async def timed(self, route: str, expected: tuple[int, ...], method: str, url: str, **kw):
        started = time.monotonic()
        try:
            async with self.http.request(method, url, allow_redirects=False, **kw) as r:
                body = await r.read()
        except (aiohttp.ClientError, TimeoutError) as e:
            self.load.error(route, f"{type(e).__name__}: {e}")
            return None, b""
        ok = self.load.record(route, time.monotonic() - started, r.status, expected)
        return (r.status if ok else None), body

    async def every(self, period: float, action: Callable[[int], Awaitable[None]]) -> None:
        """``action(0)``, ``action(1)``... each ``period`` seconds after the previous was due."""
        due, k = time.monotonic(), 0
        while time.monotonic() < self.end:
            await action(k)
            k += 1
            due += period
            await asyncio.sleep(max(0.0, due - time.monotonic()))

    async def login(self, name: str, http: aiohttp.ClientSession) -> None:
        hub = self.target.hub
        async with http.get(f"{hub}/hub/login") as r:
            await r.read()
        xsrf = next((c.value for c in http.cookie_jar if c.key == "_xsrf"), "")
        form = {"username": name, "password": PASSWORD, "_xsrf": xsrf}
        started = time.monotonic()
        async with http.post(f"{hub}/hub/login", data=form, allow_redirects=False) as r:
            await r.read()
            self.load.record("POST /hub/login", time.monotonic() - started, r.status, (302,))

    async def logins(self, k: int) -> None:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            await self.login(f"soak-login{k % 5}", http)

    async def render(self, k: int) -> None:
        """The spawner's menu, as a logged-in user without a server sees it."""
        http = self.sessions[k % len(self.sessions)]
        started = time.monotonic()
        async with http.get(f"{self.target.hub}/hub/spawn", allow_redirects=False) as r:
            page = await r.text()
        if self.load.record("GET /hub/spawn", time.monotonic() - started, r.status, (200,)):
            if 'id="ov-data"' not in page:
                self.load.error("GET /hub/spawn", "no image menu in the page")

    async def api_reads(self, k: int) -> None:
        name = f"soak-menu{k % MENU_USERS}"
        url = f"{self.target.hub}/hub/api/users/{name}"
        await self.timed(USER_ROUTE, (200,), "GET", url, headers=self.auth)

    async def server_state(self, name: str) -> dict | None:
        """The user's default server as the API shows it (None when the read failed)."""
        url = f"{self.target.hub}/hub/api/users/{name}"
        status, body = await self.timed(USER_ROUTE, (200,), "GET", url, headers=self.auth)
        return json.loads(body)["servers"].get("", {}) if status else None

    async def until(self, name: str, done: Callable[[dict], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = await self.server_state(name)
            if state is not None and done(state):
                return True
            await asyncio.sleep(0.25)
        return False

    async def spawn_cycles(self) -> None:
        """One user's server started, used and stopped after another, back to back."""
        hub, k = self.target.hub, 0
        while self.end - time.monotonic() > CYCLE_SECONDS:
            name = f"soak-spawn{k % SPAWN_USERS}"
            k += 1
            url = f"{hub}/hub/api/users/{name}/server"
            started = time.monotonic()
            status, _ = await self.timed(
                "POST /hub/api/users/{name}/server",
                (201, 202),
                "POST",
                url,
                headers=self.auth,
                json={},
            )
            if status is None:
                await asyncio.sleep(1)
                continue
            if not await self.until(name, lambda s: bool(s.get("ready")), 90):
                self.load.error("spawn", f"{name}'s server not ready in 90 s")
            else:
                self.load.latencies["spawn to ready"].append(time.monotonic() - started)
                lab = f"{hub}/user/{name}/api/status"
                await self.timed(
                    "GET /user/{name}/api/status", (200,), "GET", lab, headers=self.auth
                )
            await self.timed(
                "DELETE /hub/api/users/{name}/server", (202, 204), "DELETE", url, headers=self.auth
            )
            if not await self.until(name, lambda s: not s, 60):
                self.load.error("stop", f"{name}'s server not stopped in 60 s")

    async def builds(self, k: int) -> None:
        body = package_list(f"soak{k % 4}", f"soakpkg{k}==1.0")
        url = f"{self.target.service}/api/builds"
        status, answer = await self.timed(
            "POST /api/builds", (200, 201), "POST", url, headers=self.auth, json=body
        )
        if status is None:
            return
        build_id = json.loads(answer)["id"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status, answer = await self.timed(
                "GET /api/builds/{id}", (200,), "GET", f"{url}/{build_id}", headers=self.auth
            )
            phase = json.loads(answer)["phase"] if status else "?"
            if phase == "Success":
                return
            if phase == "Failure" or status is None:
                self.load.error("build", f"build {build_id} ended {phase}")
                return
            await asyncio.sleep(0.2)
        self.load.error("build", f"build {build_id} not done in 30 s")

    async def infer(self, k: int) -> None:
        from tests.ovms.helpers import INPUT, OUTPUT, SAMPLE, expected

        body = {
            "inputs": [
                {
                    "name": INPUT,
                    "shape": [1, 3],
                    "datatype": "FP32",
                    "data": SAMPLE.flatten().tolist(),
                }
            ]
        }
        url = f"{self.target.model}/v2/models/{MODEL}/infer"
        status, answer = await self.timed(
            "POST /v2/models/{name}/infer", (200,), "POST", url, json=body
        )
        if status is not None:
            outputs = {o["name"]: o["data"] for o in json.loads(answer)["outputs"]}
            if outputs.get(OUTPUT) != expected(1).flatten().tolist():
                self.load.error("infer", f"wrong answer {outputs}")

    async def warm_up(self) -> None:
        """Users logged in and created, then one request of each kind: what a hub does once
        (templates compiled, first token checks) is not part of its steady state."""
        for i, http in enumerate(self.sessions):
            await self.login(f"soak-menu{i}", http)
        for i in range(SPAWN_USERS):
            url = f"{self.target.hub}/hub/api/users/soak-spawn{i}"
            async with self.http.post(url, headers=self.auth) as r:
                await r.read()
        for action in self.periodic().values():
            await action(0)
        self.load.latencies.clear()  # errors stay

    def periodic(self) -> dict[str, Callable[[int], Awaitable[None]]]:
        actions: dict[str, Callable[[int], Awaitable[None]]] = {
            "login": self.logins,
            "menu": self.render,
            "api": self.api_reads,
            "build": self.builds,
        }
        if self.target.model:
            actions["infer"] = self.infer
        return actions

    async def run(self, seconds: float, mark: Callable[[str], None]) -> Load:
        """``mark("start")`` once warmed up, ``mark("half-way")`` in the middle."""
        self.sessions = [
            aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
            for _ in range(MENU_USERS)
        ]
        try:
            await self.warm_up()
            mark("start")
            self.end = time.monotonic() + seconds

            async def half_way() -> None:
                await asyncio.sleep(seconds / 2)
                mark("half-way")

            work = [self.every(PERIODS[kind], a) for kind, a in self.periodic().items()]
            await asyncio.gather(half_way(), self.spawn_cycles(), *work)
        finally:
            for http in self.sessions:
                await http.close()
        return self.load


async def traffic(target: Target, seconds: float, mark: Callable[[str], None]) -> Load:
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        return await Traffic(target, http).run(seconds, mark)


@contextmanager
def model_server(work: Path) -> Iterator[tuple[str | None, int | None]]:
    """The local model server with the tiny model: (its URL, its pid), or Nones without
    OpenVINO."""
    if importlib.util.find_spec("openvino") is None:
        yield None, None
        return
    from tests.ovms.helpers import running_server, save_tiny_model

    save_tiny_model(work / MODEL, 1)
    args = ["--model_path", str(work / MODEL), "--model_name", MODEL, "--log_level", "ERROR"]
    with running_server(args, work) as server:
        yield server.url, server.process.pid


def memory(pids: dict[str, int]) -> dict[str, int]:
    return {name: rss(pid) for name, pid in pids.items()}


def soak(seconds: float) -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="rel-soak-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        builder = stack.enter_context(builder_hub(work / "hub", step_delay=0.05, log_level="INFO"))
        model_url, model_pid = stack.enter_context(model_server(work))
        target = Target(builder.hub.url, builder.url, builder.token("admin"), model_url)
        pids = {"hub": builder.hub.proc.pid, "service": builder.service_pid()}
        if model_pid:
            pids["model server"] = model_pid
        samples: dict[str, dict[str, int]] = {}
        load = asyncio.run(traffic(target, seconds, lambda at: samples.update({at: memory(pids)})))
        samples["end"] = memory(pids)
    for route, why in load.errors[:20]:
        print(f"soak: error on {route}: {why}", file=sys.stderr)
    mode = f"local, {seconds:.0f} s" + ("" if model_url else ", no OpenVINO: no model server")
    result = [figures.info(NAME, "mode", mode)]
    for name in pids:
        mib = " / ".join(f"{samples[at][name] / 2**20:.0f}" for at in samples)
        result.append(figures.info(NAME, f"{name} RSS {' / '.join(samples)} (MiB)", mib))
    errors = "errors (5xx, unexpected answers, failed spawns/builds/inferences)"
    result.append(figures.zero(NAME, errors, len(load.errors)))
    result.append(figures.zero(NAME, "5xx answers", load.server_errors()))
    counts = load.counts()
    for route, p99 in load.p99_ms().items():
        result.append(figures.info(NAME, f"p99 {route} (ms, of {counts[route]})", round(p99, 1)))
    return result


def run(full: bool) -> list[Figure]:
    return soak(FULL_SECONDS if full else SHORT_SECONDS)
