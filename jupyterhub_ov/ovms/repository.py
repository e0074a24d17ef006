"""The served models' versions, kept as their repositories and policies say.

`ModelVersions.refresh` lists a model's versions, loads the ones its policy wants that are
not loaded (downloaded and compiled in a thread) and unloads the ones it no longer wants;
`Repository.poll` refreshes every model every ``file_system_poll_wait_seconds`` (0: once).
A path that cannot be read is reported (``/v1/config``) and tried again at the next poll:
the server keeps running. A version that failed to download or compile is not fetched again
at every poll: it is tried again after a second, twice as long after each further
failure, at most a minute (`state.Retries`; ``POST /v1/config/reload`` tries it at once).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from pathlib import Path

from . import state
from .config import ModelConfig
from .runtime import CompiledVersion, LoadError, load_version
from .sources import Source, SourceError, open_source
from .state import VersionStatus

log = logging.getLogger("jupyterhub_ov.ovms")


class ModelVersions:
    """One model: its versions' states, the compiled ones and their local directories."""

    def __init__(self, config: ModelConfig, source: Source) -> None:
        self.config = config
        self.source = source
        self.states: dict[int, VersionStatus] = {}
        self.compiled: dict[int, CompiledVersion] = {}
        self.directories: dict[int, Path] = {}
        #: why the path could not be read, or holds nothing to serve (version 0)
        self.problem: VersionStatus | None = None
        #: when failed versions are tried again (the event loop's clock)
        self.retries = state.Retries()
        self._lock = asyncio.Lock()

    @property
    def name(self) -> str:
        return self.config.name

    def statuses(self) -> list[VersionStatus]:
        shown = list(self.states.values())
        return [*shown, self.problem] if self.problem else shown

    def version(self, requested: int | None = None) -> CompiledVersion | None:
        """The compiled version serving a request (``requested``, or the newest)."""
        number = state.serving_version(self.states.values(), requested)
        return self.compiled.get(number) if number is not None else None

    def _report(self, code: str, message: str) -> None:
        if self.problem is None or self.problem.error_message != message:
            log.error("Model %s: %s", self.name, message)
        self.problem = VersionStatus(0, state.LOADING, code, message)

    async def refresh(self, *, force: bool = False) -> None:
        """List, load and unload (see the module's doc); ``force``: failed versions are
        tried now, whatever their backoff."""
        async with self._lock:
            if force:
                self.retries.clear()
            try:
                available = await asyncio.to_thread(self.source.versions)
            except SourceError as e:
                self._report(e.code, str(e))
                return
            wanted = self.config.policy.select(available)
            if wanted:
                self.problem = None
            else:
                found = ", ".join(map(str, available)) or "none"
                self._report(
                    "NOT_FOUND",
                    f"no version in {self.source.path} to serve (policy"
                    f" {self.config.policy.kind}; versions found: {found})",
                )
            load, unload = state.plan(wanted, self.compiled)
            for number in load:
                await self._load(number)
            for number in unload:
                await self._unload(number)
            for number, status in list(self.states.items()):  # failed, and no longer wanted
                if status.state == state.LOADING and number not in wanted:
                    del self.states[number]
                    self.retries.forget(number)

    async def _load(self, number: int) -> None:
        if not self.retries.due(number, asyncio.get_running_loop().time()):
            return  # failed lately: its state keeps the error until the next try
        before = self.states.get(number)
        if before is None or before.error_code == state.OK:  # a retry shows the last error
            self.states[number] = VersionStatus(number, state.LOADING)
        directory: Path | None = None
        try:
            directory = await asyncio.to_thread(self.source.fetch, number)
            compiled = await asyncio.to_thread(load_version, directory, number, self.config)
        except (SourceError, LoadError) as e:
            if directory is not None:
                await asyncio.to_thread(self.source.release, number, directory)
            code = e.code if isinstance(e, SourceError) else "FAILED_PRECONDITION"
            failed = VersionStatus(number, state.LOADING, code, str(e))
            if self.states.get(number) != failed:
                log.error("Model %s version %d: %s", self.name, number, e)
            self.states[number] = failed
            self.retries.failed(number, asyncio.get_running_loop().time())
            return
        self.retries.forget(number)
        self.compiled[number] = compiled
        self.directories[number] = directory
        self.states[number] = VersionStatus(number, state.AVAILABLE)
        log.info("Model %s version %d is available", self.name, number)

    async def _unload(self, number: int) -> None:
        self.states[number] = VersionStatus(number, state.UNLOADING)
        self.compiled.pop(number, None)
        directory = self.directories.pop(number, None)
        if directory is not None:
            await asyncio.to_thread(self.source.release, number, directory)
        self.states[number] = VersionStatus(number, state.END)
        log.info("Model %s version %d is unloaded", self.name, number)

    async def unload_all(self) -> None:
        async with self._lock:
            for number in list(self.compiled):
                await self._unload(number)


class Repository:
    """All served models, refreshed together."""

    def __init__(
        self, models: tuple[ModelConfig, ...], env: Mapping[str, str], poll_seconds: int
    ) -> None:
        self.env = dict(env)
        self.models = {m.name: self._versions(m) for m in models}
        self.poll_seconds = poll_seconds
        #: the first refresh is done: every version wanted at startup was tried (as OVMS,
        #: the server is not ready before)
        self.started = False

    def _versions(self, config: ModelConfig) -> ModelVersions:
        return ModelVersions(config, open_source(config.base_path, self.env))

    async def reconfigure(self, models: tuple[ModelConfig, ...]) -> tuple[list[str], list[str]]:
        """Serve ``models`` from now on (a changed config file): models gone or changed are
        unloaded, new or changed ones loaded. (names removed, names added), changed ones
        in both."""
        wanted = {m.name: m for m in models}
        removed = [n for n, v in self.models.items() if wanted.get(n) != v.config]
        added = [n for n in wanted if n not in self.models or n in removed]
        for name in removed:
            await self.models.pop(name).unload_all()
        for name in added:
            self.models[name] = self._versions(wanted[name])
            await self.models[name].refresh()
        return removed, added

    def statuses(self) -> dict[str, list[VersionStatus]]:
        return {name: m.statuses() for name, m in self.models.items()}

    def ready(self) -> bool:
        return self.started and all(state.model_ready(m.statuses()) for m in self.models.values())

    async def refresh(self, *, force: bool = False) -> None:
        await asyncio.gather(*(m.refresh(force=force) for m in self.models.values()))

    async def poll(self) -> None:
        """Refresh now and then every poll interval, until cancelled (0: only now)."""
        while True:
            try:
                await self.refresh()
            except Exception:  # a bug in one refresh must not end the polling
                log.exception("Refreshing the models failed")
            self.started = True
            if self.poll_seconds <= 0:
                return
            await asyncio.sleep(self.poll_seconds)

    async def close(self) -> None:
        await asyncio.gather(*(m.unload_all() for m in self.models.values()))
