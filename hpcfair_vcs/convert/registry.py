"""Which converter handles which file.

Built-in converters are named by ``"module:Class"`` and imported on first use;
other packages add theirs through the ``hpcfair.converters`` entry-point group
(``name = "pkg.module:Class"``). Detection looks at names and magic bytes
only, so choosing a converter never imports a framework.
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path

from ..errors import UsageError
from .base import Converter

ENTRY_POINT_GROUP = "hpcfair.converters"
BUILTIN = {
    "onnx": "hpcfair_vcs.convert.onnx:OnnxConverter",
    "torch": "hpcfair_vcs.convert.torch:TorchConverter",
    "tensorflow": "hpcfair_vcs.convert.tensorflow:TensorFlowConverter",
    "sklearn": "hpcfair_vcs.convert.sklearn:SklearnConverter",
    "xgboost": "hpcfair_vcs.convert.boosting:XGBoostConverter",
    "lightgbm": "hpcfair_vcs.convert.boosting:LightGBMConverter",
}
_loaded: dict[str, Converter] = {}


@functools.cache
def available() -> dict[str, str]:
    """Converter name -> ``"module:Class"``: the built-ins, then entry points (which may override).

    Read once per process (``available.cache_clear()`` reads the entry points again)."""
    from importlib.metadata import entry_points

    found = dict(BUILTIN)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        found[entry.name] = entry.value
    return found


def get(name: str) -> Converter:
    """The converter called *name*. Raises UsageError for an unknown one."""
    if name not in _loaded:
        targets = available()
        if name not in targets:
            raise UsageError(f"no converter for framework {name!r}",
                             hint=f"use one of {', '.join(sorted(targets))}")
        module_name, _, class_name = targets[name].partition(":")
        _loaded[name] = getattr(importlib.import_module(module_name), class_name)()
    return _loaded[name]


def detect(path: Path, framework: str = "auto") -> Converter | None:
    """The converter for *path* (or the one *framework* names); None when nothing matches."""
    if framework != "auto":
        return get(framework)
    for name in available():
        converter = get(name)
        if converter.matches(path):
            return converter
    return None
