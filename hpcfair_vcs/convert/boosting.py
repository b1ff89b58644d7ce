"""XGBoost and LightGBM models to ONNX with onnxmltools, from their own safe formats.

XGBoost's ``.json``/``.ubj`` and LightGBM's text model files hold trees and
numbers, no code: they are loaded with the libraries' own readers, never with
pickle. Which files are theirs is told from the first bytes (a ``.json`` may be
anything), without importing the library. Classifiers give a label and the
class probabilities, as scikit-learn's do (no ZipMap); regressors their value.

Both libraries' C++ readers crash the process (a segmentation fault, an abort)
on a corrupt file: a child index out of range, a truncated tree. So a file is
first loaded and run on one row in a child process (``probe``), bounded in time
and memory; only a file that passed is loaded here.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import proc
from ..errors import CommandFailedError, ConversionError, ModelLoadError, describe
from ..fileio.files import open_regular
from ..onnx_io.signature import BATCH, TensorSpec
from .base import ConvertOptions, Converter

SNIFF_BYTES = 4096
PROBE_TIMEOUT = 120.0  # s
PROBE_MEMORY = 4 << 30  # bytes of address space the probing child may use
_PROBE = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[3]), int(sys.argv[3])))
import numpy as np
if sys.argv[1] == "xgboost":
    import xgboost
    booster = xgboost.Booster(model_file=sys.argv[2])
    booster.predict(xgboost.DMatrix(np.zeros((1, booster.num_features()), dtype=np.float32)))
else:
    import lightgbm
    booster = lightgbm.Booster(model_file=sys.argv[2])
    booster.predict(np.zeros((1, booster.num_feature())))
"""


def probe(library: str, path: Path) -> None:
    """Load *path* with *library* and predict one row in a child process.

    Raises:
        ModelLoadError: the child failed, crashed or ran out of time or memory.
    """
    try:
        proc.run([sys.executable, "-c", _PROBE, library, os.fspath(path), str(PROBE_MEMORY)],
                 timeout=PROBE_TIMEOUT, what=library)
    except CommandFailedError as exc:
        if exc.returncode < 0 and exc.returncode != -1:
            why = f"{library} crashed reading it ({signal.Signals(-exc.returncode).name})"
        else:
            raised = [line for line in exc.stderr.splitlines() if re.match(r"[\w.]+(Error|Exception): ", line)]
            why = raised[-1].split(": ", 1)[1] if raised else exc.message
            why = re.sub(r"^\[[\d:]+\] \S+: ", "", why).strip(" :")[:300]  # xgboost's "[time] file.cc:12: "
        raise ModelLoadError(f"cannot read {path.name} as a {library} model: {why}",
                             hint="the file is corrupt or not a model file; save it again from the library") from None


def head(path: Path) -> bytes:
    """The first bytes of a regular file (b"" for anything else)."""
    try:
        fd, _ = open_regular(path, None)
    except OSError:
        return b""
    try:
        return os.read(fd, SNIFF_BYTES)
    finally:
        os.close(fd)


@dataclass
class LoadedBooster:
    model: Any  # XGBClassifier/XGBRegressor, or a lightgbm.Booster
    classifier: bool
    features: int


class XGBoostConverter(Converter):
    name = "xgboost"
    modules = ("xgboost", "onnxmltools")
    extra = "xgboost"
    packages = ("xgboost", "xgboost-cpu", "onnxmltools", "onnx", "onnxruntime")
    suffixes = (".json", ".ubj")

    def matches(self, path: Path) -> bool:
        if path.suffix.lower() not in self.suffixes:
            return False
        start = head(path)
        return b"learner" in start and (start.lstrip().startswith(b"{"))

    def load(self, path: Path, options: ConvertOptions) -> LoadedBooster:
        probe("xgboost", path)
        import xgboost

        try:
            booster = xgboost.Booster(model_file=str(path))
            objective = json.loads(booster.save_config())["learner"]["objective"]["name"]
        except Exception as exc:  # noqa: BLE001 - xgboost raises its own XGBoostError, json errors
            raise ModelLoadError(f"cannot read {path.name} as an XGBoost model: {describe(exc)}") from None
        classifier = objective.startswith(("binary:", "multi:"))
        model = xgboost.XGBClassifier() if classifier else xgboost.XGBRegressor()
        model.load_model(str(path))
        return LoadedBooster(model, classifier, int(booster.num_features()))

    def input_specs(self, model: LoadedBooster, options: ConvertOptions) -> list[TensorSpec]:
        return options.inputs or [TensorSpec("X", [BATCH, model.features], "float32")]

    def export(self, model: LoadedBooster, inputs: list[TensorSpec], options: ConvertOptions, out: Path) -> None:
        from onnxmltools import convert_xgboost

        proto = _convert(convert_xgboost, model.model, inputs, options, "XGBoost")
        out.write_bytes(proto.SerializeToString())

    def run(self, model: LoadedBooster, feeds: dict[str, Any], output_names: list[str]) -> list[Any]:
        data = next(iter(feeds.values()))
        if model.classifier:
            return [model.model.predict(data), model.model.predict_proba(data)]
        return [model.model.predict(data)]


