"""TensorFlow/Keras models to ONNX with tf2onnx: ``.keras``, ``.h5`` and SavedModel folders.

Keras files are loaded with ``safe_mode`` (no lambda layers' code is run),
traced as a ``tf.function`` over the input signature and converted with
``tf2onnx.convert.from_function`` at an explicit opset (tf2onnx's default is
15). The function returns a dict keyed by the output names, which become the
ONNX outputs' names: a functional model's output layers, a ``Sequential``'s
last layer. (``tf2onnx.convert.from_keras`` looks a Keras 3 ``Sequential``'s
outputs up by their symbolic names, which the traced function does not have:
``KeyError: 'keras_tensor_5'``.) tf2onnx converts SavedModels only from its
command line, so a SavedModel goes through ``python -m tf2onnx.convert`` in a
child process.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CommandFailedError, ConversionError, ModelLoadError, UntrustedPickleError, UsageError, describe
from .base import ConvertOptions, Converter, import_class
from ..onnx_io.signature import BATCH, TensorSpec

KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")
SAVED_MODEL_FILE = "saved_model.pb"
EXPORT_TIMEOUT = 600.0


@dataclass
class LoadedTensorFlow:
    kind: str  # keras | saved_model
    model: Any
    path: Path
    inputs: list[TensorSpec] = field(default_factory=list)


class TensorFlowConverter(Converter):
    name = "tensorflow"
    version = "2"  # 2: every Keras model traced with from_function (1: from_keras)
    modules = ("tensorflow", "tf2onnx")
    extra = "tensorflow"
    packages = ("tensorflow", "tensorflow-cpu", "keras", "tf2onnx", "onnx", "onnxruntime")
    suffixes = KERAS_SUFFIXES

    def matches(self, path: Path) -> bool:
        return path.suffix.lower() in KERAS_SUFFIXES or (path / SAVED_MODEL_FILE).is_file()

    def load(self, path: Path, options: ConvertOptions) -> LoadedTensorFlow:
        quiet_tensorflow()
        if (path / SAVED_MODEL_FILE).is_file():
            return self._load_saved_model(path)
        import keras

        if options.model_class:  # a subclassed model: importing its module registers the class with Keras
            import_class(options.model_class)
        try:
            model = keras.models.load_model(str(path), compile=False, safe_mode=not options.trust_pickle)
        except Exception as exc:  # noqa: BLE001 - h5py, zipfile and keras raise many types
            if "safe_mode" in str(exc):  # keras refused to deserialize Python code stored in the file
                raise UntrustedPickleError(
                    f"{path.name} holds Python code (a Lambda layer, say): loading it would run that code",
                    hint="pass --trust-pickle only if you trust whoever made this file") from None
            raise ModelLoadError(f"cannot read {path.name} as a Keras model: {describe(exc)}") from None
        declared = getattr(model, "inputs", None) or []  # a subclassed model has none (the property raises)
        inputs = [TensorSpec(_plain_name(t), _shape(t.shape), str(t.dtype)) for t in declared]
        return LoadedTensorFlow("keras", model, path, inputs)

    def _load_saved_model(self, path: Path) -> LoadedTensorFlow:
        import tensorflow as tf

        try:
            loaded = tf.saved_model.load(str(path))
            function = loaded.signatures["serving_default"]
        except KeyError:
            raise ModelLoadError(f"the SavedModel {path.name} has no serving_default signature") from None
        except Exception as exc:  # noqa: BLE001
            raise ModelLoadError(f"cannot read {path.name} as a SavedModel: {describe(exc)}") from None
        _, keyword_specs = function.structured_input_signature
        inputs = [TensorSpec(name, _shape(spec.shape), spec.dtype.name) for name, spec in keyword_specs.items()]
        return LoadedTensorFlow("saved_model", function, path, inputs)

    def input_specs(self, model: LoadedTensorFlow, options: ConvertOptions) -> list[TensorSpec]:
        if options.inputs:
            if model.kind == "saved_model":
                raise UsageError("a SavedModel declares its inputs; --input cannot change them",
                                 hint="drop --input, or export the model again with the signature you want")
            return options.inputs
        if not model.inputs:
            return super().input_specs(model, options)
        return model.inputs

    def export(self, model: LoadedTensorFlow, inputs: list[TensorSpec], options: ConvertOptions,
               out: Path) -> None:
        if model.kind == "saved_model":
            self._export_saved_model(model.path, options.opset, out)
            return
        import tensorflow as tf
        import tf2onnx

        signature = [tf.TensorSpec([None if isinstance(d, str) else d for d in s.shape], s.dtype, name=s.name)
                     for s in inputs]
        names = output_names(model.model)
        keras_model = model.model

        @tf.function(input_signature=signature)
        def traced(*tensors):
            result = keras_model(tensors[0] if len(tensors) == 1 else list(tensors), training=False)
            return dict(zip(names, _items(result)))

        try:
            proto, _ = tf2onnx.convert.from_function(traced, input_signature=signature, opset=options.opset)
        except Exception as exc:  # noqa: BLE001 - unsupported ops, shape mismatches
            raise ConversionError(f"tf2onnx cannot convert {model.path.name}: {describe(exc)}",
                                  hint="check that the model runs in Keras on the input signature given "
                                       "(--input NAME:SHAPE:DTYPE)") from None
        out.write_bytes(proto.SerializeToString())

    def _export_saved_model(self, path: Path, opset: int, out: Path) -> None:
        from .. import proc

        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        try:
            proc.run([sys.executable, "-m", "tf2onnx.convert", "--saved-model", path, "--output", out,
                      "--opset", str(opset)], timeout=EXPORT_TIMEOUT, env=env, what="tf2onnx")
        except CommandFailedError as exc:
            raise ConversionError(f"tf2onnx cannot convert the SavedModel {path.name}: {exc}") from None

    def run(self, model: LoadedTensorFlow, feeds: dict[str, Any], output_names: list[str]) -> list[Any]:
        import tensorflow as tf

        if model.kind == "saved_model":
            result = model.model(**{name: tf.constant(array) for name, array in feeds.items()})
            keys = output_names if all(n in result for n in output_names) else sorted(result)
            return [result[k].numpy() for k in keys]
        arrays = list(feeds.values())
        result = model.model(arrays[0] if len(arrays) == 1 else arrays, training=False)
        return [tf.convert_to_tensor(t).numpy() for t in _items(result)]


def output_names(model: Any) -> list[str]:
    """The ONNX output names of a Keras model: a functional model's output layers, else its last layer's
    name (one output) or that name with a number (several)."""
    names = list(getattr(model, "output_names", None) or [])
    if names:
        return names
    last = model.layers[-1].name if getattr(model, "layers", None) else "output"
    count = len(model.outputs) if getattr(model, "outputs", None) else 1
    return [last] if count == 1 else [f"{last}_{i}" for i in range(count)]


def _items(result: Any) -> list[Any]:
    if isinstance(result, dict):
        return list(result.values())
    return list(result) if isinstance(result, (list, tuple)) else [result]


def _shape(shape: Any) -> list[int | str]:
    dims = list(shape)
    return [int(d) if d is not None else (BATCH if i == 0 else f"d{i}") for i, d in enumerate(dims)]


def _plain_name(tensor: Any) -> str:
    name = getattr(tensor, "name", "") or "input"
    return name.split(":")[0]


def quiet_tensorflow() -> None:
    """Import TensorFlow without its C++ start-up chatter on stderr (fd 2 is muted meanwhile)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import logging

    for name in ("tensorflow", "tf2onnx", "absl"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if "tensorflow" in sys.modules:
        return
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
