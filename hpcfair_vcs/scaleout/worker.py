"""What a Dask worker runs: one chunk through the model, its session opened once per worker process.

A chunk that fails comes back as a :class:`ChunkFailed` (its error as one
line) instead of an exception: a bad shard fails the same way on every worker,
so Dask must not retry it; only a worker that dies has its chunks run again.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import HpcfairError, describe
from ..runtime import onnx as ort_runtime
from .plan import Chunk, StoredObject
from .reading import local_file, read_chunk


@dataclass
class ChunkDone:
    index: int
    outputs: list[Any]


@dataclass
class ChunkFailed:
    index: int
    error: str  # one line, naming the chunk
    hint: str
    worker: str


def run_chunk(model: StoredObject, chunk: Chunk, batch_size: int, threads: int | None,
              device: str = "cpu") -> ChunkDone | ChunkFailed:
    """*chunk*'s outputs in model output order, *batch_size* rows per onnxruntime call."""
    try:
        scratch = _scratch()
        session = ort_runtime.session_for(local_file(model, scratch), device, threads)
        arrays = read_chunk(chunk, local_file(chunk.shard.data, scratch))
        checked = ort_runtime.check_inputs(session.signature, arrays, source=chunk.describe())
        outputs = ort_runtime.run(session, checked, batch_size)
        return ChunkDone(chunk.index, outputs)
    except HpcfairError as exc:
        return _failed(chunk, exc.message, exc.hint)
    except Exception as exc:  # noqa: BLE001 - the worker boundary: onnxruntime's and numpy's errors as data
        return _failed(chunk, f"{type(exc).__name__}: {describe(exc)}", "")


def open_model(model: StoredObject, threads: int | None) -> str | None:
    """Open the model's session on this worker now (imports, file, session), so the first chunk does not pay
    for it; returns the error as a line, or None."""
    try:
        ort_runtime.session_for(local_file(model, _scratch()), "cpu", threads)
        return None
    except HpcfairError as exc:
        return exc.line()
    except Exception as exc:  # noqa: BLE001 - the worker boundary, as in run_chunk
        return f"{type(exc).__name__}: {describe(exc)}"


def _failed(chunk: Chunk, message: str, hint: str) -> ChunkFailed:
    named = message if message.startswith(chunk.describe()) else f"{chunk.describe()}: {message}"
    return ChunkFailed(chunk.index, named, hint, _worker_name())


def _scratch() -> Path:
    """This worker's own folder (Dask removes it with the worker), or a temporary one outside Dask."""
    try:
        from distributed import get_worker

        return Path(get_worker().local_directory) / "hpcfair-objects"
    except (ImportError, ValueError):
        return Path(tempfile.gettempdir()) / f"hpcfair-objects-{os.getpid()}"


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return f"process {os.getpid()}"
