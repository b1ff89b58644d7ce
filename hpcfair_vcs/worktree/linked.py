"""Linked git worktrees (``git worktree add``) share the main work tree's store.

A linked worktree checks out the committed ``.hpcfair/`` files (FORMAT, config.yaml)
but none of the store, records and refs, which git never sees. So that a commit,
checkout or ``hpcfair status`` there knows the same artifacts and versions as the
main work tree (as git-lfs shares ``.git/lfs``), the repository at the same place in
the main work tree holds the store, records, refs, temporary files, lock and local
settings of both; the committed files and the stat cache stay the worktree's own.
A worktree whose repository has a store of its own (made when the main work tree
had none) keeps it.

Read from files git wrote, without a subprocess: the worktree's ``.git`` file names
its git dir (``gitdir: PATH``), whose ``commondir`` names the main git dir, whose
``worktrees/NAME/gitdir`` must name this ``.git`` file back (git's own check; a
``.git`` file from an archive pointing elsewhere is not followed).
"""

from __future__ import annotations

import os
from pathlib import Path

from .gitignore import git_work_tree

CONTROL_DIR = ".hpcfair"


def main_control(root: Path) -> Path | None:
    """The main work tree's ``.hpcfair`` for the repository at *root*, when *root* is in a linked
    worktree and the main work tree has a repository at the same place; else None."""
    if (root / CONTROL_DIR / "files").is_dir():  # it has a store of its own (made before the main one)
        return None
    top = git_work_tree(root)
    if top is None:
        return None
    common = _common_dir(top)
    if common is None or common.name != ".git":  # a bare repository has no main work tree
        return None
    control = common.parent / os.path.relpath(root, top) / CONTROL_DIR
    return control if (control / "FORMAT").is_file() and control != root / CONTROL_DIR else None


def work_trees(control: Path, root: Path) -> list[Path]:
    """Every work tree's repository root sharing *control* (the store's ``.hpcfair``), *root* included:
    the main one and each linked worktree git lists (gc keeps what any of their pointers name)."""
    roots = {root.resolve(), control.parent.resolve()}
    top = git_work_tree(control.parent)
    if top is None:
        return sorted(roots)
    inside = os.path.relpath(control.parent, top)
    for entry in sorted((top / ".git" / "worktrees").glob("*/gitdir")):
        dot_git = _read(entry)
        if dot_git is None:
            continue
        linked_control = Path(dot_git).parent / inside / CONTROL_DIR
        if (linked_control / "FORMAT").is_file() and not (linked_control / "files").is_dir():
            roots.add(linked_control.parent.resolve())
    return sorted(roots)


def _common_dir(top: Path) -> Path | None:
    """The main git dir of the linked worktree whose top is *top*; None for anything else."""
    dot_git = top / ".git"
    if not dot_git.is_file():
        return None
    text = _read(dot_git)
    if text is None or not text.startswith("gitdir: "):
        return None
    git_dir = (top / text[len("gitdir: "):]).resolve()
    common = _read(git_dir / "commondir")
    back = _read(git_dir / "gitdir")
    if common is None or back is None or Path(back).resolve() != dot_git.resolve():
        return None  # a submodule (no commondir), or a .git file that git's records do not confirm
    return (git_dir / common).resolve()


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None
