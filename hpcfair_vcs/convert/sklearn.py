"""scikit-learn models to ONNX with skl2onnx: skops files, and pickles only when trusted.

A ``.skops`` file is loaded with ``skops.io``, which builds only the types it
trusts (scikit-learn's estimators). scikit-learn's compiled helper types that
skops rebuilds from their state without running code of the file (trees, tree
predictors, KD and ball trees, distance metrics, loss objects) are trusted too,
from ``SKLEARN_STATE_TYPES`` (checked against the installed scikit-learn by the
tests); ``--trust-type`` adds one more, and any other type is named in the
refusal. Pickle and joblib files are refused unless ``trust_pickle``: loading
one runs whatever code it contains. Classifiers are converted without
ZipMap, so probabilities come out as a plain tensor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..adapters.skl2onnx import integer_missing_tracks
from ..errors import ConversionError, ModelLoadError, UntrustedPickleError, describe
from .base import ConvertOptions, Converter
from ..onnx_io.signature import BATCH, TensorSpec

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")
PICKLE_HINT = ("save it with skops instead: skops.io.dump(model, 'model.skops'); "
               "pass --trust-pickle only if you trust whoever made this file")
ML_OPSET = 3  # ai.onnx.ml opset that goes with the default-domain opsets hpcfair targets

# scikit-learn 1.9's compiled types that skops rebuilds from plain state (arrays, numbers) through their
# own __setstate__: they hold data, not code. PyFuncDistance (a metric wrapping a Python function) is
# not among them. tests/test_convert.py checks every name against the installed scikit-learn.
_METRICS = ("BrayCurtis", "Canberra", "Chebyshev", "Dice", "Euclidean", "Hamming", "Haversine", "Jaccard",
            "Kulsinski", "Mahalanobis", "Manhattan", "Matching", "Minkowski", "RogersTanimoto", "RussellRao",
            "SEuclidean", "SokalMichener", "SokalSneath")
_LOSSES = ("AbsoluteError", "ExponentialLoss", "HalfBinomialLoss", "HalfGammaLoss", "HalfMultinomialLoss",
           "HalfPoissonLoss", "HalfSquaredError", "HalfTweedieLoss", "HalfTweedieLossIdentity", "HuberLoss",
           "PinballLoss")
SKLEARN_STATE_TYPES = frozenset({
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.neighbors._ball_tree.BallTree",
    *(f"sklearn.metrics._dist_metrics.{name}Distance{bits}" for name in _METRICS for bits in (32, 64)),
    *(f"sklearn._loss._loss.Cy{name}" for name in _LOSSES),
})


class SklearnConverter(Converter):
    name = "sklearn"
    modules = ("sklearn", "skl2onnx", "skops")
    extra = "sklearn"
    packages = ("scikit-learn", "skl2onnx", "skops", "onnx", "onnxruntime")
    suffixes = (".skops", *PICKLE_SUFFIXES)

    def load(self, path: Path, options: ConvertOptions) -> Any:
        if path.suffix.lower() in PICKLE_SUFFIXES:
            model = self._load_pickle(path, options)
        else:
            model = self._load_skops(path, options)
        if not hasattr(model, "predict"):
            raise ModelLoadError(f"{path.name} holds a {type(model).__name__}, not a scikit-learn model")
        return model

    def _load_pickle(self, path: Path, options: ConvertOptions) -> Any:
        if not options.trust_pickle:
            raise UntrustedPickleError(f"{path.name} is a pickle: loading it would run any code the file contains",
                                       hint=PICKLE_HINT)
        import joblib

        try:
            return joblib.load(path)
        except Exception as exc:  # noqa: BLE001
            raise ModelLoadError(f"cannot unpickle {path.name}: {describe(exc)}") from None

    def _load_skops(self, path: Path, options: ConvertOptions) -> Any:
        import skops.io as sio

        try:
            untrusted = sio.get_untrusted_types(file=path)
            refused = sorted(set(untrusted) - SKLEARN_STATE_TYPES - set(options.trust_types))
            if refused and not options.trust_pickle:
                more = f" and {len(refused) - 5} more" if len(refused) > 5 else ""
                raise UntrustedPickleError(
                    f"{path.name} contains types hpcfair does not trust: {', '.join(refused[:5])}{more}",
                    hint=f"if you trust whoever made this file: --trust-type {refused[0]} (repeatable; "
                         "convert.trust_types in config.local.yaml)")
            return sio.load(path, trusted=untrusted or None)
        except UntrustedPickleError:
            raise
        except Exception as exc:  # noqa: BLE001 - zipfile, json and skops raise many types
            raise ModelLoadError(f"cannot read {path.name} as a skops file: {describe(exc)}") from None

    def input_specs(self, model: Any, options: ConvertOptions) -> list[TensorSpec]:
        if options.inputs:
            return options.inputs
        features = getattr(model, "n_features_in_", None)
        if features is None:
            return super().input_specs(model, options)
        return [TensorSpec("X", [BATCH, int(features)], "float32")]

    def export(self, model: Any, inputs: list[TensorSpec], options: ConvertOptions, out: Path) -> None:
        from skl2onnx import convert_sklearn

        types = [(spec.name, _tensor_type(spec)) for spec in inputs]
        try:
            with integer_missing_tracks():  # HistGradientBoosting* (adapters/skl2onnx.py)
                proto = convert_sklearn(model, initial_types=types, options=_no_zipmap(model),
                                        target_opset={"": options.opset, "ai.onnx.ml": ML_OPSET})
        except Exception as exc:  # noqa: BLE001 - unsupported estimators and options
            raise ConversionError(f"skl2onnx cannot convert a {type(model).__name__}: {describe(exc)}") from None
        out.write_bytes(proto.SerializeToString())

    def run(self, model: Any, feeds: dict[str, Any], output_names: list[str]) -> list[Any]:
        from sklearn.base import is_classifier

        data = next(iter(feeds.values()))
        if is_classifier(model) and hasattr(model, "predict_proba"):
            return [model.predict(data), model.predict_proba(data)]
        return [model.predict(data)]


def _tensor_type(spec: TensorSpec) -> Any:
    from skl2onnx.common import data_types

    kinds = {"float32": data_types.FloatTensorType, "float64": data_types.DoubleTensorType,
             "int64": data_types.Int64TensorType, "int32": data_types.Int32TensorType,
             "bool": data_types.BooleanTensorType}
    if spec.dtype not in kinds:
        raise ConversionError(f"skl2onnx takes no {spec.dtype} input", hint="use float32 (the usual) or float64")
    return kinds[spec.dtype]([None if isinstance(d, str) else d for d in spec.shape])


def _no_zipmap(model: Any) -> dict[int, dict[str, bool]]:
    """``zipmap: False`` for every classifier in *model*, pipelines and ensembles included."""
    from sklearn.base import is_classifier

    options: dict[int, dict[str, bool]] = {}
    pending = [model]
    while pending:
        estimator = pending.pop()
        if is_classifier(estimator):
            options[id(estimator)] = {"zipmap": False}
        pending += [step for _, step in getattr(estimator, "steps", [])]
    return options
