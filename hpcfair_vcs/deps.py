"""Optional packages: import one, or raise MissingDependencyError with the exact pip line."""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import MissingDependencyError


def need(module: str, extra: str = "onnx") -> ModuleType:
    """Import *module*; raises MissingDependencyError (exit 4) whose hint installs hpcfair[*extra*]."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(f"this needs the Python package {module.split('.')[0]!r}, which is not installed",
                                     hint=f"pip install 'hpcfair[{extra}]'") from None
