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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..fileio.files import atomic_write
from ..errors import ConversionError, ModelLoadError, UsageError, describe
from .signature import BATCH, Signature, TensorSpec, from_onnx


def load(path: Path) -> Any:
    """Load and check a single-file ONNX model; no file beside it is read.

    Raises:
        ModelLoadError: unreadable, truncated or invalid, or its weights are in other files
            (external data: a location a model file names may lead anywhere).
    """
    import onnx
    from onnx.external_data_helper import uses_external_data

    try:
        model = onnx.load(os.fspath(path), load_external_data=False)
    except Exception as exc:  # noqa: BLE001 - protobuf raises many types
        raise ModelLoadError(f"{path.name} is not a valid ONNX model: {describe(exc)}") from None
    if any(uses_external_data(tensor) for tensor in _tensors(model.graph)):
        raise ModelLoadError(f"{path.name} keeps its weights in other files (ONNX external data), which hpcfair "
                             "does not read", hint="save it as one file: onnx.save(onnx.load(PATH), PATH, "
                                                   "save_as_external_data=False), then add it again")
    try:
        onnx.checker.check_model(model)
    except Exception as exc:  # noqa: BLE001 - the checker raises many types
        raise ModelLoadError(f"{path.name} is not a valid ONNX model: {describe(exc)}") from None
    return model


def _tensors(graph: Any) -> Any:
    """Every tensor of *graph* and its subgraphs: initializers and constant-node attributes."""
    yield from graph.initializer
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                yield attribute.t
            yield from attribute.tensors
            for sub in ([attribute.g] if attribute.HasField("g") else []) + list(attribute.graphs):
                yield from _tensors(sub)


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
        ConversionError: it left operators that ONNX does not define (tf2onnx keeps a TensorFlow
            op it has no mapping for, with a warning only).
    """
    import onnx.external_data_helper as external

    unknown = unknown_operators(path)
    if unknown:
        raise ConversionError(f"the exporter left operators that ONNX does not define: {', '.join(unknown)}",
                              hint="replace the layers or functions that use them with supported operations "
                                   "(docs/convert.md lists what converts), or try a newer --opset")
    model = load(path)
    external.convert_model_from_external_data(model)  # tensors inline: one file to store
    dedupe_opsets(model)
    batch = {t.name for t in expected_inputs if t.shape and t.shape[0] == BATCH} if expected_inputs else None
    name_batch_dimension(model, batch)
    save(model, path)
    for leftover in path.parent.glob(path.name + ".data"):
        leftover.unlink()
    return from_onnx(model)


def unknown_operators(path: Path) -> list[str]:
    """The operators of the standard domains ("" and ai.onnx.ml) in *path* that ONNX does not define."""
    import onnx
    import onnx.defs

    try:
        model = onnx.load(os.fspath(path), load_external_data=False)
    except Exception:  # noqa: BLE001 - not ONNX at all: load() says so
        return []
    standard = {"", "ai.onnx", "ai.onnx.ml"}
    return sorted({node.op_type for graph in _subgraphs(model.graph) for node in graph.node
                   if node.domain in standard and not onnx.defs.has(node.op_type, node.domain)})


def rename_outputs(path: Path, names: list[str]) -> Signature:
    """Give the model's outputs *names*, in order; return the new signature.

    Every use of an old name is renamed with it (nodes, subgraphs, value infos), so
    the graph stays valid; the numbers do not change.

    Raises:
        UsageError: not one name per output, a name given twice, or one the graph already uses.
    """
    model = load(path)
    outputs = [value.name for value in model.graph.output]
    if len(names) != len(outputs):
        raise UsageError(f"--output-name was given {len(names)} name(s) but the model has {len(outputs)} output(s) "
                         f"({', '.join(outputs)})", hint="give one --output-name per output, in order")
    if len(set(names)) != len(names):
        raise UsageError(f"--output-name {', '.join(names)}: a name is given twice",
                         hint="give each output its own name")
    renames = {old: new for old, new in zip(outputs, names) if old != new}
    taken = _value_names(model.graph) - set(renames)
    clash = sorted(set(renames.values()) & taken)
    if clash:
        raise UsageError(f"--output-name {clash[0]}: the model already has a tensor of that name",
                         hint="choose another name")
    _rename(model.graph, renames)
    save(model, path)
    return from_onnx(model)


def _subgraphs(graph: Any) -> Iterator[Any]:
    """*graph* and every graph nested in its nodes' attributes (If, Loop, Scan bodies)."""
    yield graph
    for node in graph.node:
        for attribute in node.attribute:
            for inner in (*([attribute.g] if attribute.HasField("g") else []), *attribute.graphs):
                yield from _subgraphs(inner)


def _value_names(graph: Any) -> set[str]:
    names: set[str] = set()
    for g in _subgraphs(graph):
        names.update(v.name for v in (*g.input, *g.output, *g.value_info, *g.initializer))
        for node in g.node:
            names.update(node.input)
            names.update(node.output)
    return names


def _rename(graph: Any, renames: dict[str, str]) -> None:
    for g in _subgraphs(graph):
        for value in (*g.input, *g.output, *g.value_info):
            value.name = renames.get(value.name, value.name)
        for node in g.node:
            node.input[:] = [renames.get(n, n) for n in node.input]
            node.output[:] = [renames.get(n, n) for n in node.output]
