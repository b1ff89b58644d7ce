"""hpcfair: git-like, local-first versioning of AI models and datasets (HPCFair).

``import hpcfair_vcs`` stays light: the API functions load on first use, and
heavy frameworks (torch, tensorflow, onnx, dvc) only inside the functions that need them.
"""

from __future__ import annotations

from .version import __version__

_API = ("HPCFair", "add", "checkout", "compose", "convert", "fsck", "gc", "infer", "init", "load_dataset",
        "load_model", "log", "optimize", "pull", "push", "remove", "search", "show", "status", "tag")

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'hpcfair_vcs' has no attribute {name!r}")
