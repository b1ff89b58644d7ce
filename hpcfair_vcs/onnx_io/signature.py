"""Input/output signatures: names, shapes and dtypes of a model's tensors.

A shape is a list whose items are ints (fixed) or strings (named dynamic
dimensions; ``N`` is the batch). On the command line a tensor is written
``NAME:SHAPE:DTYPE``, e.g. ``x:N,1,28,28:float32``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import UsageError

DTYPES = ("float32", "float64", "float16", "int64", "int32", "int8", "uint8", "bool")
_DIM = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OUTPUT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
BATCH = "N"

# onnx TensorProto element types -> numpy dtype names (the ones converters produce)
ONNX_DTYPES = {1: "float32", 2: "uint8", 3: "int8", 6: "int32", 7: "int64", 9: "bool", 10: "float16",
               11: "float64"}


@dataclass
class TensorSpec:
    name: str
    shape: list[int | str]
    dtype: str = "float32"

    def __str__(self) -> str:
        return f"{self.name}:{','.join(str(d) for d in self.shape)}:{self.dtype}"


@dataclass
class Signature:
    inputs: list[TensorSpec] = field(default_factory=list)
    outputs: list[TensorSpec] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> "Signature":
        return cls([TensorSpec(**t) for t in doc.get("inputs", [])],
                   [TensorSpec(**t) for t in doc.get("outputs", [])])


def parse_tensor(text: str) -> TensorSpec:
    """``NAME:SHAPE:DTYPE`` (DTYPE optional, default float32).

    Raises:
        UsageError: a malformed spec, with an example of a good one.
    """
    parts = text.split(":")
    example = "for example --input x:N,1,28,28:float32 (N is a dynamic batch dimension)"
    if len(parts) not in (2, 3) or not parts[0]:
        raise UsageError(f"--input {text!r} is not NAME:SHAPE:DTYPE", hint=example)
    name, dims = parts[0], parts[1]
    dtype = parts[2] if len(parts) == 3 else "float32"
    if dtype not in DTYPES:
        raise UsageError(f"--input {text!r}: unknown dtype {dtype!r}", hint=f"use one of {', '.join(DTYPES)}")
    shape: list[int | str] = []
    for dim in (d.strip() for d in dims.split(",")) if dims else []:
        if dim.isdigit() and int(dim) > 0:
            shape.append(int(dim))
        elif _DIM.fullmatch(dim):
            shape.append(dim)
        else:
            raise UsageError(f"--input {text!r}: {dim!r} is not a dimension", hint=example)
    return TensorSpec(name, shape, dtype)


def parse_output_name(text: str) -> str:
    """An output name for ``--output-name``: a letter or underscore, then letters, digits, ``_ . -``.

    Raises:
        UsageError: anything else (a colon would break ``--map OUT:IN``).
    """
    if not _OUTPUT_NAME.fullmatch(text):
        raise UsageError(f"--output-name {text!r} is not a tensor name",
                         hint="start with a letter or _, then letters, digits, _, . or -; e.g. --output-name z")
    return text


def from_onnx(model: Any) -> Signature:
    """The signature an ONNX model declares (initializers are not inputs)."""
    initializers = {i.name for i in model.graph.initializer}

    def spec(value: Any) -> TensorSpec:
        tensor = value.type.tensor_type
        dims: list[int | str] = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?")
                                 for d in tensor.shape.dim]
        return TensorSpec(value.name, dims, ONNX_DTYPES.get(tensor.elem_type, f"onnx:{tensor.elem_type}"))

    return Signature([spec(v) for v in model.graph.input if v.name not in initializers],
                     [spec(v) for v in model.graph.output])


def concrete_shape(shape: list[int | str], batch: int, other: int = 8) -> tuple[int, ...]:
    """A shape to draw test inputs with: the batch dimension -> *batch*, other dynamic ones -> *other*."""
    out = []
    for position, dim in enumerate(shape):
        if isinstance(dim, int) and dim > 0:
            out.append(dim)
        else:
            out.append(batch if position == 0 or dim == BATCH else other)
    return tuple(out)
