"""Local mode of the servicecrash scenario: the platform service (local build backend) under a
real hub, SIGKILLed while builds are Resolving, Building and Validating, and started again.

The service is the hub's *external* service (its URL and token in the hub's configuration,
the process ours), so it is killed and started again at once, not after the hub's 30 s poll
of managed services; builds are asked for through its API with the admin's token. A phase is
made to last without sleeping: Resolving by the gated package index, Validating by a wheel
whose ``.pth`` file holds every interpreter start of the layer until a gate file exists;
Building (seconds of uv) is caught by polling the service's database. The menu is what
`LocalImageCatalog` offers, scanned the whole time.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from jupyterhub_ov.builds.backends.local.entries import is_leftover
from jupyterhub_ov.builds.workdir import PREFIX
from jupyterhub_ov.images.local import LocalImageCatalog
from tests.builds.cases import offered_by
from tests.builds.wheels import make_wheel
from tests.hubproc import running_hub
from tests.service.svc import package_list
from tests.util import free_port

from . import crashcheck
from .crashstack import Crash, GatedIndex, Service, all_builds

SERVICE = "image-builder"
#: the shipped config's platform service made external: the scenario runs the process
EXTERNAL = """
for _service in c.JupyterHub.services:
    if _service["name"] == {name!r}:
        for _key in ("command", "cwd", "environment"):
            _service.pop(_key, None)
        _service["api_token"] = {token!r}
"""


def hold_interpreters(gate: Path) -> dict[str, str]:
    """The files of a wheel whose ``.pth`` line makes every Python of an environment that
    has it wait at start until ``gate`` exists (so its validation lasts)."""
    wait = f"while not os.path.exists({str(gate)!r}): time.sleep(0.05)"
    return {"slowstart/__init__.py": "", "slowstart.pth": f"import os, time; exec({wait!r})\n"}


def service_config(work: Path, index: str, slots: int) -> str:
    settings = {
        "PlatformService.backend_class": "local",
        "PlatformService.db_url": f"sqlite:///{work / 'builds.sqlite'}",
        "PlatformService.max_concurrent_builds": slots,
        "PlatformService.features": ["builds"],
        "LocalBuildBackend.catalog_dir": str(work / "environments"),
        "LocalBuildBackend.base_environment": sys.prefix,
        "LocalBuildBackend.no_index": True,
        "LocalBuildBackend.find_links": [index],
        "LocalBuildBackend.validation_timeout": 120.0,
    }
    return "".join(f"c.{key} = {value!r}\n" for key, value in settings.items())


@dataclass(kw_only=True)
class LocalCrash(Crash):
    token: str
    offered_ever: set[str] = field(default_factory=set)

    @property
    def gate(self) -> Path:
        return self.work / "validation-gate"

    @property
    def catalog(self) -> Path:
        return self.work / "environments"

    @property
    def work_dir(self) -> Path:
        """`BuildBackend.work_dir`'s default: in the service's working directory."""
        return self.work / "jupyterhub-ov-work"

    def hold_validation(self) -> None:
        self.gate.unlink(missing_ok=True)

    def undo_slowness(self) -> None:
        super().undo_slowness()
        self.gate.touch()

    async def submit(self, name: str, *packages: str) -> None:
        def post() -> None:
            r = requests.post(
                f"{self.service.base}api/builds",
                json=package_list(name, *packages),
                headers={"Authorization": f"token {self.token}"},
                timeout=30,
            )
            assert r.status_code in (200, 201, 202), r.text

        await asyncio.to_thread(post)

    def offered_now(self) -> set[str]:
        images = LocalImageCatalog(
            catalog_dir=str(self.catalog), include_hub_environment=False, rescan_interval=0
        )
        return set(offered_by(images.images()))

    async def watch_menu(self) -> None:
        while True:
            self.offered_ever |= await asyncio.to_thread(self.offered_now)
            await asyncio.sleep(0.1)

    async def resolving(self, name: str) -> None:
        """Until the build is Resolving with uv at work (its scratch directory made)."""
        await self.phase(name, "Resolving")
        async with asyncio.timeout(30):
            while not await asyncio.to_thread(self.scratch, "resolve-"):  # noqa: ASYNC110
                await asyncio.sleep(0.01)  # the service's files: no event to wait for

    def scratch(self, what: str = "") -> list[str]:
        """Scratch directories in the service's work_dir (``what``: their kind)."""
        found = self.work_dir.glob(f"{PREFIX}{what}*") if self.work_dir.exists() else []
        return sorted(p.name for p in found)

    def verdict(self) -> dict[str, list[str]]:
        records = all_builds(self.db)
        judged = crashcheck.judge(
            records, offered_ever=self.offered_ever, offered_now=self.offered_now()
        )
        entries = sorted(self.catalog.iterdir()) if self.catalog.exists() else []
        stale = [f"scratch {name}" for name in self.scratch()]
        stale += [f"catalog {p.name}" for p in entries if is_leftover(str(p))]
        return {
            "stuck": judged.stuck,
            "untruthful": judged.untruthful,
            "half-built offered": judged.half_built,
            "stale build directories": stale,
            "duplicate records": crashcheck.duplicates(r["name"] for r in records),
            "orphaned processes": list(self.orphaned),
        }


