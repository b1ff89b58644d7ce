"""ONNX files: checked with ``onnx.checker`` and kept as they are."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ..onnx_io import onnx_file
from .base import Conversion, ConvertOptions, Converter, Step, no_step
from ..onnx_io.signature import from_onnx


class OnnxConverter(Converter):
    name = "onnx"
    suffixes = (".onnx",)
    extra = "onnx"

    def load(self, path: Path, options: ConvertOptions) -> Any:
        return onnx_file.load(path)

    def convert(self, path: Path, out: Path, options: ConvertOptions, on_step: Step = no_step) -> Conversion:
        """Validate and copy; there is nothing to compare against, so parity is exact by definition."""
        self.require()
        on_step("checking the ONNX file")
        model = self.load(path, options)
        shutil.copyfile(path, out)
        return Conversion(onnx_path=out, converter=self.name, converter_version=self.version,
                          signature=from_onnx(model), parity={}, packages=self.package_versions(),
                          parameters={})
