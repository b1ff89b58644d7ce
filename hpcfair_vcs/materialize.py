"""Putting stored objects back into the work tree.

Each file is created under a temporary name beside its destination and
renamed over it, so a killed checkout leaves every file either old or new.
Link types are tried in the configured order (default ``reflink``, ``copy``):

- ``reflink``: a copy-on-write clone (btrfs, xfs); editing it never touches the object.
- ``hardlink``/``symlink``: no extra space, but the work-tree file *is* the
  read-only object; an editor that writes in place as root could corrupt it.
- ``copy``: always works.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
from pathlib import Path

from ._io import copy_file, tmp_name, unlink_quietly
from .store import ObjectStore

FICLONE = 0x40049409
WORKTREE_MODE = 0o644
_FALLBACK_ERRNOS = {errno.EOPNOTSUPP, errno.EXDEV, errno.EINVAL, errno.ENOTTY, errno.EPERM,
                    errno.EMLINK, errno.ENOSYS}


def _reflink(src: Path, tmp: Path) -> None:
    with open(src, "rb") as s, open(tmp, "xb") as d:
        fcntl.ioctl(d.fileno(), FICLONE, s.fileno())
    os.chmod(tmp, WORKTREE_MODE)


def _hardlink(src: Path, tmp: Path) -> None:
    os.link(src, tmp)


def _symlink(src: Path, tmp: Path) -> None:
    os.symlink(src, tmp)


def _copy(src: Path, tmp: Path) -> None:
    copy_file(src, tmp, WORKTREE_MODE)
    os.chmod(tmp, WORKTREE_MODE)  # the umask may have narrowed it


LINKERS = {"reflink": _reflink, "hardlink": _hardlink, "symlink": _symlink, "copy": _copy}


# (link type, device of the store, device of the destination) that failed once: not tried again
_UNSUPPORTED: set[tuple[str, int, int]] = set()


def place_object(store: ObjectStore, oid: str, dest: Path, link_types: list[str]) -> str:
    """Make *dest* hold object *oid*; return the link type used.

    Raises:
        MissingObjectError: the object is not stored.
        OSError: every link type failed.
    """
    src = store.path(oid)
    try:
        src_dev = src.stat().st_dev
    except FileNotFoundError:
        store.read_bytes(oid)  # raises MissingObjectError with the usual hint
        raise
    try:
        dest_dev = os.stat(dest.parent).st_dev
    except FileNotFoundError:
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest_dev = os.stat(dest.parent).st_dev
    last_error: OSError | None = None
    for kind in link_types:
        if (kind, src_dev, dest_dev) in _UNSUPPORTED and kind != "copy":
            continue
        tmp = tmp_name(dest.parent)
        try:
            LINKERS[kind](src, tmp)
            os.replace(tmp, dest)
            return kind
        except OSError as exc:
            unlink_quietly(tmp)
            if kind == "copy" or exc.errno not in _FALLBACK_ERRNOS:
                raise
            _UNSUPPORTED.add((kind, src_dev, dest_dev))
            last_error = exc
    raise last_error or OSError(errno.EOPNOTSUPP, "no link type worked")


def remove_path(path: Path) -> None:
    """Delete a file, a symlink or a whole folder."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        unlink_quietly(path)
