"""The parity proof: the source model and its ONNX form give the same numbers.

Both run on the same seeded random inputs (and on the user's sample input when
there is one). The numbers recorded:

- ``max_abs``: the largest ``|onnx - native|`` over every output element;
- ``max_rel``: ``max_abs`` divided by the largest ``|native|`` of that output
  (a scale-aware relative error that stays meaningful where outputs are near 0).

The conversion fails when ``max_rel`` exceeds the tolerance (default 1e-4).

A proof on outputs that do not depend on the input proves nothing (an untrained
network can answer 0.1 for every class whatever it is shown). The native
outputs that are the same for every seeded input are listed in
``constant_outputs``; when all are, and no sample was given, the proof is
recorded as ``weak`` and the commands say so, with the hint to pass a real
input (``--sample``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConversionError, ParityError
from ..onnx_io.signature import Signature, TensorSpec, concrete_shape

if TYPE_CHECKING:
    from .base import ConvertOptions, Converter

BATCH = 4
TINY = 1e-12
SAME = 1e-6  # rows of an output closer than this (relative to its largest value) count as the same


def seeded_inputs(specs: list[TensorSpec], seed: int, batch: int = BATCH) -> dict[str, Any]:
    """Reproducible inputs for *specs*: floats ~ N(0, 1), integers in [0, 10), booleans."""
    import numpy as np

    rng = np.random.default_rng(seed)
    feeds = {}
    for spec in specs:
        shape = concrete_shape(spec.shape, batch)
        if spec.dtype.startswith("float"):
            feeds[spec.name] = rng.standard_normal(shape).astype(spec.dtype)
        elif spec.dtype == "bool":
            feeds[spec.name] = rng.integers(0, 2, shape).astype(bool)
        else:
            feeds[spec.name] = rng.integers(0, 10, shape).astype(spec.dtype)
    return feeds


def sample_feeds(sample: dict[str, Any], signature: Signature) -> dict[str, Any]:
    """The user's sample, checked like any model input (names, dtypes, shapes), in the declared dtypes.

    Raises:
        InputMismatchError: the sample does not fit the model's inputs.
    """
    import numpy as np

    from ..runtime.onnx import check_inputs

    checked = check_inputs(signature, sample, source="the sample input")
    return {s.name: np.asarray(checked[s.name]).astype(s.dtype, copy=False) for s in signature.inputs}


def compare(native: list[Any], converted: list[Any]) -> tuple[float, float]:
    """(max_abs, max_rel) over matching outputs; shapes must hold the same number of values."""
    import numpy as np

    max_abs = max_rel = 0.0
    for ours, theirs in zip(converted, native):
        a = np.asarray(ours, dtype=np.float64)
        b = np.asarray(theirs, dtype=np.float64)
        if a.size != b.size:
            raise ConversionError(f"the ONNX model gives {a.size} values where the source gives {b.size}")
        a, b = a.reshape(-1), b.reshape(-1)
        if a.size == 0:
            continue
        diff = float(np.max(np.abs(a - b)))
        max_abs = max(max_abs, diff)
        max_rel = max(max_rel, diff / max(float(np.max(np.abs(b))), TINY))
    return max_abs, max_rel


def is_constant(values: Any) -> bool:
    """Whether every row of *values* (one per seeded input) is the same as the first."""
    import numpy as np

    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 0 or array.shape[0] < 2:
        return False  # no batch to compare along
    spread = float(np.max(np.abs(array - array[:1]))) if array.size else 0.0
    return spread <= SAME * max(float(np.max(np.abs(array))) if array.size else 0.0, TINY)


def check(converter: "Converter", model: Any, onnx_path: Path, signature: Signature,
          options: "ConvertOptions") -> dict[str, Any]:
    """Run both models and compare; return the numbers for the provenance record.

    Raises:
        ParityError: the relative difference exceeds ``options.tolerance``.
        ConversionError: the two models disagree on how many values they return.
    """
    from ..runtime.onnx import cpu_session

    session = cpu_session(Path(onnx_path))
    names = [o.name for o in session.get_outputs()]
    cases = [("seeded", seeded_inputs(signature.inputs, options.seed))]
    if options.sample:
        cases.append(("sample", sample_feeds(options.sample, signature)))
    max_abs = max_rel = 0.0
    constant: list[str] = []
    for label, feeds in cases:
        native = converter.run(model, feeds, names)
        converted = session.run(names, feeds)
        case_abs, case_rel = compare(native, converted)
        max_abs, max_rel = max(max_abs, case_abs), max(max_rel, case_rel)
        if label == "seeded":
            constant = [name for name, values in zip(names, native) if is_constant(values)]
    numbers = {"max_abs": max_abs, "max_rel": max_rel, "tolerance": options.tolerance, "seed": options.seed,
               "batch": BATCH, "inputs": [label for label, _ in cases], "outputs": len(names),
               "constant_outputs": constant, "weak": bool(names) and len(constant) == len(names) and not options.sample}
    if max_rel > options.tolerance:
        raise ParityError(f"the ONNX model differs from the {converter.name} model: max relative difference "
                          f"{max_rel:.3g} (max absolute {max_abs:.3g}) exceeds the tolerance {options.tolerance:g}")
    return numbers
