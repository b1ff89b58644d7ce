"""Model collaboration: two ONNX models joined into one graph (``onnx.compose``).

What ``merge_models`` needs and does not do itself (DESIGN.md section 8):
equal IR versions and opsets (the older model is raised with
``onnx.version_converter``), names that cannot clash (every name is
prefixed, then the composed model's own inputs and outputs get their plain
names back where that is unambiguous), and one opset entry per domain
afterwards (onnx 1.23 writes the default domain twice). Each mapping
``OUT:IN`` is checked first: the output must exist in the first model, the
input in the second, with the same dtype and compatible shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..onnx_io.onnx_file import dedupe_opsets
from ..onnx_io.signature import Signature, TensorSpec, from_onnx
from ..errors import ConversionError, MappingError, UsageError, describe


@dataclass
class Composed:
    model: Any  # onnx.ModelProto
    signature: Signature
    ir_version: int
    opsets: dict[str, int]


def parse_map(text: str) -> tuple[str, str]:
    """``OUT:IN`` -> (OUT, IN). Raises UsageError."""
    out, sep, inp = text.partition(":")
    if not sep or not out or not inp:
        raise UsageError(f"--map {text!r} is not OUT:IN", hint="for example --map latent:z")
    return out, inp


def check_mapping(first: Signature, second: Signature, mapping: list[tuple[str, str]],
                  names: tuple[str, str] = ("first", "second")) -> None:
    """Raises MappingError unless every OUT exists in *first*, every IN in *second*, and they fit."""
    if not mapping:
        raise MappingError("no --map given: say which output of the first model feeds which input of the second")
    outputs = {t.name: t for t in first.outputs}
    inputs = {t.name: t for t in second.inputs}
    fed: set[str] = set()
    for out, inp in mapping:
        if out not in outputs:
            raise MappingError(f"{names[0]} has no output {out!r} (it has {', '.join(outputs)})")
        if inp not in inputs:
            raise MappingError(f"{names[1]} has no input {inp!r} (it has {', '.join(inputs)})")
        if inp in fed:
            raise MappingError(f"{names[1]}'s input {inp!r} is fed twice")
        fed.add(inp)
        _check_fit(outputs[out], inputs[inp], names)


def _check_fit(out: TensorSpec, inp: TensorSpec, names: tuple[str, str]) -> None:
    described = (f"{names[0]}'s output {out.name!r} is {out.dtype} [{_dims(out)}] but {names[1]}'s input "
                 f"{inp.name!r} takes {inp.dtype} [{_dims(inp)}]")
    if out.dtype != inp.dtype:
        raise MappingError(described, hint="convert one model again with matching dtypes, e.g. --input NAME:SHAPE:float32")
    if len(out.shape) != len(inp.shape) or any(
            isinstance(a, int) and isinstance(b, int) and a > 0 and b > 0 and a != b
            for a, b in zip(out.shape, inp.shape)):
        raise MappingError(described, hint="the shapes must have the same rank and equal fixed dimensions")


def _dims(spec: TensorSpec) -> str:
    return ",".join(str(d) for d in spec.shape)


def compose(first: Any, second: Any, mapping: list[tuple[str, str]], prefixes: tuple[str, str],
            names: tuple[str, str] = ("first", "second")) -> Composed:
    """Join *first* and *second* (ModelProtos) into one checked model.

    Raises:
        MappingError: a mapping that does not fit.
        ConversionError: onnx cannot align or merge the two models.
    """
    import onnx
    from onnx import compose as onnx_compose

    check_mapping(from_onnx(first), from_onnx(second), mapping, names)
    first, second = _aligned(first, second)
    try:
        a = onnx_compose.add_prefix(first, prefixes[0])
        b = onnx_compose.add_prefix(second, prefixes[1])
        io_map = [(prefixes[0] + out, prefixes[1] + inp) for out, inp in mapping]
        merged = onnx_compose.merge_models(a, b, io_map=io_map)
    except Exception as exc:  # noqa: BLE001 - onnx raises ValueError and checker errors
        raise ConversionError(f"onnx cannot merge {names[0]} and {names[1]}: {describe(exc)}") from None
    dedupe_opsets(merged)
    _restore_plain_names(merged, prefixes)
    try:
        onnx.checker.check_model(merged, full_check=True)
    except Exception as exc:  # noqa: BLE001
        raise ConversionError(f"the composed model does not pass onnx.checker: {describe(exc)}") from None
    return Composed(merged, from_onnx(merged), merged.ir_version,
                    {e.domain or "ai.onnx": e.version for e in merged.opset_import})


def _aligned(first: Any, second: Any) -> tuple[Any, Any]:
    """Copies of both models at the same IR version and default-domain opset (the higher of each)."""
    from onnx import version_converter

    models = []
    opset = max(_opset(first), _opset(second))
    ir_version = max(first.ir_version, second.ir_version)
    shared = {}
    for model in (first, second):
        for entry in model.opset_import:
            if entry.domain not in ("", "ai.onnx"):
                shared[entry.domain] = max(shared.get(entry.domain, 0), entry.version)
    for model in (first, second):
        copy = type(model)()
        copy.CopyFrom(model)
        dedupe_opsets(copy)
        if _opset(copy) != opset:
            try:
                copy = version_converter.convert_version(copy, opset)
            except Exception as exc:  # noqa: BLE001
                raise ConversionError(f"cannot raise a model from opset {_opset(copy)} to {opset}: "
                                      f"{describe(exc)}") from None
        for entry in copy.opset_import:
            if entry.domain in shared:
                entry.version = shared[entry.domain]
        copy.ir_version = ir_version
        models.append(copy)
    return models[0], models[1]


def _opset(model: Any) -> int:
    return max((e.version for e in model.opset_import if e.domain in ("", "ai.onnx")), default=0)


def _restore_plain_names(model: Any, prefixes: tuple[str, str]) -> None:
    """Give the composed model's inputs and outputs their original names when no two would collide."""
    graph = model.graph
    taken = {v.name for v in graph.input} | {v.name for v in graph.output} | {i.name for i in graph.initializer}
    taken |= {name for node in graph.node for name in (*node.input, *node.output)}
    renames: dict[str, str] = {}
    for value in (*graph.input, *graph.output):
        for prefix in prefixes:
            if value.name.startswith(prefix):
                plain = value.name[len(prefix):]
                if plain and plain not in taken and plain not in renames.values():
                    renames[value.name] = plain
                break
    for value in (*graph.input, *graph.output, *graph.value_info):
        value.name = renames.get(value.name, value.name)
    for node in graph.node:
        node.input[:] = [renames.get(n, n) for n in node.input]
        node.output[:] = [renames.get(n, n) for n in node.output]
