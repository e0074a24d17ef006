"""The service's database: one SQLAlchemy engine whose tables every part declares on `Base`
(the build engine's builds and events, each feature's own tables).

The engine is synchronous (it works with every driver); each call runs in a worker thread,
writes on one thread of their own (SQLite has one writer anyway), so the event loop never
waits on the database. ``await database.start()`` creates the missing tables of every
module imported so far: a feature's tables exist once its module is imported.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

T = TypeVar("T")


class Base(DeclarativeBase):
    """The declarative base of every table in the service's database."""


class Database:
    """Async transactions on one engine: ``await db.write(work)``, ``await db.read(work)``,
    where ``work(session)`` runs in a worker thread inside one transaction."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = create_engine(url, **_engine_options(url))
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="db-write")
        self._readers = ThreadPoolExecutor(4, thread_name_prefix="db-read")

    async def write(self, work: Callable[[Session], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._writer, self._tx, work)

    async def read(self, work: Callable[[Session], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._readers, self._tx, work)

    def _tx(self, work: Callable[[Session], T]) -> T:
        with self._session.begin() as session:
            return work(session)

    async def start(self) -> None:
        """Create the missing tables (of every module that declared some on `Base`)."""
        await asyncio.get_running_loop().run_in_executor(
            self._writer, Base.metadata.create_all, self.engine
        )

    async def close(self) -> None:
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        self.engine.dispose()


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"check_same_thread": False, "timeout": 30}}
    return {"pool_pre_ping": True}


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
