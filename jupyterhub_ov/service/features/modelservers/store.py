"""Local ModelServers in the service's database (one JSON row per name): what survives a
restart of the service. A row holds the raw spec as created (or scaled), its creator and
dates, never a credential: the model server's S3 key lives in its process's environment
only. The table is created when the service's `Database` starts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from jupyterhub_ov.database import Base, Database


@dataclass(frozen=True)
class ServerRecord:
    name: str
    spec: dict[str, Any]
    creator: str
    created: datetime
    updated: datetime


class _ModelServer(Base):
    __tablename__ = "model_servers"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[str] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def _record(row: _ModelServer) -> ServerRecord:
    data = json.loads(row.data)
    return ServerRecord(row.name, data["spec"], data["creator"], row.created, row.updated)


class ServerStore:
    """Async reads and writes of `ServerRecord` rows in the service's `Database`."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, record: ServerRecord) -> bool:
        """Store a new record; False (nothing written) if the name is taken."""
        text = json.dumps({"spec": record.spec, "creator": record.creator})

        def work(session: Session) -> bool:
            if session.get(_ModelServer, record.name) is not None:
                return False
            session.add(
                _ModelServer(
                    name=record.name, data=text, created=record.created, updated=record.updated
                )
            )
            return True

        return await self._db.write(work)

    async def save(self, record: ServerRecord) -> None:
        text = json.dumps({"spec": record.spec, "creator": record.creator})

        def work(session: Session) -> None:
            session.merge(
                _ModelServer(
                    name=record.name, data=text, created=record.created, updated=record.updated
                )
            )

        await self._db.write(work)

    async def delete(self, name: str) -> None:
        def work(session: Session) -> None:
            session.execute(delete(_ModelServer).where(_ModelServer.name == name))

        await self._db.write(work)

    async def all(self) -> list[ServerRecord]:
        def work(session: Session) -> list[ServerRecord]:
            rows = session.scalars(select(_ModelServer).order_by(_ModelServer.name))
            return [_record(row) for row in rows]

        return await self._db.read(work)
