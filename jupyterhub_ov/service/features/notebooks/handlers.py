"""The REST API of OpenVINO notebook images: thin handlers over `NotebookController`.

A body is shaped like the operator's ``Notebook`` resource::

    {"metadata": {"name": "v2024"},
     "spec": {"git_ref": "main", "auto_update_image": true, "reconcile_duration_multiplier": 120}}

Every spec key is optional (the operator's defaults apply).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from jupyterhub_ov.errors import NotFound
from jupyterhub_ov.service.web.base import ApiError, BaseHandler, domain_errors

from .controller import NotebookController


@contextmanager
def notebook_errors(name: str = "") -> Iterator[None]:
    try:
        with domain_errors("notebook"):
            try:
                yield
            except NotFound:
                raise ApiError(404, f"No notebook {name!r}.") from None
    except ApiError as e:
        if e.status_code == 422 and e.problems is not None:
            raise ApiError(422, "The notebook request is invalid.", e.problems) from None
        raise


class NotebookBase(BaseHandler):
    @property
    def notebooks(self) -> NotebookController:
        # the feature starts its controller before the service listens
        controller: NotebookController = getattr(self.feature, "controller")  # noqa: B009
        return controller

    def body(self) -> tuple[Any, Any]:
        body = self.json_body()
        if not isinstance(body, Mapping):
            raise ApiError(422, "The notebook request is invalid.", ["it must be a JSON object"])
        unknown = sorted(set(body) - {"metadata", "spec"})
        meta = body.get("metadata")
        if not isinstance(meta, Mapping) or unknown:
            problems = [f"unknown keys {unknown}"] if unknown else []
            if not isinstance(meta, Mapping):
                problems.append("metadata must be an object with the name")
            raise ApiError(422, "The notebook request is invalid.", problems)
        return meta.get("name"), body.get("spec")


class NotebooksHandler(NotebookBase):
    """``GET``: the notebooks; ``POST``: a new one (its first build starts at once)."""

    body_name = "notebook"

    async def get(self) -> None:
        self.require_read()
        self.write_json({"notebooks": [r.to_json() for r in self.notebooks.list()]})

    async def post(self) -> None:
        self.require_write()
        name, spec = self.body()
        with notebook_errors(str(name)):
            record = await self.notebooks.create(name, spec, creator=self.user_name)
        self.set_header("Location", f"{self.ctx.prefix}api/notebooks/{record.name}")
        self.write_json(record.to_json(), 201)


class NotebookHandler(NotebookBase):
    async def get(self, name: str) -> None:
        self.require_read()
        with notebook_errors(name):
            record = self.notebooks.get(name)
        self.write_json(record.to_json())

    async def delete(self, name: str) -> None:
        """Stop keeping the image built; the images and builds stay."""
        self.require_write()
        self.take_no_body()
        with notebook_errors(name):
            await self.notebooks.delete(name)
        self.set_status(204)
        self.finish()


class CheckHandler(NotebookBase):
    """``POST``: compare the branch head now and build if it moved (or nothing is built)."""

    async def post(self, name: str) -> None:
        self.require_write()
        self.take_no_body()
        with notebook_errors(name):
            record = await self.notebooks.check(name)
        self.write_json(record.to_json())
