"""The kserve SDK's side: a `kserve.Model` per served model (all its versions behind it)
and a `DataPlane` that answers as OpenVINO Model Server does.

kserve 0.21 does not route model versions (its endpoints refuse ``/versions/{v}``): the
REST app rewrites ``/v2/models/{name}/versions/{v}/...`` to ``/v2/models/{name}/...`` and
puts the version in `REQUESTED_VERSION` (see `server`); gRPC requests carry it in
``model_version``. What differs from kserve's own answers: the server's name ("OpenVINO
Model Server") and version, the platform ("OpenVINO"), a model's ``versions``, and server
readiness (every model has an available version).

A REST request with binary tensors is decoded here (`binary_request`), not by kserve: its
``InferRequest.from_bytes`` turns every binary tensor into a Python list and back (most of a
196 KB image request's server time); this keeps the bytes and reads them with
``np.frombuffer``.
"""

from __future__ import annotations

import contextvars
import uuid
from typing import Any

import numpy as np
import orjson
from kserve import Model
from kserve.constants.constants import INFERENCE_CONTENT_LENGTH_HEADER
from kserve.errors import InvalidInput, ModelNotFound, ModelNotReady
from kserve.protocol.dataplane import DataPlane
from kserve.protocol.infer_type import (
    InferInput,
    InferOutput,
    InferRequest,
    InferResponse,
    RequestedOutput,
)
from kserve.utils.numpy_codec import from_np_dtype

from jupyterhub_ov.digits import is_number

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
    if not is_number(text):
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


def _binary_input(doc: dict[str, Any], body: memoryview, start: int) -> tuple[InferInput, int]:
    """One input of a binary request and where the next one's bytes start: its JSON ``data``,
    or its ``binary_data_size`` bytes from ``start`` kept as they are (``as_numpy`` reads
    them with ``np.frombuffer``)."""
    name, shape, datatype = doc.get("name"), doc.get("shape"), doc.get("datatype")
    if not (isinstance(name, str) and isinstance(datatype, str) and isinstance(shape, list)):
        raise InvalidInput("every input has a name, a shape and a datatype")
    if not all(isinstance(d, int) for d in shape):
        raise InvalidInput(f"input {name}: its shape {shape} is not a list of integers")
    parameters = doc.get("parameters") or {}
    tensor = InferInput(name, shape, datatype, None, parameters)
    if doc.get("data") is not None:
        if tensor.datatype == "FP16":
            raise InvalidInput(f"input {name}: FP16 data is only accepted in binary form")
        tensor._data = doc["data"]
        return tensor, start
    size = parameters.get("binary_data_size") if isinstance(parameters, dict) else None
    if not isinstance(size, int) or size < 0:
        raise InvalidInput(f"input {name} has neither data nor a binary_data_size")
    if start + size > len(body):
        raise InvalidInput(f"input {name}: its {size} bytes run past the end of the body")
    tensor._raw_data = body[start : start + size]
    return tensor, start + size


def binary_request(body: bytes, json_length: int, model_name: str) -> InferRequest:
    """The KServe v2 binary tensor extension's request: ``json_length`` bytes of JSON, then
    the inputs' bytes in order (InvalidInput when they do not add up)."""
    try:
        doc = orjson.loads(body[:json_length])
    except orjson.JSONDecodeError as e:
        raise InvalidInput(f"Unrecognized request format: {e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("inputs"), list):
        raise InvalidInput("an inference request needs a list of inputs")
    view, start, inputs = memoryview(body), json_length, []
    for item in doc["inputs"]:
        if not isinstance(item, dict):
            raise InvalidInput("every input of an inference request is an object")
        tensor, start = _binary_input(item, view, start)
        inputs.append(tensor)
    outputs = doc.get("outputs")
    if outputs is not None and not (
        isinstance(outputs, list) and all(isinstance(o, dict) and "name" in o for o in outputs)
    ):
        raise InvalidInput("the requested outputs are a list of objects with a name")
    return InferRequest(
        model_name=model_name,
        infer_inputs=inputs,
        request_id=doc.get("id"),
        parameters=doc.get("parameters"),
        request_outputs=None
        if outputs is None
        else [RequestedOutput(name=o["name"], parameters=o.get("parameters")) for o in outputs],
    )


class OpenVINODataPlane(DataPlane):  # type: ignore[misc]
    """kserve's data plane with OpenVINO Model Server's names, versions and readiness."""

    def __init__(self, repository: Repository, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.repository = repository
        self._server_name = SERVER_NAME
        self._server_version = SERVER_VERSION

    async def ready(self) -> bool:
        return self.repository.ready()

    def decode_inference_request(
        self, body: Any, headers: dict[str, str], model_name: str
    ) -> InferRequest:
        length = headers.get(INFERENCE_CONTENT_LENGTH_HEADER)
        if isinstance(body, bytes) and length is not None:
            if not is_number(length) or int(length) > len(body):
                raise InvalidInput(f"{INFERENCE_CONTENT_LENGTH_HEADER} {length!r} does not fit")
            return binary_request(body, int(length), model_name)
        return super().decode_inference_request(body, headers, model_name)

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
