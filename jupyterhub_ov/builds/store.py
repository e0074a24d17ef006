"""Build records in SQL (SQLAlchemy; SQLite by default, any SQLAlchemy URL by configuration).

Two tables: ``builds`` (one row per build: the request, the current phase, what it resolved
to and published) and ``build_events`` (the build's story, numbered per build: every phase
transition with its time and message, and every log line). Event numbers are what the live
stream's ``id:`` fields carry, so a client that reconnects resumes where it left off.

The tables live in the service's `Database` (its threads keep the event loop from waiting on
the database).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..database import Base, Database
from .model.phases import TERMINAL, Phase, Transition
from .model.records import (
    BuildEvent,
    BuildRecord,
    aware,
    request_from_dict,
    request_to_dict,
    resolved_from_json,
    resolved_to_json,
)

__all__ = ["BuildEvent", "BuildRecord", "BuildStore"]

T = TypeVar("T")


class _Build(Base):
    __tablename__ = "builds"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    build_type: Mapped[str] = mapped_column(String(32))
    creator: Mapped[str] = mapped_column(String(255))
    request: Mapped[str] = mapped_column(Text)
    request_key: Mapped[str] = mapped_column(String(64), index=True)
    backend: Mapped[str] = mapped_column(String(32))
    phase: Mapped[str] = mapped_column(String(16), index=True)
    message: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved: Mapped[str | None] = mapped_column(Text, nullable=True)
    image: Mapped[str] = mapped_column(String(128), default="")
    reference: Mapped[str] = mapped_column(Text, default="")
    python_version: Mapped[str] = mapped_column(String(32), default="")
    packages: Mapped[str] = mapped_column(Text, default="[]")
    backend_ref: Mapped[str] = mapped_column(Text, default="")
    retry_of: Mapped[str] = mapped_column(String(32), default="")


class _Event(Base):
    __tablename__ = "build_events"
    __table_args__ = (Index("ix_build_events_build_seq", "build_id", "seq", unique=True),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    build_id: Mapped[str] = mapped_column(String(32), ForeignKey("builds.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(8))  # "phase" | "log"
    phase: Mapped[str | None] = mapped_column(String(16), nullable=True)
    text: Mapped[str] = mapped_column(Text, default="")


def _record(row: _Build) -> BuildRecord:
    request = request_from_dict(json.loads(row.request))
    return BuildRecord(
        id=row.id,
        request=request,
        backend=row.backend,
        phase=Phase(row.phase),
        message=row.message,
        created=aware(row.created),
        updated=aware(row.updated),
        resolved=resolved_from_json(request, json.loads(row.resolved) if row.resolved else None),
        image=row.image,
        reference=row.reference,
        python_version=row.python_version,
        packages=json.loads(row.packages or "[]"),
        backend_ref=row.backend_ref,
        retry_of=row.retry_of,
    )


def _event(row: _Event) -> BuildEvent:
    phase = Phase(row.phase) if row.phase else None
    return BuildEvent(row.seq, aware(row.at), row.kind, row.text, phase)


#: columns `BuildStore.update` may set, and how a value is stored
_FIELDS: dict[str, Callable[[Any], Any]] = {
    "message": str,
    "image": str,
    "reference": str,
    "python_version": str,
    "packages": json.dumps,
    "backend_ref": str,
    "resolved": lambda r: json.dumps(resolved_to_json(r)),
}


class BuildStore:
    """Async access to build records; ``await store.start()`` creates missing tables.

    ``BuildStore(url)`` has a `Database` of its own; ``BuildStore(database)`` shares the
    service's, which its owner starts and closes (this store's start and close then do
    nothing to it)."""

    def __init__(self, database: Database | str) -> None:
        self._owned = isinstance(database, str)
        self.database = Database(database) if isinstance(database, str) else database
        self.url = self.database.url
        self._write = self.database.write
        self._read = self.database.read

    async def start(self) -> None:
        if self._owned:
            await self.database.start()

    async def close(self) -> None:
        if self._owned:
            await self.database.close()

    # -- writes --------------------------------------------------------------------------

    async def create(self, record: BuildRecord, first: Transition) -> None:
        row = _Build(
            id=record.id,
            name=record.request.name,
            build_type=record.request.build_type,
            creator=record.request.creator,
            request=json.dumps(request_to_dict(record.request)),
            request_key=record.request.key,
            backend=record.backend,
            phase=str(first.phase),
            message=first.message,
            created=record.created,
            updated=first.at,
            retry_of=record.retry_of,
        )

        def work(session: Session) -> None:
            session.add(row)
            session.flush()  # the build row before its first event (foreign key)
            session.add(_phase_row(record.id, 1, first))

        await self._write(work)

    async def record(
        self,
        build_id: str,
        *,
        logs: Sequence[tuple[int, datetime, str]] = (),
        transition: tuple[int, Transition] | None = None,
        **fields: Any,
    ) -> None:
        """Append log lines (seq, at, text), then a transition, then set ``fields``: in one
        transaction, in that order, so a reader never sees a phase before its logs."""
        unknown = set(fields) - set(_FIELDS)
        if unknown:
            raise TypeError(f"unknown build fields {sorted(unknown)}")
        values = {k: _FIELDS[k](v) for k, v in fields.items()}
        if transition is not None:
            seq, t = transition
            values.update(phase=str(t.phase), message=t.message, updated=t.at)

        def work(session: Session) -> None:
            session.add_all(
                _Event(build_id=build_id, seq=seq, at=at, kind="log", text=text)
                for seq, at, text in logs
            )
            if transition is not None:
                session.add(_phase_row(build_id, *transition))
            if values:
                session.execute(update(_Build).where(_Build.id == build_id).values(**values))

        await self._write(work)

    async def delete(self, build_id: str) -> None:
        def work(session: Session) -> None:
            session.execute(delete(_Event).where(_Event.build_id == build_id))
            session.execute(delete(_Build).where(_Build.id == build_id))

        await self._write(work)

    # -- reads ---------------------------------------------------------------------------

    async def get(self, build_id: str) -> BuildRecord | None:
        def work(session: Session) -> BuildRecord | None:
            row = session.get(_Build, build_id)
            if row is None:
                return None
            record = _record(row)
            phases = session.scalars(
                select(_Event)
                .where(_Event.build_id == build_id, _Event.kind == "phase")
                .order_by(_Event.seq)
            )
            record.transitions = [
                Transition(Phase(e.phase or "Failure"), aware(e.at), e.text) for e in phases
            ]
            return record

        return await self._read(work)

    async def list_builds(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        phases: Iterable[Phase] = (),
        name: str | None = None,
    ) -> tuple[list[BuildRecord], int]:
        """Newest first; and the total count matching the filters."""
        wanted = [str(p) for p in phases]

        def work(session: Session) -> tuple[list[BuildRecord], int]:
            query = select(_Build)
            if wanted:
                query = query.where(_Build.phase.in_(wanted))
            if name:
                query = query.where(_Build.name == name)
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(
                query.order_by(_Build.created.desc(), _Build.id).limit(limit).offset(offset)
            )
            return [_record(r) for r in rows], total

        return await self._read(work)

    async def in_flight(self) -> list[BuildRecord]:
        records, _ = await self.list_builds(
            limit=1_000_000, phases=[p for p in Phase if p not in TERMINAL]
        )
        return sorted(records, key=lambda r: r.created)

    async def events(
        self, build_id: str, *, after: int = 0, kind: str | None = None, limit: int = 10_000
    ) -> list[BuildEvent]:
        def work(session: Session) -> list[BuildEvent]:
            query = select(_Event).where(_Event.build_id == build_id, _Event.seq > after)
            if kind:
                query = query.where(_Event.kind == kind)
            return [_event(e) for e in session.scalars(query.order_by(_Event.seq).limit(limit))]

        return await self._read(work)

    async def last_seq(self, build_id: str) -> int:
        def work(session: Session) -> int:
            found = session.scalar(select(func.max(_Event.seq)).where(_Event.build_id == build_id))
            return int(found or 0)

        return await self._read(work)


def _phase_row(build_id: str, seq: int, t: Transition) -> _Event:
    return _Event(
        build_id=build_id, seq=seq, at=t.at, kind="phase", phase=str(t.phase), text=t.message
    )