class LightGBMConverter(Converter):
    name = "lightgbm"
    modules = ("lightgbm", "onnxmltools")
    extra = "lightgbm"
    packages = ("lightgbm", "onnxmltools", "onnx", "onnxruntime")
    suffixes = (".txt", ".lgb", ".lightgbm")

    def matches(self, path: Path) -> bool:
        if path.suffix.lower() not in self.suffixes:
            return False
        start = head(path)
        return start.startswith(b"tree\n") and b"version=" in start

    def load(self, path: Path, options: ConvertOptions) -> LoadedBooster:
        probe("lightgbm", path)
        import lightgbm

        try:
            booster = lightgbm.Booster(model_file=str(path))
        except Exception as exc:  # noqa: BLE001 - lightgbm raises LightGBMError, OSError
            raise ModelLoadError(f"cannot read {path.name} as a LightGBM model: {describe(exc)}") from None
        objective = str(booster.dump_model(num_iteration=0).get("objective", ""))
        return LoadedBooster(booster, objective.startswith(("binary", "multiclass")), int(booster.num_feature()))

    def input_specs(self, model: LoadedBooster, options: ConvertOptions) -> list[TensorSpec]:
        return options.inputs or [TensorSpec("X", [BATCH, model.features], "float32")]

    def export(self, model: LoadedBooster, inputs: list[TensorSpec], options: ConvertOptions, out: Path) -> None:
        from onnxmltools import convert_lightgbm

        proto = _convert(convert_lightgbm, model.model, inputs, options, "LightGBM", zipmap=False)
        out.write_bytes(proto.SerializeToString())

    def run(self, model: LoadedBooster, feeds: dict[str, Any], output_names: list[str]) -> list[Any]:
        import numpy as np

        values = np.asarray(model.model.predict(next(iter(feeds.values()))))
        if not model.classifier:
            return [values]
        probabilities = np.column_stack([1 - values, values]) if values.ndim == 1 else values
        return [probabilities.argmax(axis=1), probabilities]


def _convert(convert: Any, model: Any, inputs: list[TensorSpec], options: ConvertOptions, what: str,
             **extra: Any) -> Any:
    from onnxmltools.convert.common.data_types import FloatTensorType
    from onnxmltools.convert.common.onnx_ex import get_maximum_opset_supported

    if len(inputs) != 1 or inputs[0].dtype != "float32":
        raise ConversionError(f"an {what} model takes one float32 input", hint="--input X:N,FEATURES:float32")
    types = [(inputs[0].name, FloatTensorType([None if isinstance(d, str) else d for d in inputs[0].shape]))]
    try:
        # onnxmltools writes opsets up to its own maximum (15 in 1.16): tree ensembles need no newer one
        opset = min(options.opset, get_maximum_opset_supported())
        proto = convert(model, initial_types=types, target_opset=opset, **extra)
    except Exception as exc:  # noqa: BLE001 - unsupported objectives and options
        raise ConversionError(f"onnxmltools cannot convert this {what} model: {describe(exc)}") from None
    for output in proto.graph.output:  # one row per input row; onnxmltools declares LightGBM's label as [1]
        dims = output.type.tensor_type.shape.dim
        if dims:
            dims[0].Clear()
            dims[0].dim_param = BATCH
    return proto
