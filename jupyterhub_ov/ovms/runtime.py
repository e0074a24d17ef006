"""One model version in the OpenVINO runtime: its file found in the version directory,
read, reshaped as ``--shape``/``--batch_size``/``--layout`` say, compiled on the target
device with the plugin config, and ``nireq`` infer requests to run it with.

Reading and compiling block (seconds for big models): `load_version` is called in a thread.
`CompiledVersion.infer` waits for a free infer request and runs it asynchronously in
OpenVINO's own threads (``start_async``; its callback wakes the event loop): no Python thread
per request.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import openvino as ov
from kserve.utils.numpy_codec import from_np_dtype

from .config import ModelConfig

#: one Core per process: it caches plugins (the CPU plugin loads once)
_CORE: ov.Core | None = None


class LoadError(Exception):
    """A version that cannot be served: no model file, or one OpenVINO cannot read."""


def core() -> ov.Core:
    global _CORE
    if _CORE is None:
        _CORE = ov.Core()
    return _CORE


def model_file(directory: Path) -> Path:
    """The version's model: an IR (``.xml`` with its ``.bin``, ``model.xml`` first) or an
    ONNX file, as OVMS looks for them."""
    xml = sorted(directory.glob("*.xml"), key=lambda p: (p.name != "model.xml", p.name))
    for candidate in xml:
        if candidate.with_suffix(".bin").is_file():
            return candidate
    onnx = sorted(directory.glob("*.onnx"))
    if onnx:
        return onnx[0]
    found = ", ".join(sorted(p.name for p in directory.iterdir())) or "nothing"
    raise LoadError(f"no model file (.xml with .bin, or .onnx) in {directory}: {found}")


def _dims(text: str) -> list[int]:
    return [int(d) for d in re.findall(r"-?\d+", text)]


def _reshape(model: ov.Model, config: ModelConfig) -> None:
    """``--shape`` "(1,3)" / "[1,3]" / ``{"input": "(1,3)"}`` / "auto"; ``--batch_size`` N;
    ``--layout`` "NC" or ``{"input": "NC"}``."""
    layout = config.layout.strip()
    if layout:
        per_input = json.loads(layout) if layout.startswith("{") else None
        for port in model.inputs:
            wanted = per_input.get(port.get_any_name()) if per_input else layout
            if wanted:
                port.get_node().set_layout(ov.Layout(str(wanted).split(":")[0]))
    shape = config.shape.strip()
    if shape and shape != "auto":
        if shape.startswith("{"):
            given = {name: _dims(str(dims)) for name, dims in json.loads(shape).items()}
            model.reshape({name: ov.PartialShape(dims) for name, dims in given.items()})
        else:
            model.reshape(ov.PartialShape(_dims(shape)))
    batch = config.batch_size.strip()
    if batch and batch != "auto":
        ov.set_batch(model, int(batch))


def _tensor(port: Any, fallback: str) -> dict[str, Any]:
    names = sorted(port.get_names())
    dims = [d.get_length() if d.is_static else -1 for d in port.get_partial_shape()]
    datatype = from_np_dtype(port.get_element_type().to_dtype())
    return {"name": names[0] if names else fallback, "datatype": datatype, "shape": dims}


@dataclass
class CompiledVersion:
    """A compiled model version and its pool of infer requests."""

    version: int
    compiled: Any
    inputs: list[dict[str, Any]]
    outputs: list[dict[str, Any]]
    pool: asyncio.Queue[Any] | None = None
    size: int = 1

    def _requests(self) -> asyncio.Queue[Any]:
        if self.pool is None:  # made in the event loop that serves it
            self.pool = asyncio.Queue()
            for _ in range(self.size):
                self.pool.put_nowait(self.compiled.create_infer_request())
        return self.pool

    async def infer(self, arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The outputs by name for input arrays by name (one infer request, run by
        OpenVINO's threads while the loop serves others)."""
        pool = self._requests()
        request = await pool.get()
        try:
            loop = asyncio.get_running_loop()
            done: asyncio.Future[None] = loop.create_future()

            def finished(_: Any) -> None:  # in an OpenVINO thread
                loop.call_soon_threadsafe(_settle, done)

            request.set_callback(finished, None)
            request.start_async(dict(arrays))
            await done
            request.wait()  # done already: raises what the inference raised, if anything
            return {
                spec["name"]: np.array(request.get_tensor(port).data)
                for spec, port in zip(self.outputs, self.compiled.outputs, strict=True)
            }
        finally:
            pool.put_nowait(request)


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def load_version(directory: Path, version: int, config: ModelConfig) -> CompiledVersion:
    """Read and compile the model in ``directory`` (blocking). LoadError if it cannot be."""
    path = model_file(directory)
    try:
        model = core().read_model(str(path))
        _reshape(model, config)
        plugin = {
            k: v if isinstance(v, str) else json.dumps(v) for k, v in config.plugin_config.items()
        }
        compiled = core().compile_model(model, config.target_device, plugin)
    except (RuntimeError, ValueError, TypeError) as e:
        raise LoadError(f"cannot load {path}: {str(e).strip().splitlines()[0]}") from e
    size = config.nireq or int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS") or 1)
    return CompiledVersion(
        version=version,
        compiled=compiled,
        inputs=[_tensor(p, f"input_{i}") for i, p in enumerate(compiled.inputs)],
        outputs=[_tensor(p, f"output_{i}") for i, p in enumerate(compiled.outputs)],
        size=max(1, size),
    )
