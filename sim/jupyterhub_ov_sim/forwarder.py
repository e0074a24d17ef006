"""A Service's TCP forwarder: ``<clusterIP>:<port>`` to a ready endpoint, round-robin.

What kube-proxy does with iptables, here as an asyncio server on the loopback cluster IP:
each connection goes to the next ready endpoint that accepts it; with none, the
connection is closed at once (a real cluster rejects it). Part of the cluster simulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)
Targets = Callable[[], list[tuple[str, int]]]


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        pass


class Forwarder:
    """Listens on ``host:port`` and forwards each connection to one of ``targets()``."""

    def __init__(self, host: str, port: int, targets: Targets) -> None:
        self.host, self.port, self.targets = host, port, targets
        self._server: asyncio.Server | None = None
        self._next = 0
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        choices = self.targets()
        for attempt in range(len(choices)):
            host, port = choices[(self._next + attempt) % len(choices)]
            try:
                connection = await asyncio.wait_for(asyncio.open_connection(host, port), 2)
            except (TimeoutError, OSError):
                continue
            self._next = (self._next + attempt + 1) % len(choices)
            return connection
        return None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        upstream = await self._connect()
        try:
            if upstream is not None:
                self._writers.add(upstream[1])
                await asyncio.gather(_pipe(reader, upstream[1]), _pipe(upstream[0], writer))
        finally:
            for w in (writer, *(upstream[1:] if upstream else ())):
                self._writers.discard(w)
                w.close()
                with contextlib.suppress(ConnectionError, OSError):
                    await w.wait_closed()

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._server.wait_closed(), 2)
        self._server = None
