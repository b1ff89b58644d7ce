"""Keeping tracked data and hpcfair's caches out of git (written outside a git work tree too, so that
a ``git init`` after ``hpcfair init`` commits neither the store, nor the secrets, nor the data)."""

from __future__ import annotations

from pathlib import Path

from ..fileio.files import atomic_write

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


GLOB_CHARS = "*?[\\"


def _entry(data_path: Path) -> str:
    """The .gitignore line matching exactly *data_path*'s name in its folder, escaped by git's rules.

    Glob characters and backslashes get a backslash, and so do trailing spaces (git drops
    them otherwise); the leading ``/`` anchors it, so ``#`` and ``!`` need nothing. Names with a
    newline cannot be written and are refused before (workspace.trackable).
    """
    escaped = "".join("\\" + char if char in GLOB_CHARS else char for char in data_path.name)
    kept = escaped.rstrip(" ")
    return "/" + kept + "\\ " * (len(escaped) - len(kept))


def _entries(data_path: Path) -> set[str]:
    """The lines that may ignore *data_path*: the escaped one, and the plain one older versions wrote."""
    return {_entry(data_path), "/" + data_path.name}


def ignore(data_path: Path) -> bool:
    """Add the data path to its folder's .gitignore; True when the file changed."""
    gitignore = data_path.parent / ".gitignore"
    lines = _read_lines(gitignore)
    if _entry(data_path) in lines:
        return False
    lines.append(_entry(data_path))
    _write_lines(gitignore, lines)
    return True


def unignore(data_path: Path) -> bool:
    """Drop the entry :func:`ignore` added; True when the file changed."""
    gitignore = data_path.parent / ".gitignore"
    lines = _read_lines(gitignore)
    ours = _entries(data_path)
    if not ours & set(lines):
        return False
    lines = [line for line in lines if line not in ours]
    if lines:
        _write_lines(gitignore, lines)
    else:
        gitignore.unlink()
    return True


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_bytes().decode("utf-8", "surrogateescape").splitlines()
    except FileNotFoundError:
        return []


def _write_lines(path: Path, lines: list[str]) -> None:
    """File names need not be UTF-8: their bytes go back as they came (surrogateescape)."""
    atomic_write(path, ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape"))
