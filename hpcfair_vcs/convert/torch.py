"""PyTorch models to ONNX: TorchScript, ``torch.export`` programs and state_dicts.

Loading is safe by default: TorchScript and ``.pt2`` archives hold no pickled
Python objects, and a state_dict is read with ``weights_only=True``. A file
that holds a whole pickled ``nn.Module`` is refused unless ``trust_pickle``.

Exporters (DESIGN.md section 8): modules and ``.pt2`` programs go through the
dynamo exporter (needs onnxscript; ``external_data=False``; ``dynamic_shapes``
for the batch); TorchScript, which the dynamo exporter refuses, goes through
the TorchScript exporter (``dynamo=False``, ``dynamic_axes``).
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConversionError, ModelLoadError, UntrustedPickleError, UsageError, describe
from .base import ConvertOptions, Converter, import_class
from ..onnx_io.signature import BATCH, TensorSpec

PICKLE_HINT = ("save the weights instead: torch.save(model.state_dict(), PATH) and pass --model-class "
               "module:Class, or save TorchScript (torch.jit.save) or a torch.export program (.pt2); "
               "pass --trust-pickle only if you trust whoever made this file")


@dataclass
class LoadedTorch:
    kind: str  # module | script | exported
    model: Any
    inputs: list[TensorSpec] = field(default_factory=list)  # declared by a .pt2 program


class TorchConverter(Converter):
    name = "torch"
    modules = ("torch", "onnxscript")
    extra = "torch"
    packages = ("torch", "onnxscript", "onnx", "onnxruntime")
    suffixes = (".pt", ".pth", ".pt2", ".ts")
    inputs_from_model = False  # only .pt2 programs carry them

    def declares_inputs(self, path: Path) -> bool:
        return path.suffix.lower() == ".pt2"

    def load(self, path: Path, options: ConvertOptions) -> LoadedTorch:
        import torch

        with _quiet():
            if path.suffix.lower() == ".pt2":
                try:
                    program = torch.export.load(str(path))
                except Exception as exc:  # noqa: BLE001
                    raise ModelLoadError(f"cannot read {path.name} as a torch.export program: {describe(exc)}") from None
                return LoadedTorch("exported", program, _program_inputs(program))
            if _is_torchscript(path):
                try:
                    return LoadedTorch("script", torch.jit.load(str(path), map_location="cpu").eval())
                except Exception as exc:  # noqa: BLE001
                    raise ModelLoadError(f"cannot read {path.name} as TorchScript: {describe(exc)}") from None
            return LoadedTorch("module", self._load_pickled(path, options).eval())

    def _load_pickled(self, path: Path, options: ConvertOptions) -> Any:
        import torch

        try:
            content = torch.load(str(path), map_location="cpu", weights_only=True)
        except pickle_error() as exc:
            if "weights only" not in str(exc).lower() and "weights_only" not in str(exc).lower():
                raise ModelLoadError(f"cannot read {path.name}: {describe(exc)}") from None
            if not options.trust_pickle:
                raise UntrustedPickleError(
                    f"{path.name} holds pickled Python objects (a whole nn.Module?): loading it would run "
                    "any code the file contains", hint=PICKLE_HINT) from None
            return self._load_trusted(path)
        except Exception as exc:  # noqa: BLE001 - truncated zip, not a torch file, ...
            raise ModelLoadError(f"cannot read {path.name} as a PyTorch file: {describe(exc)}") from None
        if isinstance(content, Mapping):
            return self._module_from_state_dict(path, _state_dict_in(content), options)
        raise ModelLoadError(f"{path.name} holds a {type(content).__name__}, not a model or a state_dict")

    def _load_trusted(self, path: Path) -> Any:
        import torch

        try:
            model = torch.load(str(path), map_location="cpu", weights_only=False)
        except Exception as exc:  # noqa: BLE001
            raise ModelLoadError(f"cannot unpickle {path.name}: {describe(exc)}",
                                 hint="a pickled model needs the code of its class: make the module that "
                                 "defines it importable (not a script's __main__), or save a state_dict") from None
        if not isinstance(model, torch.nn.Module):
            raise ModelLoadError(f"{path.name} holds a {type(model).__name__}, not an nn.Module")
        return model

    def _module_from_state_dict(self, path: Path, state: Mapping[str, Any], options: ConvertOptions) -> Any:
        if not options.model_class:
            raise UsageError(f"{path.name} is a state_dict (weights only): hpcfair needs the model class too",
                             hint="pass --model-class module:Class (importable from the current folder)")
        model_class = import_class(options.model_class)
        try:
            model = model_class(**options.model_args)
            model.load_state_dict(state, strict=True)
        except Exception as exc:  # noqa: BLE001 - missing keys, shape mismatches, bad arguments
            raise ModelLoadError(f"cannot load {path.name} into {options.model_class}: {describe(exc)}",
                                 hint="check --model-class and --model-arg against how the weights were saved"
                                 ) from None
        return model

    def input_specs(self, model: LoadedTorch, options: ConvertOptions) -> list[TensorSpec]:
        if options.inputs or not model.inputs:
            return super().input_specs(model, options)
        return model.inputs

    def export(self, model: LoadedTorch, inputs: list[TensorSpec], options: ConvertOptions, out: Path) -> None:
        import torch

        examples = tuple(torch.from_numpy(a) for a in _examples(inputs))
        names = [spec.name for spec in inputs]
        try:
            with _quiet():
                if model.kind == "script":
                    axes = {s.name: {i: str(d) for i, d in enumerate(s.shape) if isinstance(d, str)} for s in inputs}
                    torch.onnx.export(model.model, examples, str(out), input_names=names, dynamic_axes=axes,
                                      opset_version=options.opset, dynamo=False)
                else:
                    shapes = None if model.kind == "exported" else tuple(_dynamic_dims(s) for s in inputs)
                    onnx_program = torch.onnx.export(model.model, examples, None, input_names=names,
                                                     dynamic_shapes=shapes, opset_version=options.opset,
                                                     dynamo=True, external_data=False, verbose=False)
                    onnx_program.save(str(out), external_data=False)
        except Exception as exc:  # noqa: BLE001 - the exporters raise many types
            raise export_failure(exc, model.kind) from None

    def run(self, model: LoadedTorch, feeds: dict[str, Any], output_names: list[str]) -> list[Any]:
        import torch

        module = model.model.module() if model.kind == "exported" else model.model
        with torch.no_grad():
            result = module(*(torch.from_numpy(array) for array in feeds.values()))
        return [t.detach().numpy() for t in _flatten(result)]


def export_failure(exc: BaseException, kind: str) -> ConversionError:
    """The exporter's failure as one error naming the operator it has no ONNX form for, and the way out."""
    import re

    text = str(exc)
    script_op = re.search(r"Exporting the operator '([\w:.]+)' to ONNX", text)  # the TorchScript exporter
    dynamo_op = re.search(r"No ONNX function found for <OpOverload\(op='([\w.]+)'", text)  # the dynamo exporter
    if script_op and kind == "script":
        return ConversionError(
            f"cannot export the PyTorch model to ONNX: the TorchScript exporter has no ONNX form for the operator "
            f"{script_op.group(1)}",
            hint="save the model as a torch.export program instead (torch.export.save(torch.export.export(model, "
                 "example_inputs), 'model.pt2')): its exporter covers more operators")
    operator = (dynamo_op or script_op).group(1) if (dynamo_op or script_op) else None
    if operator:
        return ConversionError(f"cannot export the PyTorch model to ONNX: no ONNX function for the operator {operator}",
                               hint="replace that operation in the model with supported ones, or try a newer --opset")
    return ConversionError(f"cannot export the PyTorch model to ONNX: {describe(exc)}")


