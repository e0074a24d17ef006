"""A build's events as server-sent events (BinderHub's progress stream, resumable).

Each event is ``id: <seq>`` (numbered per build), ``event: phase`` or ``event: log`` and
one line of JSON data; a comment line every ``keepalive_interval`` seconds of quiet keeps
proxies from closing the stream. A client that reconnects sends ``Last-Event-ID`` (browsers
do it by themselves) and gets only what came after. The stream ends after the terminal
phase; asking again after it answers 204, which tells an EventSource to stop reconnecting.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from tornado.iostream import StreamClosedError

from jupyterhub_ov.builds.store import BuildEvent
from jupyterhub_ov.digits import is_number
from jupyterhub_ov.service.web.base import ApiError, BaseHandler, domain_errors

#: how long a browser waits before reconnecting after a dropped stream (milliseconds)
RECONNECT_MS = 2000


def sse_message(event: BuildEvent) -> str:
    data = json.dumps(event.to_json(), separators=(",", ":"))
    return f"id: {event.seq}\nevent: {event.kind}\ndata: {data}\n\n"


class EventsHandler(BaseHandler):
    _closed: asyncio.Event

    def _after(self) -> int:
        raw = self.request.headers.get("Last-Event-ID") or self.get_argument("after", "0")
        if not is_number(raw.strip()):
            raise ApiError(400, f"Last-Event-ID / ?after= {raw!r} must be an event number.")
        return int(raw)

    async def get(self, build_id: str) -> None:
        self.require_read()
        after = self._after()
        with domain_errors("build"):
            record = await self.manager.get(build_id)
        if record.terminal and await self.manager.store.last_seq(build_id) <= after:
            self.set_status(204)  # nothing more will ever come
            self.finish()
            return
        self._closed = asyncio.Event()
        self.set_header("Content-Type", "text/event-stream; charset=UTF-8")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")  # nginx / OpenShift router: no buffering
        try:
            await self._send(f"retry: {RECONNECT_MS}\n\n")
            await self._stream(self.manager.events(build_id, after=after))
        except StreamClosedError:
            return  # the client went away
        self.finish()

    async def _stream(self, events: AsyncIterator[BuildEvent]) -> None:
        """Write events as they come, and a keep-alive comment after each quiet interval."""
        closed = asyncio.ensure_future(self._closed.wait())
        pending = asyncio.ensure_future(anext(events))
        try:
            while True:
                done, _ = await asyncio.wait(
                    {pending, closed},
                    timeout=self.ctx.keepalive_interval,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if closed in done:
                    return
                if not done:
                    await self._send(": keep-alive\n\n")
                    continue
                try:
                    event = pending.result()
                except StopAsyncIteration:
                    return
                await self._send(sse_message(event))
                pending = asyncio.ensure_future(anext(events))
        finally:
            for task in (pending, closed):
                task.cancel()
            await asyncio.gather(pending, closed, return_exceptions=True)
            await events.aclose()  # type: ignore[attr-defined]

    async def _send(self, text: str) -> None:
        self.write(text)
        await self.flush()

    def on_connection_close(self) -> None:
        if hasattr(self, "_closed"):
            self._closed.set()
