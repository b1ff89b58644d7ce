"""Smaller or faster ONNX models: dynamic int8 quantization and onnxruntime's offline graph optimization.

Both read a tidy model (one opset entry per domain: onnxruntime's quantizer
fails on duplicates, DESIGN.md section 8) and write a new file; the caller
compares it with the float model on seeded inputs.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..onnx_io import onnx_file
from ..errors import ConversionError, UsageError, describe

QUANTIZATIONS = ("dynamic-int8",)


def optimize(source: Path, out: Path, work: Path, quantize: str | None, graph_opt: bool) -> None:
    """Write the optimized form of *source* to *out* (*work* is a scratch folder).

    Raises:
        UsageError: nothing asked for, or an unknown quantization.
        ConversionError: onnxruntime cannot quantize or optimize the model.
    """
    if not quantize and not graph_opt:
        raise UsageError("nothing to do", hint="pass --quantize dynamic-int8 and/or --graph-opt")
    if quantize and quantize not in QUANTIZATIONS:
        raise UsageError(f"unknown quantization {quantize!r}", hint=f"use one of {', '.join(QUANTIZATIONS)}")
    current = work / "tidy.onnx"
    model = onnx_file.load(source)
    onnx_file.dedupe_opsets(model)
    onnx_file.save(model, current)
    if quantize:
        current = _quantize_dynamic(current, work / "quantized.onnx")
    if graph_opt:
        current = _graph_optimize(current, work / "optimized.onnx")
    os.replace(current, out)


def _quantize_dynamic(source: Path, out: Path) -> Path:
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantizer logs advice through the root logger
    try:
        quantize_dynamic(os.fspath(source), os.fspath(out), weight_type=QuantType.QInt8)
    except Exception as exc:  # noqa: BLE001 - the quantizer raises many types
        raise ConversionError(f"onnxruntime cannot quantize the model: {describe(exc)}") from None
    finally:
        root.setLevel(level)
    return out


def _graph_optimize(source: Path, out: Path) -> Path:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = os.fspath(out)
    try:
        ort.InferenceSession(os.fspath(source), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001
        raise ConversionError(f"onnxruntime cannot optimize the model: {describe(exc)}") from None
    return out
