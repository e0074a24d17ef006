"""OpenVINO ``Notebook`` records in the build service's database (one JSON row per name).

A record is what the service knows of one Notebook: the operator's parameters, what it
fills in (``commit``, ``latest_update_date``, ``build_date``), the tags it published, the
build in flight and the last outcome. It lives in the same database as the builds (the
table is created when the service's `Database` starts).
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import DateTime, String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from jupyterhub_ov.database import Base, Database

from .record import NotebookRecord, record_from_json


class _Notebook(Base):
    __tablename__ = "openvino_notebooks"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[str] = mapped_column(Text)
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class NotebookStore:
    """Async reads and writes of `NotebookRecord` rows in the service's `Database`."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def save(self, record: NotebookRecord) -> None:
        text = json.dumps(record.to_json())

        def work(session: Session) -> None:
            session.merge(_Notebook(name=record.name, data=text, updated=record.updated))

        await self._db.write(work)

    async def delete(self, name: str) -> None:
        def work(session: Session) -> None:
            session.execute(delete(_Notebook).where(_Notebook.name == name))

        await self._db.write(work)

    async def all(self) -> list[NotebookRecord]:
        def work(session: Session) -> list[NotebookRecord]:
            rows = session.scalars(select(_Notebook).order_by(_Notebook.name))
            return [record_from_json(json.loads(row.data)) for row in rows]

        return await self._db.read(work)
