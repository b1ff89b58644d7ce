"""Tidying and checking ONNX files, whoever wrote them.

Exporters leave traps (DESIGN.md section 8): torch's dynamo exporter can write
external data (``.onnx`` + ``.onnx.data``), skl2onnx and ``onnx.compose`` can
list the default-domain opset twice (onnxruntime's quantizer then fails), and
tf2onnx names a dynamic batch dimension ``unk__6``. ``finish`` leaves one
self-contained, checked file with one opset entry per domain and the batch
dimension named ``N``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .._io import atomic_write
from ..errors import ModelLoadError, describe
from .signature import BATCH, Signature, TensorSpec, from_onnx


def load(path: Path) -> Any:
    """Load and check an ONNX file (external data included).

    Raises:
        ModelLoadError: unreadable, truncated or invalid, naming the file and the cause.
    """
    import onnx

    try:
        model = onnx.load(os.fspath(path))
        onnx.checker.check_model(model)
    except Exception as exc:  # noqa: BLE001 - protobuf and checker raise many types
        raise ModelLoadError(f"{path.name} is not a valid ONNX model: {describe(exc)}") from None
    return model


def dedupe_opsets(model: Any) -> bool:
    """Keep one opset entry per domain (the highest version); return whether any was dropped."""
    best: dict[str, int] = {}
    for entry in model.opset_import:
        best[entry.domain] = max(best.get(entry.domain, 0), entry.version)
    if len(best) == len(model.opset_import):
        return False
    del model.opset_import[:]
    for domain, version in sorted(best.items()):
        entry = model.opset_import.add()
        entry.domain, entry.version = domain, version
    return True


def name_batch_dimension(model: Any, batch_inputs: set[str] | None = None) -> None:
    """Call the first dimension ``N`` wherever it is dynamic (in *batch_inputs*, or every input, and outputs)."""
    inputs = [v for v in model.graph.input if batch_inputs is None or v.name in batch_inputs]
    for value in (*inputs, *model.graph.output):
        dims = value.type.tensor_type.shape.dim
        if dims and not dims[0].HasField("dim_value"):
            dims[0].dim_param = BATCH


def save(model: Any, path: Path) -> None:
    """Write *model* as one self-contained file (no external data), atomically."""
    atomic_write(path, model.SerializeToString(), 0o644)


def finish(path: Path, expected_inputs: list[TensorSpec] | None = None) -> Signature:
    """Make the exporter's output at *path* self-contained and tidy; return its signature.

    Raises:
        ModelLoadError: the exporter wrote something that is not a valid ONNX model.
    """
    import onnx.external_data_helper as external

    model = load(path)
    external.convert_model_from_external_data(model)  # tensors inline: one file to store
    dedupe_opsets(model)
    batch = {t.name for t in expected_inputs if t.shape and t.shape[0] == BATCH} if expected_inputs else None
    name_batch_dimension(model, batch)
    save(model, path)
    for leftover in path.parent.glob(path.name + ".data"):
        leftover.unlink()
    return from_onnx(model)
