"""Optional packages: their versions, importing one, or MissingDependencyError with the exact pip line."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from importlib import metadata
from types import ModuleType

from .errors import MissingDependencyError


def pip_hint(extra: str) -> str:
    return f"pip install 'hpcfair[{extra}]'"


def need(module: str, extra: str = "onnx") -> ModuleType:
    """Import *module*; raises MissingDependencyError (exit 4) whose hint installs hpcfair[*extra*]."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(f"this needs the Python package {module.split('.')[0]!r}, which is not installed",
                                     hint=pip_hint(extra)) from None


def installed_versions(names: Iterable[str]) -> dict[str, str]:
    """Distribution name -> installed version, for those of *names* that are installed (nothing is imported)."""
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found
