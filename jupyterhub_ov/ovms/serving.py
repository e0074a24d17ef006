"""The kserve SDK's side: a `kserve.Model` per served model (all its versions behind it)
and a `DataPlane` that answers as OpenVINO Model Server does.

kserve 0.21 does not route model versions (its endpoints refuse ``/versions/{v}``): the
REST app rewrites ``/v2/models/{name}/versions/{v}/...`` to ``/v2/models/{name}/...`` and
puts the version in `REQUESTED_VERSION` (see `server`); gRPC requests carry it in
``model_version``. What differs from kserve's own answers: the server's name ("OpenVINO
Model Server") and version, the platform ("OpenVINO"), a model's ``versions``, and server
readiness (every model has an available version).
"""

from __future__ import annotations

import contextvars
import uuid
from typing import Any

import numpy as np
from kserve import Model
from kserve.errors import InvalidInput, ModelNotFound, ModelNotReady
from kserve.protocol.dataplane import DataPlane
from kserve.protocol.infer_type import InferOutput, InferRequest, InferResponse
from kserve.utils.numpy_codec import from_np_dtype

from . import state
from .repository import ModelVersions, Repository
from .runtime import CompiledVersion

SERVER_NAME = "OpenVINO Model Server"
SERVER_VERSION = "2026.4.1"
PLATFORM = "OpenVINO"
#: the version a REST request's path names (None: the newest available)
REQUESTED_VERSION: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "requested_version", default=None
)


def parse_version(text: str | None) -> int | None:
    """A requested version: None for none (or "", as gRPC sends none); ModelNotFound-like
    InvalidInput for a non-number."""
    if not text:
        return None
    if not text.isdigit():
        raise InvalidInput(f"the model version {text!r} is not a number")
    return int(text)


class OpenVINOModel(Model):
    """All versions of one served model; requests go to the one they name or the newest."""

    def __init__(self, versions: ModelVersions) -> None:
        super().__init__(versions.name)
        self.versions = versions
        self.ready = True  # registered with kserve; `healthy` says whether it can serve

    def load(self) -> bool:
        return True

    async def healthy(self) -> bool:
        """Whether any version is available; for a request naming a version that is not,
        ModelNotFound (404, as OVMS answers)."""
        requested = REQUESTED_VERSION.get()
        if requested:
            self.serving(requested)
        return self.versions.version() is not None

    def serving(self, requested: str | None = None) -> CompiledVersion:
        number = parse_version(requested if requested is not None else REQUESTED_VERSION.get())
        compiled = self.versions.version(number)
        if compiled is None:
            if number is None:
                raise ModelNotReady(self.name, "no version of it is available")
            raise ModelNotFound(f"{self.name} version {number}")
        return compiled

    async def predict(
        self, payload: InferRequest, headers: dict[str, str] | None = None
    ) -> InferResponse:
        if not isinstance(payload, InferRequest):
            raise InvalidInput("an inference request of the KServe v2 protocol is expected")
        compiled = self.serving(payload.model_version or None)
        arrays = _inputs(payload, compiled)
        try:
            results = await compiled.infer(arrays)
        except (RuntimeError, ValueError, TypeError) as e:
            raise InvalidInput(f"inference failed: {str(e).strip().splitlines()[0]}") from e
        binary = payload.use_binary_outputs
        outputs = []
        for name, array in results.items():
            output = InferOutput(name, list(array.shape), from_np_dtype(array.dtype))
            output.set_data_from_numpy(array, binary_data=binary)
            outputs.append(output)
        return InferResponse(
            response_id=payload.id or str(uuid.uuid4()),
            model_name=self.name,
            model_version=str(compiled.version),
            infer_outputs=outputs,
            use_binary_outputs=binary,
        )


def _inputs(payload: InferRequest, compiled: CompiledVersion) -> dict[str, np.ndarray]:
    """The request's arrays by the model's input names; InvalidInput when they do not fit."""
    expected = {spec["name"]: spec for spec in compiled.inputs}
    given = {i.name: i for i in payload.inputs}
    if set(given) != set(expected):
        raise InvalidInput(
            f"the model's inputs are {sorted(expected)}, the request has {sorted(given)}"
        )
    arrays = {}
    for name, tensor in given.items():
        spec = expected[name]
        if tensor.datatype != spec["datatype"]:
            raise InvalidInput(
                f"input {name}: datatype {tensor.datatype}, the model expects {spec['datatype']}"
            )
        shape = list(tensor.shape)
        fits = len(shape) == len(spec["shape"]) and all(
            want in (-1, have) for want, have in zip(spec["shape"], shape, strict=True)
        )
        if not fits:
            raise InvalidInput(f"input {name}: shape {shape}, the model expects {spec['shape']}")
        try:
            arrays[name] = tensor.as_numpy()
        except (ValueError, TypeError) as e:
            raise InvalidInput(f"input {name}: {e}") from e
    return arrays


class OpenVINODataPlane(DataPlane):  # type: ignore[misc]
    """kserve's data plane with OpenVINO Model Server's names, versions and readiness."""

    def __init__(self, repository: Repository, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.repository = repository
        self._server_name = SERVER_NAME
        self._server_version = SERVER_VERSION

    async def ready(self) -> bool:
        return self.repository.ready()

    async def model_metadata(self, model_name: str) -> dict[str, Any]:
        model = self.get_model_from_registry(model_name)
        if not isinstance(model, OpenVINOModel):
            raise ModelNotFound(model_name)
        compiled = model.serving()
        available = [
            str(s.version) for s in model.versions.statuses() if s.state == state.AVAILABLE
        ]
        return {
            "name": model_name,
            "versions": available,
            "platform": PLATFORM,
            "inputs": compiled.inputs,
            "outputs": compiled.outputs,
        }
