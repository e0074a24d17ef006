"""Local mode: each ModelServer is processes of the ovms program on this machine.

A server's record (its raw spec, creator, dates: `store`) is kept in the service's database,
so the servers come back when the service starts again. Each replica is a supervised process
(`supervisor.Replica`) on two loopback ports of its own, started with the container's
arguments (`localmode.command_line`); its environment is a few of the service's variables
(never the hub's token), the spec's proxies and, for an ``s3://`` model, the S3 key of the
server's own IAM identity (`s3identity`). That key belongs to the server, not to a process:
it is issued (rotating the identity's key) when the server starts as a whole — created, the
service started, scaled up from zero — and shared by all its replicas, so a crashed replica
starts again with the same key and any number of replicas run (IAM keeps two keys per
identity). It is kept in memory only, never in the record. The state comes from the
processes and from the server's ``/v1/config`` (`readiness`): Available once every replica
wanted serves every model; Degraded when a replica keeps exiting or a model has no
available version (the message names the model's path and the server's reason).
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from jupyterhub_ov.errors import Conflict, NotFound

from .. import localmode
from ..model import InvalidModelServer, ModelServerSpec
from ..store import ServerRecord, ServerStore
from ..supervisor import MARK, Launch, Replica, stop_leftovers
from ..view import (
    ModelReadiness,
    ServerView,
    condition,
    scaled_spec,
    spec_json,
    state_of,
    unavailable_models,
)
from .base import ModelServerBackend, parse, raw_spec, replicas_problem
from .s3identity import ServerIdentities, ServerKey

#: the service's variables a model server process gets (nothing else of its environment)
ENV_KEEP = ("PATH", "PYTHONPATH", "LANG", "LC_ALL", "HOME", "TMPDIR", "SSL_CERT_FILE")
#: (REST URL, timeout) → the models' readiness; None when the server does not answer
Readiness = Callable[[str, float], Awaitable[tuple[ModelReadiness, ...] | None]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((localmode.BIND, 0))
        port: int = s.getsockname()[1]
        return port


async def read_readiness(url: str, timeout: float) -> tuple[ModelReadiness, ...] | None:
    """The models' readiness from the server's ``/v1/config`` (`readiness`), or None when
    it does not answer (yet)."""
    from .. import readiness

    try:
        states = await readiness.read_model_states(url, timeout)
    except readiness.ReadinessError:
        return None
    return tuple(ModelReadiness(s.name, s.ready, s.versions, s.message) for s in states)


@dataclass
class _Server:
    record: ServerRecord
    spec: ModelServerSpec | None
    #: why the stored spec cannot run (a record from an older version, a changed config)
    problem: str = ""
    replicas: list[Replica] = field(default_factory=list)
    ports: list[tuple[int, int]] = field(default_factory=list)
    #: the S3 key its replicas share (see the module's doc); None: issued at the next start
    key: ServerKey | None = field(default=None, repr=False)
    key_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)


class LocalBackend(ModelServerBackend):
    mode = "local"

    def __init__(
        self,
        *,
        store: ServerStore,
        identities: ServerIdentities | None,
        command: list[str],
        log: Any,
        claim_prefix: str = "jupyter-bucket",
        volumes_dir: str = "",
        stop_timeout: float = 10.0,
        backoff: tuple[float, float] = (0.5, 30.0),
        readiness_timeout: float = 2.0,
        readiness: Readiness = read_readiness,
        mark: str = "",
    ) -> None:
        self.store = store
        self.identities = identities
        self.command = list(command)
        self.log = log
        self.claim_prefix = claim_prefix
        self.volumes_dir = volumes_dir
        self.stop_timeout = stop_timeout
        self.backoff = backoff
        self.readiness_timeout = readiness_timeout
        self.readiness = readiness
        #: marks this service's processes (see `supervisor.MARK`); "": not marked
        self.mark = mark
        self._servers: dict[str, _Server] = {}
        self._lock = asyncio.Lock()

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Every stored server, started again (after what a killed run left is stopped)."""
        if self.mark:
            await stop_leftovers(self.mark, self.log)
        for record in await self.store.all():
            server = _Server(record, None)
            try:
                server.spec = self._checked(record.name, record.spec)
            except InvalidModelServer as e:
                server.problem = "; ".join(e.problems)
                self.log.warning("Stored ModelServer %s cannot run: %s", record.name, e)
            self._servers[record.name] = server
            self._fit(server)

    async def stop(self) -> None:
        """Every process stopped (SIGTERM, then SIGKILL); the records stay."""
        replicas = [r for s in self._servers.values() for r in s.replicas]
        await asyncio.gather(*(r.stop() for r in replicas))
        for server in self._servers.values():
            server.replicas.clear()

    # -- the interface ---------------------------------------------------------------------

    async def create(self, name: Any, spec: Any, *, by: str) -> ServerView:
        parsed = self._checked(name, spec)
        now = datetime.now(UTC)
        record = ServerRecord(parsed.name, dict(raw_spec(spec)), by, now, now)
        async with self._lock:
            if parsed.name in self._servers or not await self.store.add(record):
                raise Conflict(f"A ModelServer named {parsed.name!r} exists already.")
            server = _Server(record, parsed)
            self._servers[parsed.name] = server
        self.log.info("ModelServer %s created by %s", parsed.name, by)
        self._fit(server)
        return await self._view(server)

    async def get(self, name: str) -> ServerView:
        return await self._view(self._server(name))

    async def list(self) -> list[ServerView]:
        servers = [self._servers[n] for n in sorted(self._servers)]
        return list(await asyncio.gather(*(self._view(s) for s in servers)))

    async def delete(self, name: str) -> None:
        async with self._lock:
            server = self._server(name)
            await asyncio.gather(*(r.stop() for r in server.replicas))
            server.replicas.clear()
            # an S3 model's identity (a stored spec that cannot be read: maybe one)
            reads_s3 = server.spec is None or bool(server.spec.repository.bucket_claim)
            if reads_s3 and self.identities is not None and self.identities.enabled:
                await self.identities.remove(name)  # IdentityUnavailable: try again later
            await self.store.delete(name)
            del self._servers[name]
        self.log.info("ModelServer %s deleted", name)

    async def scale(self, name: str, replicas: int) -> ServerView:
        replicas_problem(replicas)
        async with self._lock:
            server = self._server(name)
            raw = scaled_spec(server.record.spec, replicas)
            spec = self._checked(name, raw)
            r = server.record
            server.record = ServerRecord(r.name, raw, r.creator, r.created, datetime.now(UTC))
            server.spec, server.problem = spec, ""
            await self.store.save(server.record)
        await self._fit_async(server)
        return await self._view(server)

    # -- helpers ---------------------------------------------------------------------------

    def _server(self, name: str) -> _Server:
        try:
            return self._servers[name]
        except KeyError:
            raise NotFound(name) from None

    def _checked(self, name: Any, spec: Any) -> ModelServerSpec:
        parsed = parse(name, spec)
        problems = localmode.problems(
            parsed,
            raw_spec(spec),
            claim_prefix=self.claim_prefix,
            s3_enabled=self.identities is not None and self.identities.enabled,
            volumes_dir=self.volumes_dir,
        )
        if problems:
            raise InvalidModelServer(problems)
        return parsed

    def _fit(self, server: _Server) -> None:
        """Start replicas up to the number wanted (extra ones: `_fit_async`)."""
        wanted = server.spec.deployment.replicas if server.spec else 0
        while len(server.replicas) < wanted:
            index = len(server.replicas)
            if index >= len(server.ports):
                server.ports.append((free_port(), free_port()))
            replica = Replica(
                f"{server.record.name}[{index}]",
                self._preparer(server, index),
                log=self.log,
                stop_timeout=self.stop_timeout,
                backoff_base=self.backoff[0],
                backoff_max=self.backoff[1],
            )
            server.replicas.append(replica)
            replica.start()

    async def _fit_async(self, server: _Server) -> None:
        wanted = server.spec.deployment.replicas if server.spec else 0
        extra = server.replicas[wanted:]
        del server.replicas[wanted:]
        await asyncio.gather(*(r.stop() for r in extra))
        if not server.replicas:  # stopped as a whole: the next start gets a fresh key
            server.key = None
        self._fit(server)

    def _preparer(self, server: _Server, index: int) -> Callable[[], Awaitable[Launch]]:
        async def prepare() -> Launch:
            spec = server.spec
            assert spec is not None
            rest, grpc = server.ports[index]
            env = {k: os.environ[k] for k in ENV_KEEP if k in os.environ}
            if self.mark:
                env[MARK] = self.mark
            env.update(localmode.proxy_environment(spec))
            secrets: tuple[str, ...] = ()
            owner = localmode.claim_owner(spec.repository.bucket_claim, self.claim_prefix)
            if owner and self.identities is not None:
                key = await self._key(server, owner)
                env.update(
                    localmode.s3_environment(
                        spec,
                        endpoint=key.endpoint_url,
                        region=key.region,
                        key_id=key.access_key_id,
                        secret=key.secret_access_key,
                    )
                )
                secrets = (key.secret_access_key,)
            args = localmode.command_line(
                spec, rest_port=rest, grpc_port=grpc, volumes_dir=self.volumes_dir
            )
            return Launch([*self.command, *args], env, secrets)

        return prepare

    async def _key(self, server: _Server, owner: str) -> ServerKey:
        """The server's S3 key, issued by the first replica starting (see the module's doc)."""
        assert self.identities is not None
        async with server.key_lock:  # replicas starting together: one key for them all
            if server.key is None:
                server.key = await self.identities.issue(server.record.name, owner)
            return server.key

    async def _view(self, server: _Server) -> ServerView:
        spec, record = server.spec, server.record
        desired = spec.deployment.replicas if spec else 0
        models = await asyncio.gather(
            *(
                self.readiness(f"http://{localmode.BIND}:{rest}", self.readiness_timeout)
                if replica.running
                else _none()
                for replica, (rest, _) in zip(server.replicas, server.ports, strict=False)
            )
        )
        ready = sum(1 for m in models if m and not unavailable_models(m))
        first = next((m for m in models if m), ())
        conditions, error = self._conditions(server, desired, ready, first)
        endpoints = {}
        if server.ports and desired:
            rest, grpc = server.ports[0]
            endpoints = {
                "rest": f"http://{localmode.BIND}:{rest}",
                "grpc": f"{localmode.BIND}:{grpc}",
            }
        return ServerView(
            name=record.name,
            mode=self.mode,
            spec=spec_json(spec) if spec else {},
            desired_replicas=desired,
            ready_replicas=ready,
            state=state_of(conditions, desired),
            conditions=conditions,
            endpoints=endpoints,
            models=first,
            last_error=error,
            creator=record.creator,
            created=record.created,
            updated=record.updated,
            process={"replicas": [r.status() for r in server.replicas]},
        )

    def _conditions(
        self, server: _Server, desired: int, ready: int, models: tuple[ModelReadiness, ...]
    ) -> tuple[tuple[dict[str, str], ...], str]:
        """Available, Progressing, Degraded (see the module's doc), and the last error."""
        if server.problem:
            return tuple(
                condition(kind, kind == "Degraded", "InvalidSpec", server.problem)
                for kind in ("Available", "Progressing", "Degraded")
            ), server.problem
        counts = f"{ready} of {desired} replicas ready"
        degraded = _degraded(server, models)
        if desired == 0:
            available = condition("Available", False, "ScaledToZero", counts)
        else:
            reason = "MinimumReplicasAvailable" if ready else "NoReplicasAvailable"
            available = condition("Available", ready > 0, reason, counts)
        done = ready == desired
        reason = "RolloutComplete" if done else "Starting"
        progressing = condition("Progressing", not done, reason, counts)
        error = degraded["message"] if degraded["status"] == "True" else ""
        return (available, progressing, degraded), error


def _degraded(server: _Server, models: tuple[ModelReadiness, ...]) -> dict[str, str]:
    """Degraded when a model has no available version and the server says why (naming its
    path and that reason; one without a reason is still loading: Progressing) or a replica
    is not running after an exit or a failed start."""
    failed = {m.name for m in models if m.message}
    missing = [name for name in unavailable_models(models) if name in failed]
    if missing:
        m = server.spec.models if server.spec else None
        path = (m.model_path or m.config_path) if m else ""
        why = "; ".join(x.message for x in models if x.name in missing and x.message)
        message = f"model {', '.join(missing)} has no available version at {path}"
        return condition(
            "Degraded", True, "ModelUnavailable", message + (f": {why}" if why else "")
        )
    crashed = [r for r in server.replicas if not r.running and r.last_error]
    if crashed:
        r = crashed[0]
        tail = " | ".join(list(r.lines)[-3:])
        message = f"{r.label} {r.last_error} (restarts: {r.restarts})"
        return condition(
            "Degraded", True, "ProcessExited", message + (f"; last log: {tail}" if tail else "")
        )
    return condition("Degraded", False, "AsExpected")


async def _none() -> None:
    return None
