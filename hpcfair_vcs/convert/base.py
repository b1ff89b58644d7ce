"""The converter protocol: one small template class that every framework fills in.

A converter knows how to recognise its files (without importing its
framework), load a model safely, read or accept its input signature, export
it to ONNX and run it natively. :meth:`Converter.convert` strings these
together, tidies the ONNX file (``onnx_file.finish``) and proves parity
(``parity.check``). Converters work on paths and arrays; they know nothing
of the repository.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..deps import installed_versions, pip_hint
from ..errors import MissingDependencyError, UsageError, describe
from ..onnx_io.signature import Signature, TensorSpec


Step = Callable[[str], None]  # told the name of the step that begins


def no_step(_: str) -> None:
    """A :data:`Step` that reports nowhere."""


@dataclass
class ConvertOptions:
    """What a conversion may be told beyond the model file."""

    opset: int = 18
    inputs: list[TensorSpec] = field(default_factory=list)  # from --input; overrides the model's own
    outputs: list[str] = field(default_factory=list)  # from --output-name: the ONNX outputs' names, in order
    model_class: str | None = None  # "module:Class" for a PyTorch state_dict
    model_args: dict[str, Any] = field(default_factory=dict)  # keyword arguments for that class
    trust_pickle: bool = False
    trust_types: list[str] = field(default_factory=list)  # from --trust-type: types a skops file may build
    tolerance: float = 1e-4
    sample: dict[str, Any] | None = None  # a user-given input (name -> array) also checked for parity
    seed: int = 0

    def cache_parameters(self) -> dict[str, Any]:
        """The options that change the ONNX file (the conversion cache key uses them)."""
        named = {"outputs": self.outputs} if self.outputs else {}  # keeps older keys valid
        return {"opset": self.opset, "inputs": [str(t) for t in self.inputs],
                "model_class": self.model_class, "model_args": self.model_args, **named}


@dataclass
class Conversion:
    """The outcome of one conversion: where the ONNX file is and how good it is."""

    onnx_path: Path
    converter: str
    converter_version: str
    signature: Signature
    parity: dict[str, Any]
    packages: dict[str, str]  # versions of the packages involved
    parameters: dict[str, Any]


class Converter:
    """Base class; subclasses set the class attributes and override the five primitives."""

    name = ""  # registry key, also the framework recorded in metadata
    version = "1"  # bump when the same input would now give a different ONNX file
    modules: tuple[str, ...] = ()  # import names that must be installed
    extra = ""  # the hpcfair extra that installs them
    packages: tuple[str, ...] = ("onnx", "onnxruntime")  # distributions recorded in provenance
    suffixes: tuple[str, ...] = ()
    inputs_from_model = True  # False: its files do not say what their inputs are (--input needed)

    # --- primitives ------------------------------------------------------------
    def matches(self, path: Path) -> bool:
        """Whether *path* looks like this framework's file; must not import the framework."""
        return path.suffix.lower() in self.suffixes

    def declares_inputs(self, path: Path) -> bool:
        """Whether the file *path* says what its inputs are; if not, an earlier conversion's are reused."""
        return self.inputs_from_model

    def load(self, path: Path, options: ConvertOptions) -> Any:
        """Raises ModelLoadError, UntrustedPickleError."""
        raise NotImplementedError

    def input_specs(self, model: Any, options: ConvertOptions) -> list[TensorSpec]:
        """The model's inputs: ``options.inputs`` when given, else what the model declares."""
        if options.inputs:
            return options.inputs
        raise UsageError(f"a {self.name} model does not say what its inputs are",
                         hint="give them with --input NAME:SHAPE:DTYPE, e.g. --input x:N,1,28,28:float32")

    def export(self, model: Any, inputs: list[TensorSpec], options: ConvertOptions, out: Path) -> None:
        """Write the ONNX file to *out*. Raises ConversionError."""
        raise NotImplementedError

    def run(self, model: Any, feeds: dict[str, Any], output_names: list[str]) -> list[Any]:
        """Run the native model; return numpy arrays in the order of *output_names*."""
        raise NotImplementedError

    # --- the template ----------------------------------------------------------
    def convert(self, path: Path, out: Path, options: ConvertOptions, on_step: Step = no_step) -> Conversion:
        """Load, export, tidy, check and name the outputs, telling *on_step* each step's name as it begins.

        Raises the errors of the primitives, ParityError, and UsageError for output names that do not fit.
        """
        from ..onnx_io import onnx_file
        from . import parity

        self.require()
        on_step("loading the model")
        model = self.load(path, options)
        inputs = self.input_specs(model, options)
        on_step("exporting to ONNX")
        self.export(model, inputs, options, out)
        signature = onnx_file.finish(out, expected_inputs=inputs)
        on_step("checking parity")
        numbers = parity.check(self, model, out, signature, options)
        if options.outputs:  # after the parity check, which matches the native outputs by the exporter's names
            signature = onnx_file.rename_outputs(out, options.outputs)
        return Conversion(onnx_path=out, converter=self.name, converter_version=self.version,
                          signature=signature, parity=numbers, packages=self.package_versions(),
                          parameters=options.cache_parameters())

    def require(self) -> None:
        """Raises MissingDependencyError naming the pip line when a module is missing."""
        for module in (*self.modules, "onnx", "onnxruntime"):
            if importlib.util.find_spec(module) is None:
                raise MissingDependencyError(f"converting {self.name} models needs the Python package {module!r}",
                                             hint=pip_hint(self.extra or "onnx"))

    def package_versions(self) -> dict[str, str]:
        return installed_versions(self.packages)

    def cache_identity(self) -> dict[str, Any]:
        """Converter name, its version and the exporter packages' versions (no imports)."""
        return {"converter": self.name, "version": self.version, "packages": self.package_versions()}


def import_class(spec: str) -> Any:
    """``"package.module:Class"`` -> the class (the current folder is importable).

    Raises:
        UsageError: the spec is malformed, or the module or class cannot be imported.
    """
    module_name, _, class_name = spec.partition(":")
    if not module_name or not class_name:
        raise UsageError(f"--model-class {spec!r} is not module:Class", hint="for example --model-class nets:Encoder")
    added = "" not in sys.path
    if added:
        sys.path.insert(0, "")
    try:
        target: Any = importlib.import_module(module_name)
        for part in class_name.split("."):
            target = getattr(target, part)
    except Exception as exc:  # noqa: BLE001 - ImportError, AttributeError, errors in the user's module
        raise UsageError(f"cannot import the model class {spec}: {describe(exc)}",
                         hint="run hpcfair from the folder that holds the module, or install it") from None
    finally:
        if added:
            sys.path.remove("")
    return target
