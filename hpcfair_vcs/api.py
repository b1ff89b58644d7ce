"""The Python API: one function per user verb. Each takes ``repo=`` (a Repo, a path
inside one, or None for the current directory), returns a result object from
:mod:`hpcfair_vcs.results` and never prints. Errors are :mod:`hpcfair_vcs.errors`.

Each verb lives in its own module under :mod:`hpcfair_vcs.ops` and is imported
on first use, so a command pays only for what it runs.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
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
    "optimize": "optimize", "verify": "verify", "meta_set": "meta", "meta_unset": "meta", "meta_show": "meta",
    "fair_check": "fair", "index_rebuild": "search", "lineage": "lineage",
    "lineage_dot": "hpcfair_vcs.ops.lineage:to_dot", "lineage_prov": "hpcfair_vcs.ops.lineage:to_prov", "export": "export",
    "image_build": "images", "image_list": "images", "image_export": "images", "image_import": "images",
    "run_job": "job",
    "hooks_install": "hpcfair_vcs.githooks.install:install", "hooks_uninstall": "hpcfair_vcs.githooks.install:uninstall",
    "hooks_status": "hpcfair_vcs.githooks.install:status", "hooks_run": "hpcfair_vcs.githooks.run:run",
    "run_task": "hpcfair_vcs.tasks.runner:run", "HPCFair": "hpcfair_vcs.tasks.runner:HPCFair",
}

__all__ = sorted(VERBS)


def __getattr__(name: str) -> Any:
    if name not in VERBS:
        raise AttributeError(f"module 'hpcfair_vcs.api' has no attribute {name!r}")
    module, _, attribute = VERBS[name].partition(":")
    if not attribute:
        module, attribute = f"hpcfair_vcs.ops.{module}", name
    function = getattr(importlib.import_module(module), attribute)
    if "repo" in (getattr(function, "__kwdefaults__", None) or {}):
        function = _closing(function)
    globals()[name] = function
    return function


def _closing(function: Callable[..., Any]) -> Callable[..., Any]:
    """*function*, closing the repository it opens for its call (repo.opened): API calls leave nothing open."""
    @functools.wraps(function)
    def call(*args: Any, repo: Any = None, **kwargs: Any) -> Any:
        from .repo import opened  # here, not at import: `import hpcfair_vcs` and `hpcfair --help` stay light

        with opened(repo) as target:
            return function(*args, repo=target, **kwargs)
    return call


def __dir__() -> list[str]:
    return __all__
