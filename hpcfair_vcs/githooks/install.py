"""``hpcfair hooks install | uninstall | status``: the shims in git's hooks folder.

Each shim is a small POSIX ``sh`` script (the same text as ``hooks/NAME`` at the top
of the project): it runs the hook that was there before (kept as
``NAME.hpcfair-chained``), stops when that one fails, then calls
``hpcfair hooks run NAME`` with the interpreter that installed it (as
``python -m hpcfair_vcs.githooks``, which skips the command line's start-up),
else ``hpcfair`` from PATH; if neither exists it says so and lets git go on.
In a commit that has no hpcfair repository (one from before ``hpcfair init``,
whose checkout removed ``.hpcfair/FORMAT``) the shim does nothing.
Uninstall puts the chained hook back.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from ..errors import UsageError
from ..repo import Repo, open_repo
from ..results import HookState, HooksResult
from .git import top_and_hooks_dir

HOOKS = ("pre-commit", "pre-push", "post-checkout", "post-merge", "post-rewrite")
MARK = "# hpcfair hook shim"
CHAINED = ".hpcfair-chained"

SHIM = """#!/bin/sh
{mark} ({name}): written by `hpcfair hooks install`, removed by `hpcfair hooks uninstall`.
# The hook that was here before runs first (from {name}{chained}); then hpcfair's.
hook_dir=$(dirname "$0")
{read_stdin}if [ -x "$hook_dir/{name}{chained}" ]; then
    {feed}"$hook_dir/{name}{chained}" "$@" || exit $?
fi
[ -n "$HPCFAIR_SKIP_HOOKS" ] && exit 0
repo="$(git rev-parse --show-toplevel)/"{repo}
[ -f "$repo/.hpcfair/FORMAT" ] || exit 0  # a commit from before hpcfair (or without it): nothing to do
python={python}
if [ -x "$python" ]; then
    {feed}"$python" -m hpcfair_vcs.githooks -C "$repo" {name} "$@"
    exit $?
elif command -v hpcfair >/dev/null 2>&1; then
    {feed}hpcfair -C "$repo" hooks run {name} "$@"
    exit $?
fi
echo "hpcfair: not installed here, so the {name} hook did nothing (hpcfair hooks uninstall removes it)" >&2
exit 0
"""


def shim(name: str, repo_in_top: str = ".", python: str | None = None) -> str:
    """The shim for hook *name*, for a repository at *repo_in_top* below the work tree's top, calling
    *python* (default: this interpreter; "" for ``hpcfair`` from PATH, as the copies in hooks/ do)."""
    needs_stdin = name in ("pre-push", "post-rewrite")  # git writes the pushed or rewritten commits there
    return SHIM.format(mark=MARK, name=name, chained=CHAINED, repo=shlex.quote(repo_in_top),
                       python=shlex.quote(sys.executable if python is None else python),
                       read_stdin='[ -t 0 ] || refs=$(cat)\n' if needs_stdin else "",
                       feed='printf "%s\\n" "$refs" | ' if needs_stdin else "")


def install(*, repo: Repo | str | None = None, force: bool = False) -> HooksResult:
    """Write the shims (HOOKS), chaining the hooks that were there.

    Raises:
        UsageError: not in a git work tree; a hook was chained already and is not ours (without *force*).
    """
    r = open_repo(repo)
    folder, inside = _locate(r)
    folder.mkdir(parents=True, exist_ok=True)
    for name in HOOKS:
        path, chained = folder / name, folder / (name + CHAINED)
        if path.exists() and not _ours(path):
            if chained.exists() and not force:
                raise UsageError(f"{path} is not hpcfair's, and {chained.name} is taken already",
                                 hint="hpcfair hooks install --force replaces that older chained hook")
            os.replace(path, chained)
        _write_executable(path, shim(name, inside))
    return _states(folder)


def uninstall(*, repo: Repo | str | None = None) -> HooksResult:
    """Remove hpcfair's shims and put back the hooks they chained."""
    r = open_repo(repo)
    folder, _ = _locate(r)
    for name in HOOKS:
        path, chained = folder / name, folder / (name + CHAINED)
        if path.exists() and _ours(path):
            path.unlink()
            if chained.exists():
                os.replace(chained, path)
    return _states(folder)


def status(*, repo: Repo | str | None = None) -> HooksResult:
    """Which hooks are hpcfair's, which chain another, in which folder."""
    return _states(_locate(open_repo(repo))[0])


def _states(folder: Path) -> HooksResult:
    states = []
    for name in HOOKS:
        present, ours = (folder / name).exists(), _ours(folder / name)
        states.append(HookState(name, installed=present and ours, chained=(folder / (name + CHAINED)).exists(),
                                other=present and not ours))
    return HooksResult(hooks_dir=os.fspath(folder), hooks=states)


def _locate(r: Repo) -> tuple[Path, str]:
    """(git's hooks folder, the repository's path below the work tree's top)."""
    top, folder = top_and_hooks_dir(r.root)
    return folder, os.path.relpath(r.root, top)


def _ours(path: Path) -> bool:
    try:
        with open(path, "rb") as fobj:
            return MARK.encode() in fobj.read(512)
    except OSError:
        return False


def _write_executable(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".hpcfair-new")
    tmp.write_text(text)
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)