def pickle_error() -> tuple[type[BaseException], ...]:
    import pickle

    return (pickle.UnpicklingError,)


def _is_torchscript(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return any("/code/" in name for name in archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def _state_dict_in(content: Mapping[str, Any]) -> Mapping[str, Any]:
    """A checkpoint often wraps the weights: {"state_dict": ...} or {"model_state_dict": ...}."""
    for key in ("state_dict", "model_state_dict", "model"):
        inner = content.get(key)
        if isinstance(inner, Mapping):
            return inner
    return content


def _program_inputs(program: Any) -> list[TensorSpec]:
    """Input specs of a torch.export program, from its placeholders' example values."""
    user_inputs = set(program.graph_signature.user_inputs)
    specs = []
    for node in program.graph.nodes:
        value = node.meta.get("val")
        if node.op != "placeholder" or node.name not in user_inputs or value is None:
            continue
        shape: list[int | str] = []
        for position, dim in enumerate(value.shape):
            shape.append(int(dim) if isinstance(dim, int) else (BATCH if position == 0 else str(dim)))
        specs.append(TensorSpec(node.name, shape, str(value.dtype).removeprefix("torch.")))
    return specs


def _examples(inputs: list[TensorSpec]) -> Iterator[Any]:
    """Example arrays to trace with; dynamic dimensions get 3 (1 would be specialised away)."""
    from .parity import seeded_inputs

    return iter(seeded_inputs(inputs, seed=1, batch=3).values())


def _dynamic_dims(spec: TensorSpec) -> dict[int, Any] | None:
    import torch

    dims = {i: torch.export.Dim(str(d) if d != BATCH else "N", min=1) for i, d in enumerate(spec.shape)
            if isinstance(d, str)}
    return dims or None


def _flatten(result: Any) -> list[Any]:
    if isinstance(result, Mapping):
        result = list(result.values())
    if isinstance(result, (list, tuple)):
        return [t for item in result for t in _flatten(item)]
    return [result]


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The exporter prints progress to stdout and warns about torchvision; keep output clean."""
    loggers = [logging.getLogger(n) for n in ("torch.onnx", "torch.export", "torch._export", "torch.fx")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)
