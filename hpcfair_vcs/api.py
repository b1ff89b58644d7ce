"""The Python API: one function per user verb. Each takes ``repo=`` (a Repo, a path
inside one, or None for the current directory), returns a result object from
:mod:`hpcfair_vcs.results` and never prints. Errors are :mod:`hpcfair_vcs.errors`.

Each verb lives in its own module under :mod:`hpcfair_vcs.ops` and is imported
on first use, so a command pays only for what it runs.
"""

from __future__ import annotations

import importlib
from typing import Any

# verb -> module in hpcfair_vcs.ops
VERBS = {
    "init": "init", "add": "add", "status": "status", "checkout": "checkout", "remove": "remove",
    "log": "history", "show": "history", "tag": "history", "gc": "gc", "fsck": "fsck",
    "remote_add": "remote", "remote_modify": "remote", "remote_remove": "remote",
    "remote_default": "remote", "remote_list": "remote", "remote_import_dvc": "remote",
    "push": "push", "fetch": "pull", "pull": "pull", "search": "search",
    "convert": "convert", "convert_file": "convert",
}

__all__ = sorted(VERBS)


def __getattr__(name: str) -> Any:
    if name not in VERBS:
        raise AttributeError(f"module 'hpcfair_vcs.api' has no attribute {name!r}")
    function = getattr(importlib.import_module(f"hpcfair_vcs.ops.{VERBS[name]}"), name)
    globals()[name] = function
    return function


def __dir__() -> list[str]:
    return __all__
