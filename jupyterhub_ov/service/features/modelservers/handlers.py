"""The REST API of model servers: thin handlers over the feature's `ModelServerBackend`.

A body is shaped like the operator's ``ModelServer`` resource, in either spec shape::

    {"metadata": {"name": "resnet"},
     "spec": {"model_name": "resnet", "model_path": "s3://jupyter-alice/models/resnet",
              "bucket_claim": "jupyter-bucket-alice"}}

Reads need ``custom:model-servers:read`` (every user), writes ``custom:model-servers:write``
(model admins); every write is refused from the headers alone without it (`BaseHandler`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from jupyterhub_ov.errors import NotFound
from jupyterhub_ov.service.scopes import MODEL_READ_SCOPE, MODEL_WRITE_SCOPE
from jupyterhub_ov.service.web.base import ApiError, BaseHandler, domain_errors

from .backends.base import ModelServerBackend
from .backends.s3identity import IdentityUnavailable

INVALID = "The ModelServer is invalid."


@contextmanager
def server_errors(name: str = "") -> Iterator[None]:
    with domain_errors("model server"):
        try:
            yield
        except NotFound:
            raise ApiError(404, f"No model server {name!r}.") from None
        except IdentityUnavailable as e:  # the S3 service, for a server's own identity
            raise ApiError(503, f"Model server {name!r}: {e}") from None


class ModelServerBase(BaseHandler):
    read_scope = MODEL_READ_SCOPE
    write_scope = MODEL_WRITE_SCOPE

    @property
    def servers(self) -> ModelServerBackend:
        # the feature starts its backend before the service listens
        backend: ModelServerBackend = getattr(self.feature, "backend")  # noqa: B009
        return backend

    def object_body(self, allowed: set[str]) -> Mapping[str, Any]:
        body = self.json_body()
        if not isinstance(body, Mapping):
            raise ApiError(422, INVALID, ["the body must be a JSON object"])
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise ApiError(422, INVALID, [f"unknown keys {unknown}; allowed: {sorted(allowed)}"])
        return body


class ModelServersHandler(ModelServerBase):
    """``GET``: every model server; ``POST``: a new one (started at once)."""

    body_name = "model server"

    async def get(self) -> None:
        self.require_read()
        with server_errors():
            views = await self.servers.list()
        self.write_json({"modelservers": [v.to_json() for v in views]})

    async def post(self) -> None:
        self.require_write()
        body = self.object_body({"apiVersion", "kind", "metadata", "spec"})
        meta = body.get("metadata")
        if not isinstance(meta, Mapping):
            raise ApiError(422, INVALID, ["metadata must be an object with the name"])
        with server_errors(str(meta.get("name"))):
            view = await self.servers.create(meta.get("name"), body.get("spec"), by=self.user_name)
        self.set_header("Location", f"{self.ctx.prefix}api/modelservers/{view.name}")
        self.write_json(view.to_json(), 201)


class ModelServerHandler(ModelServerBase):
    async def get(self, name: str) -> None:
        self.require_read()
        with server_errors(name):
            view = await self.servers.get(name)
        self.write_json(view.to_json())

    async def delete(self, name: str) -> None:
        """Stop the server and remove everything made for it."""
        self.require_write()
        self.take_no_body()
        with server_errors(name):
            await self.servers.delete(name)
        self.set_status(204)
        self.finish()


class ScaleHandler(ModelServerBase):
    """``PUT`` (or ``POST``) ``{"replicas": n}``."""

    body_name = "scale request"

    async def put(self, name: str) -> None:
        self.require_write()
        body = self.object_body({"replicas"})
        if "replicas" not in body:
            raise ApiError(422, INVALID, ["replicas is required"])
        with server_errors(name):
            view = await self.servers.scale(name, body["replicas"])
        self.write_json(view.to_json())

    async def post(self, name: str) -> None:
        await self.put(name)
