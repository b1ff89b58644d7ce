"""``load_model``'s result: an ONNX model ready to run, with what the repository knows about it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..onnx_io.signature import Signature
from . import onnx as ort_runtime
from .arrays import UNNAMED, read_arrays


@dataclass
class Model:
    """One ONNX model: ``run(inputs)`` -> outputs by name; ``metadata`` and ``signature`` describe it."""

    name: str
    pid: str | None
    path: Path  # the ONNX file (in the object store for a stored model)
    metadata: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    threads: int | None = None

    _session: ort_runtime.Session | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def session(self) -> ort_runtime.Session:
        if self._session is None:
            self._session = ort_runtime.session_for(self.path, self.device, self.threads)
        return self._session

    @property
    def signature(self) -> Signature:
        return self.session.signature

    def run(self, inputs: Any, batch_size: int | None = None) -> dict[str, Any]:
        """Run on *inputs*: a dict of arrays by input name, one array, or a file (.npy/.npz/.csv/.json).

        Raises:
            InputMismatchError: names, dtypes or shapes that do not fit the model.
            InputFileError: a file that cannot be read.
        """
        session = self._session or self.session
        if type(inputs) is dict and session.fits(inputs, batch_size or ort_runtime.DEFAULT_BATCH):
            # the fast path: nothing to cast, split or map; onnxruntime returns every output, in order
            return dict(zip(session.output_names, session.run_fitting(inputs)))
        arrays = self._arrays(inputs)
        checked = ort_runtime.check_inputs(session.signature, arrays, source="the inputs")
        outputs = ort_runtime.run(session, checked, batch_size)
        return dict(zip(session.output_names, outputs or []))

    @staticmethod
    def _arrays(inputs: Any) -> Mapping[str, Any]:
        if isinstance(inputs, (str, os.PathLike)):
            return read_arrays(Path(inputs))
        if isinstance(inputs, Mapping):
            return inputs
        return {UNNAMED: inputs}