async def sequential(s: LocalCrash) -> None:
    """Full mode: one kill in each phase, one after the other (one build slot)."""
    s.index.close()
    await s.submit("resolving", "crashone")
    await s.resolving("resolving")
    await s.kill_and_restart("Resolving")
    await s.phase("resolving", *crashcheck.TERMINAL, timeout=120)
    s.hold_validation()
    await s.submit("building", "crashtwo", "slowstart")
    await s.phase("building", "Building", timeout=90)
    await s.kill_and_restart("Building")
    await s.phase("building", *crashcheck.TERMINAL, timeout=120)
    s.hold_validation()
    await s.submit("validating", "crashone", "slowstart")
    await s.phase("validating", "Validating", timeout=90)
    await s.kill_and_restart("Validating")


async def simultaneous(s: LocalCrash) -> None:
    """Short mode: one kill while a build is Validating, one Building (or just past it, held
    in Validating) and one Resolving (three build slots)."""
    s.hold_validation()
    await s.submit("validating", "crashone", "slowstart")
    await s.phase("validating", "Validating", timeout=90)
    await s.submit("building", "crashtwo", "slowstart")
    await s.phase("building", "Building", "Importing", "Validating", timeout=90)
    s.index.close()
    await s.submit("resolving", "crashone", "crashtwo")
    await s.resolving("resolving")
    await s.kill_and_restart("Resolving+Building+Validating")


@contextmanager
def local_hub(work: Path, token: str) -> Iterator[str]:
    """A hub from the shipped config whose platform service is external; the admin's token."""
    config = EXTERNAL.format(name=SERVICE, token=token)
    env = {"JUPYTERHUB_OV_BUILDER_URL": f"http://127.0.0.1:{free_port()}"}
    (work / "hub").mkdir(parents=True, exist_ok=True)
    with running_hub(work / "hub", config, env=env) as hub:
        yield hub.new_token("admin")


def service_env(work: Path, token: str, hub_api: str) -> dict[str, str]:
    """What the hub gives a service it starts, for ours."""
    return {
        "HOME": str(work / "home"),
        "UV_CACHE_DIR": str(work / "uv-cache"),
        "JUPYTERHUB_API_TOKEN": token,
        "JUPYTERHUB_API_URL": hub_api,
        "JUPYTERHUB_SERVICE_NAME": SERVICE,
        "JUPYTERHUB_SERVICE_PREFIX": f"/services/{SERVICE}/",
        "JUPYTERHUB_CLIENT_ID": f"service-{SERVICE}",
        "JUPYTERHUB_OAUTH_CALLBACK_URL": f"/services/{SERVICE}/oauth_callback",
        "JUPYTERHUB_BASE_URL": "/",
    }


async def local_builds(work: Path, full: bool) -> tuple[LocalCrash, dict[str, list[str]]]:
    """Kill the service in every build phase (`sequential` or `simultaneous`); what went
    wrong, by figure."""
    wheels = work / "wheels"
    for name in ("crashone", "crashtwo"):  # none the base environment has (its pins win)
        make_wheel(wheels, name, "1.0")
    make_wheel(wheels, "slowstart", "1.0", files=hold_interpreters(work / "validation-gate"))
    (work / "home").mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    with GatedIndex(wheels).running() as index, local_hub(work, token) as admin:
        hub_api = await asyncio.to_thread(_hub_api, work)
        (work / "jupyterhub_ov_service_config.py").write_text(
            service_config(work, index.url, 1 if full else 3)
        )
        service = Service(work, env=service_env(work, token, hub_api))
        s = LocalCrash(work=work, service=service, index=index, token=admin)
        menu = asyncio.create_task(s.watch_menu())
        await asyncio.to_thread(service.start)
        try:
            await (sequential if full else simultaneous)(s)
            await s.all_ended(timeout=180)
            await asyncio.sleep(0.3)  # the menu's last scan
            return s, await asyncio.to_thread(s.verdict)
        finally:
            s.undo_slowness()
            await asyncio.to_thread(service.stop)
            menu.cancel()
            await asyncio.gather(menu, return_exceptions=True)


def _hub_api(work: Path) -> str:
    """The hub's API URL, from the config `running_hub` wrote."""
    text = (work / "hub" / "test_jupyterhub_config.py").read_text()
    (line,) = [x for x in text.splitlines() if "hub_bind_url" in x]
    return line.split("=", 1)[1].strip().strip('"') + "/hub/api"
