"""Pure: what the service knows of one OpenVINO ``Notebook`` (`NotebookRecord`): the
operator's parameters, what it fills in (``commit``, ``latest_update_date``, ``build_date``),
the tags it published, the build in flight and the last outcome; and its JSON form, which
`store` keeps one row of per name."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from jupyterhub_ov.builds.model.records import aware, iso

from .model import IMAGE_NAME, NotebookParams

#: `NotebookRecord.state`
PENDING, BUILDING, READY, FAILED = "Pending", "Building", "Ready", "Failed"


@dataclass(frozen=True)
class NotebookRecord:
    params: NotebookParams
    creator: str
    created: datetime
    updated: datetime
    #: where the ``Notebook`` resource lives (cluster mode); "" for the panel and REST
    namespace: str = ""
    #: the commit the newest published image was built from
    commit: str = ""
    #: when the newest image was published (the date its tag carries)
    latest_update_date: datetime | None = None
    #: when the newest image's build started
    build_date: datetime | None = None
    #: published tags of ``openvino-notebook``, oldest first
    tags: tuple[str, ...] = ()
    #: the build running, or the last one
    build_id: str = ""
    state: str = PENDING
    message: str = ""
    #: why the last check of the branch failed ("" once a check succeeds)
    warning: str = ""
    last_check: datetime | None = None

    @property
    def name(self) -> str:
        return self.params.name

    @property
    def image(self) -> str:
        """The newest published image, ``openvino-notebook:<tag>`` ("" before the first)."""
        return f"{IMAGE_NAME}:{self.tags[-1]}" if self.tags else ""

    def to_json(self) -> dict[str, Any]:
        """The REST view, shaped like the ``Notebook`` resource (and the stored form)."""

        def date(value: datetime | None) -> str | None:
            return iso(value) if value else None

        return {
            "name": self.name,
            "namespace": self.namespace,
            "creator": self.creator,
            "created": iso(self.created),
            "updated": iso(self.updated),
            "spec": self.params.to_json(),
            "status": {
                "state": self.state,
                "message": self.message,
                "warning": self.warning,
                "commit": self.commit,
                "latest_update_date": date(self.latest_update_date),
                "build_date": date(self.build_date),
                "last_check": date(self.last_check),
                "tags": list(self.tags),
                "image": self.image,
                "build_id": self.build_id,
            },
        }


def record_from_json(data: dict[str, Any]) -> NotebookRecord:
    status = data["status"]

    def date(value: str | None) -> datetime | None:
        return aware(datetime.fromisoformat(value)) if value else None

    return NotebookRecord(
        params=NotebookParams(name=data["name"], **data["spec"]),
        creator=data["creator"],
        created=aware(datetime.fromisoformat(data["created"])),
        updated=aware(datetime.fromisoformat(data["updated"])),
        namespace=data.get("namespace", ""),
        commit=status.get("commit", ""),
        latest_update_date=date(status.get("latest_update_date")),
        build_date=date(status.get("build_date")),
        tags=tuple(status.get("tags") or ()),
        build_id=status.get("build_id", ""),
        state=status.get("state", PENDING),
        message=status.get("message", ""),
        warning=status.get("warning", ""),
        last_check=date(status.get("last_check")),
    )


def changed(record: NotebookRecord, at: datetime, **fields: Any) -> NotebookRecord:
    """``record`` with ``fields`` set and ``updated`` at ``at``."""
    return replace(record, updated=at, **fields)
