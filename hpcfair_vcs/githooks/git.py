"""The git commands the hooks need, run through proc (argv lists, never a shell)."""

from __future__ import annotations

import os
from pathlib import Path

from .. import proc
from ..errors import CommandFailedError, UsageError

TIMEOUT = 60.0


def git(*args: str, cwd: Path) -> str:
    """Run ``git ARGS`` in *cwd*; its stdout.

    Raises:
        CommandFailedError: git failed (or is not installed).
    """
    return proc.run(["git", *args], cwd=cwd, timeout=TIMEOUT, what="git").stdout


def toplevel(folder: Path) -> Path:
    """The work tree's top folder of the git repository holding *folder*.

    Raises:
        UsageError: *folder* is not inside a git work tree.
    """
    try:
        return Path(git("rev-parse", "--show-toplevel", cwd=folder).strip()).resolve()
    except CommandFailedError:
        raise UsageError(f"{folder} is not inside a git work tree", hint="git init (or clone) first") from None


def top_and_hooks_dir(folder: Path) -> tuple[Path, Path]:
    """(the work tree's top, where git looks for hooks: ``core.hooksPath`` if set, else the (common) git
    dir's hooks/, worktrees and submodules included), from one git call.

    Raises:
        UsageError: *folder* is not inside a git work tree.
    """
    try:
        top, hooks = git("rev-parse", "--show-toplevel", "--git-path", "hooks", cwd=folder).splitlines()[:2]
    except (CommandFailedError, ValueError):
        raise UsageError(f"{folder} is not inside a git work tree", hint="git init (or clone) first") from None
    return Path(top).resolve(), (folder / hooks).resolve()


def staged_paths(top: Path) -> list[str]:
    """Paths (relative to *top*) added, copied, modified or renamed in the index."""
    out = git("diff", "--cached", "--name-only", "-z", "--diff-filter=ACMR", cwd=top)
    return [p for p in out.split("\0") if p]


def stage(top: Path, paths: list[Path]) -> None:
    if paths:
        git("add", "--", *[os.fspath(p) for p in paths], cwd=top)


def has_head(top: Path) -> bool:
    """Whether the repository has a commit yet."""
    try:
        git("rev-parse", "--verify", "--quiet", "HEAD", cwd=top)
        return True
    except CommandFailedError:
        return False


def partial_commit() -> bool:
    """Whether git is making a commit of named paths only (``git commit PATHS``): it then gives its hooks a
    temporary index, ``next-index-N.lock`` (builtin/commit.c), and what a hook stages there skips the real one.
    tests/test_hooks.py pins this against the git installed."""
    return os.path.basename(os.environ.get("GIT_INDEX_FILE", "")).startswith("next-index-")
