"""Running ONNX models with onnxruntime: one session per model per process, inputs checked, big inputs batched.

Sessions are cached by (file, size, mtime, device, threads): loading a model
twice in one process reuses the session. ``run`` checks every input against
the model's signature first (names, dtypes, shapes), then feeds the batch
dimension in slices of ``batch_size`` so memory stays bounded, writing each
slice's outputs to a sink (arrays in memory, or ``.npy`` files on disk).
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..onnx_io.signature import Signature, TensorSpec
from ..adapters.onnxruntime import binding_run
from ..errors import DeviceUnavailableError, InputMismatchError, ModelLoadError, UsageError, describe
from ..progress import Advance, ignore
from .arrays import UNNAMED, release_rows

DEVICES = ("cpu", "cuda", "auto")
DEFAULT_BATCH = 1024
_sessions: dict[tuple, "Session"] = {}


@dataclass
class Session:
    """An onnxruntime session and the signature of its model."""

    inference: Any
    signature: Signature
    device: str

    def __post_init__(self) -> None:
        import numpy as np

        self.output_names = [t.name for t in self.signature.outputs]
        # what the fast path of ``fits`` compares against, computed once
        self.input_names = frozenset(t.name for t in self.signature.inputs)
        self._memmap = np.memmap
        self._binding_run, self._provider_failure = binding_run(self.inference)
        self._expect = [(t.name, np.dtype(t.dtype), len(t.shape),
                         _fixed_tail(t.shape) if t.shape and isinstance(t.shape[0], str) else None,
                         [(i, d) for i, d in enumerate(t.shape) if isinstance(d, int) and d > 0],
                         bool(t.shape) and isinstance(t.shape[0], str)) for t in self.signature.inputs]

    def fits(self, arrays: Mapping[str, Any], batch_size: int) -> bool:
        """True when *arrays* can go to onnxruntime as they are: right names, dtypes, shapes, one batch."""
        if arrays.keys() != self.input_names:
            return False
        for name, dtype, ndim, tail, fixed, batched in self._expect:
            array = arrays[name]
            actual = getattr(array, "dtype", None)
            if actual is not dtype and actual != dtype:
                return False
            shape = array.shape
            if len(shape) != ndim or isinstance(array, self._memmap) or (batched and shape[0] > batch_size):
                return False
            if tail is not None:
                if shape[1:] != tail:
                    return False
            elif any(shape[index] != size for index, size in fixed):
                return False
        return True

    def run_fitting(self, feeds: Mapping[str, Any]) -> list[Any]:
        """Every output, in order, for feeds that ``fits`` accepted: onnxruntime's binding called directly.

        ``InferenceSession.run`` re-checks names and ownership in Python before calling the same binding;
        ``fits`` has checked more already. Only a provider failure (a CUDA error at run time) takes the
        public path, which falls back to the CPU provider as onnxruntime documents.
        """
        try:
            return self._binding_run(self.output_names, feeds, None)
        except self._provider_failure:
            return self.inference.run(self.output_names, feeds)


def _fixed_tail(shape: list[int | str]) -> tuple[int, ...] | None:
    """The dimensions after the first, when all of them are fixed (one tuple comparison then checks them)."""
    tail = shape[1:]
    return tuple(tail) if all(isinstance(d, int) and d > 0 for d in tail) else None


def session_for(path: Path, device: str = "cpu", threads: int | None = None) -> Session:
    """The cached session for *path* on *device* (``auto``: CUDA when available, else CPU with a warning).

    Raises:
        DeviceUnavailableError: ``cuda`` asked for and onnxruntime has no CUDA provider (exit 4).
        UsageError: an unknown device.
    """
    st = os.stat(path)
    key = (os.fspath(path), st.st_size, st.st_mtime_ns, device, threads)
    if key not in _sessions:
        _sessions[key] = _open(path, device, threads)
    return _sessions[key]


def _open(path: Path, device: str, threads: int | None) -> Session:
    from ..deps import need

    ort = need("onnxruntime")

    providers = _providers(device, ort.get_available_providers())
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    inference = _inference_session(ort, path, options, providers)
    signature = Signature([_spec(v) for v in inference.get_inputs()], [_spec(v) for v in inference.get_outputs()])
    return Session(inference, signature, "cuda" if providers[0].startswith("CUDA") else "cpu")


def cpu_session(model: Path | bytes) -> Any:
    """A plain onnxruntime session on the CPU, for checks and comparisons (inference uses :func:`session_for`).

    Raises:
        ModelLoadError: onnxruntime cannot load the model.
    """
    import onnxruntime as ort

    return _inference_session(ort, model, None, ["CPUExecutionProvider"])


def _inference_session(ort: Any, model: Path | bytes, options: Any, providers: list[str]) -> Any:
    try:
        return ort.InferenceSession(model if isinstance(model, bytes) else os.fspath(model), sess_options=options,
                                    providers=providers)
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own Fail, InvalidGraph, ... types
        reason = describe(re.sub(r"^\[ONNXRuntimeError\] : \d+ : \w+ : ", "", str(exc)))
        name = "the model" if isinstance(model, bytes) else Path(model).name
        raise ModelLoadError(f"onnxruntime cannot load {name}: {reason}",
                             hint="convert the model again (`hpcfair convert`); hpcfair's ONNX files are checked "
                                  "and hold no external data") from None


ORT_TYPES = {"tensor(float)": "float32", "tensor(double)": "float64", "tensor(float16)": "float16",
             "tensor(int64)": "int64", "tensor(int32)": "int32", "tensor(int8)": "int8", "tensor(uint8)": "uint8",
             "tensor(bool)": "bool"}


def _spec(value: Any) -> TensorSpec:
    """A tensor's spec from onnxruntime's description (no need to import onnx)."""
    shape = [d if isinstance(d, int) and d > 0 else (d if isinstance(d, str) and d else "?") for d in value.shape]
    return TensorSpec(value.name, shape, ORT_TYPES.get(value.type, value.type))


def _providers(device: str, available: list[str]) -> list[str]:
    if device not in DEVICES:
        raise UsageError(f"unknown device {device!r}", hint=f"use one of {', '.join(DEVICES)}")
    has_cuda = "CUDAExecutionProvider" in available
    if device == "cuda" and not has_cuda:
        raise DeviceUnavailableError("--device cuda: onnxruntime here has no CUDA execution provider "
                                     f"(it has {', '.join(available)})")
    if device == "auto" and not has_cuda:
        warnings.warn("no CUDA execution provider: running on the CPU", RuntimeWarning, stacklevel=4)
    if device in ("cuda", "auto") and has_cuda:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def check_inputs(signature: Signature, inputs: Mapping[str, Any], source: str = "the input") -> dict[str, Any]:
    """The arrays for the model's inputs, by name; cast losslessly where that is safe.

    A single unnamed array (``.npy``, ``.csv``, a bare array) feeds a model with one input.

    Raises:
        UsageError: a missing or unexpected name, an incompatible dtype, a wrong shape (exit 1).
    """
    import numpy as np

    arrays = dict(inputs)
    wanted = signature.inputs
    if len(wanted) == 1 and list(arrays) == [UNNAMED]:
        arrays = {wanted[0].name: arrays[UNNAMED]}
    names = [t.name for t in wanted]
    missing = [n for n in names if n not in arrays]
    extra = [n for n in arrays if n not in names]
    if missing or extra:
        raise InputMismatchError(
            f"{source} has arrays {sorted(arrays) or 'none'} but the model takes {names}",
            hint="name one array per model input (numpy.savez(FILE, **{name: array}))")
    checked = {}
    for spec in wanted:
        array = arrays[spec.name]
        _check_shape(spec, array.shape, source)
        checked[spec.name] = _cast(spec, array, source, np)
    batches = {a.shape[0] for a, s in zip(checked.values(), wanted) if s.shape and isinstance(s.shape[0], str)}
    if len(batches) > 1:
        raise InputMismatchError(f"{source}: the inputs have different batch sizes {sorted(batches)}")
    return checked


def _check_shape(spec: TensorSpec, shape: tuple[int, ...], source: str) -> None:
    expected = ",".join(str(d) for d in spec.shape)
    if len(shape) != len(spec.shape) or any(isinstance(d, int) and d > 0 and d != s
                                            for d, s in zip(spec.shape, shape)):
        raise InputMismatchError(f"{source}: input {spec.name!r} has shape {list(shape)}, "
                                 f"the model takes [{expected}]")


def _cast(spec: TensorSpec, array: Any, source: str, np: Any) -> Any:
    want = np.dtype(spec.dtype)
    if array.dtype == want:
        return array
    if np.can_cast(array.dtype, want, casting="same_kind") or (
            array.dtype.kind in "iu" and want.kind == "f"):
        return array  # cast per batch in ``run`` (keeps a memory-mapped file mapped)
    raise InputMismatchError(f"{source}: input {spec.name!r} is {array.dtype}, the model takes {spec.dtype}")


def batch_count(inputs: Mapping[str, Any], signature: Signature) -> int:
    """Rows along the batch dimension (1 when the model has no dynamic batch)."""
    for spec in signature.inputs:
        if spec.shape and isinstance(spec.shape[0], str):
            return int(inputs[spec.name].shape[0])
    return 0


def run(session: Session, inputs: Mapping[str, Any], batch_size: int | None = None,
        sink: Callable[[int, list[Any]], None] | None = None, on_rows: Advance = ignore) -> list[Any] | None:
    """Run the model on checked *inputs*, *batch_size* rows at a time, telling *on_rows* the rows done.

    Without a *sink*, returns the outputs concatenated in memory; with one,
    calls ``sink(start_row, outputs)`` per slice and returns None.
    """
    import numpy as np

    rows = batch_count(inputs, session.signature)
    size = batch_size or DEFAULT_BATCH
    pieces: list[list[Any]] = []
    for start, feeds in _slices(inputs, session.signature, rows, size, np):
        outputs = session.inference.run(session.output_names, feeds)
        for array in inputs.values():
            release_rows(array, start, start + size)
        if sink is None:
            pieces.append(outputs)
        else:
            sink(start, outputs)
        on_rows(min(size, rows - start) if rows else 1)
    if sink is not None:
        return None
    if len(pieces) == 1:
        return pieces[0]
    return [np.concatenate([p[i] for p in pieces]) for i in range(len(session.output_names))]


def _slices(inputs: Mapping[str, Any], signature: Signature, rows: int, size: int,
            np: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    batched = {s.name for s in signature.inputs if s.shape and isinstance(s.shape[0], str)}
    dtypes = {s.name: np.dtype(s.dtype) for s in signature.inputs}
    if rows == 0:
        yield 0, {n: np.ascontiguousarray(a, dtype=dtypes[n]) for n, a in inputs.items()}
        return
    for start in range(0, rows, size):
        yield start, {n: np.ascontiguousarray(a[start:start + size] if n in batched else a, dtype=dtypes[n])
                      for n, a in inputs.items()}
