"""A converter as a third party would write one: a linear model kept as ``W`` and ``b`` in an .npz file.

It is registered in the tests through the ``hpcfair.converters`` entry-point
group and passes the same conformance suite as the built-in converters.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from hpcfair_vcs.convert.base import ConvertOptions, Converter
from hpcfair_vcs.convert.signature import TensorSpec  # the path converter plugins were written against
from hpcfair_vcs.errors import ModelLoadError


class LinearNpzConverter(Converter):
    name = "linear-npz"
    modules = ("numpy",)
    extra = "onnx"
    suffixes = (".linnpz",)

    def load(self, path: Path, options: ConvertOptions) -> dict[str, Any]:
        import numpy as np

        try:
            with np.load(path, allow_pickle=False) as archive:
                return {"W": archive["W"], "b": archive["b"]}
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
            raise ModelLoadError(f"cannot read {path.name} as a linear model: {exc}") from None

    def input_specs(self, model: dict[str, Any], options: ConvertOptions) -> list[TensorSpec]:
        return options.inputs or [TensorSpec("x", ["N", int(model["W"].shape[0])], "float32")]

    def export(self, model: dict[str, Any], inputs: list[TensorSpec], options: ConvertOptions, out: Path) -> None:
        import onnx
        from onnx import TensorProto, helper, numpy_helper

        width = int(model["W"].shape[1])
        graph = helper.make_graph(
            [helper.make_node("MatMul", ["x", "W"], ["xw"]), helper.make_node("Add", ["xw", "b"], ["y"])],
            "linear", [helper.make_tensor_value_info("x", TensorProto.FLOAT, inputs[0].shape)],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", width])],
            [numpy_helper.from_array(model["W"], "W"), numpy_helper.from_array(model["b"], "b")])
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", options.opset)]), str(out))

    def run(self, model: dict[str, Any], feeds: dict[str, Any], output_names: list[str]) -> list[Any]:
        return [next(iter(feeds.values())) @ model["W"] + model["b"]]


def save_linear_npz(path: Path) -> Path:
    import numpy as np

    rng = np.random.default_rng(0)
    with open(path, "wb") as out:
        np.savez(out, W=rng.standard_normal((5, 2)).astype(np.float32), b=np.ones(2, np.float32))
    return path
