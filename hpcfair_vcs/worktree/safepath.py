"""The check every write and delete in the work tree makes, right before it acts.

Paths to write come from refs, records and pointer files, which may come from a
remote or a clone, and a folder on the way may be a symlink (git commits
symlinks). Whatever was checked when a path was read, the folder it is written
into is resolved again when it is written: every link followed, it must lie
inside the repository and outside ``.hpcfair/`` and ``.git/``. A path that is
itself a link may only lead inside the repository too (a link into the store,
as the ``symlink`` link type makes, is fine).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import PathOutsideRepoError
from ..validate import MANAGED_DIRS


def check_writable(root: Path, path: Path) -> Path:
    """Return *path* if hpcfair may write or delete it; *root* is the repository's real path.

    Raises:
        PathOutsideRepoError: a folder on the way is (or leads through) a link out of the
            repository or into ``.hpcfair/`` or ``.git/``, or *path* is a link leading outside.
    """
    shown = _shown(root, path)
    parent = os.path.realpath(path.parent)
    where = _relative_inside(root, parent)
    if where is None:
        raise PathOutsideRepoError(f"{shown}: a folder on its way is a link that leads outside the repository",
                                   hint="replace the link with a real folder, or remove it", path=shown)
    if where.split("/", 1)[0] in MANAGED_DIRS:
        raise PathOutsideRepoError(f"{shown}: a folder on its way leads into {where.split('/', 1)[0]}/, "
                                   "which hpcfair will not write to", hint="replace the link with a real folder",
                                   path=shown)
    if os.path.islink(path) and _relative_inside(root, os.path.realpath(path)) is None:
        raise PathOutsideRepoError(f"{shown} is a link that leads outside the repository; hpcfair will not "
                                   "replace it", hint="remove the link yourself if it should go", path=shown)
    return path


def _relative_inside(root: Path, real: str) -> str | None:
    """*real* relative to *root* ("" for the root itself), or None when it lies outside."""
    base = os.fspath(root)
    if real == base:
        return ""
    if real.startswith(base.rstrip(os.sep) + os.sep):
        return real[len(base.rstrip(os.sep)) + 1:]
    return None


def _shown(root: Path, path: Path) -> str:
    """*path* as the user knows it: relative to the repository when it is written that way."""
    relative = _relative_inside(root, os.path.normpath(path))
    return relative if relative else os.fspath(path)
