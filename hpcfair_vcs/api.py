"""The Python API: one function per user verb. Each takes ``repo=`` (a Repo, a path
inside one, or None for the current directory), returns a result object from
:mod:`hpcfair_vcs.results` and never prints. Errors are :mod:`hpcfair_vcs.errors`.

Each verb lives in its own module under :mod:`hpcfair_vcs.ops` and is imported
on first use, so a command pays only for what it runs.
"""

from __future__ import annotations

import importlib
from typing import Any

# verb -> its module in hpcfair_vcs.ops (or "module:attribute" elsewhere)
VERBS = {
    "init": "init", "add": "add", "status": "status", "checkout": "checkout", "remove": "remove",
    "log": "history", "show": "history", "tag": "history", "gc": "gc", "fsck": "fsck",
    "remote_add": "remote", "remote_modify": "remote", "remote_remove": "remote",
    "remote_default": "remote", "remote_list": "remote", "remote_import_dvc": "remote",
    "push": "push", "fetch": "pull", "pull": "pull", "search": "search",
    "convert": "convert", "convert_file": "convert",
    "infer": "infer", "load_model": "infer", "load_dataset": "infer", "compose": "compose",
    "optimize": "optimize", "run_task": "hpcfair_vcs.tasks.runner:run", "HPCFair": "hpcfair_vcs.tasks.runner:HPCFair",
}

__all__ = sorted(VERBS)


def __getattr__(name: str) -> Any:
    if name not in VERBS:
        raise AttributeError(f"module 'hpcfair_vcs.api' has no attribute {name!r}")
    module, _, attribute = VERBS[name].partition(":")
    if not attribute:
        module, attribute = f"hpcfair_vcs.ops.{module}", name
    function = getattr(importlib.import_module(module), attribute)
    globals()[name] = function
    return function


def __dir__() -> list[str]:
    return __all__
