"""Keeping tracked data and hpcfair's caches out of git (only inside a git work tree)."""

from __future__ import annotations

from pathlib import Path

from ._io import atomic_write

# What .hpcfair/.gitignore keeps out of git: everything but the shareable files.
CONTROL_GITIGNORE = """\
# Written by hpcfair. Only the shareable settings belong in git;
# objects, records, caches, secrets and locks stay local.
/*
!/.gitignore
!/FORMAT
!/config.yaml
"""


def git_work_tree(start: Path) -> Path | None:
    """The top of the git work tree containing *start*, or None (no subprocess)."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def _entry(data_path: Path) -> str:
    return "/" + data_path.name


def ignore(data_path: Path) -> bool:
    """Add the data path to its folder's .gitignore; True when the file changed."""
    gitignore = data_path.parent / ".gitignore"
    lines = _read_lines(gitignore)
    if _entry(data_path) in lines:
        return False
    lines.append(_entry(data_path))
    atomic_write(gitignore, ("\n".join(lines) + "\n").encode())
    return True


def unignore(data_path: Path) -> bool:
    """Drop the entry :func:`ignore` added; True when the file changed."""
    gitignore = data_path.parent / ".gitignore"
    lines = _read_lines(gitignore)
    if _entry(data_path) not in lines:
        return False
    lines = [line for line in lines if line != _entry(data_path)]
    if lines:
        atomic_write(gitignore, ("\n".join(lines) + "\n").encode())
    else:
        gitignore.unlink()
    return True


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
