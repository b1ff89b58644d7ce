"""Putting stored objects back into the work tree.

Each file is created under a temporary name beside its destination and
renamed over it, so a killed checkout leaves every file either old or new.
A folder that does not exist yet is built whole under a temporary name and
renamed into place once (``build_folder``): it appears complete or not at all,
without a rename per file. Both are made in the store's ``tmp/`` when it is on
the work tree's file system, so a killed checkout leaves nothing that git sees
(its leftovers there are removed once their owner is gone: tmpfiles.py).
Link types are tried in the configured order (default ``reflink``, ``copy``):

- ``reflink``: a copy-on-write clone (btrfs, xfs); editing it never touches the object.
- ``hardlink``/``symlink``: no extra space, but the work-tree file *is* the
  read-only object; an editor that writes in place as root could corrupt it.
- ``copy``: always works.

A pull that copies big objects makes the work-tree copy while it receives each
one (storage/spares.py); given those *spares*, such a copy is renamed into place
instead of being copied again from the object (``_from_spare``).
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
from pathlib import Path

from ..fileio.files import copy_file, unlink_quietly
from ..fileio.tmpfiles import tmp_name
from ..progress import Advance, ignore
from ..storage.spares import SpareCopies
from ..storage.store import ObjectStore

FICLONE = 0x40049409
WORKTREE_MODE = 0o644
_FALLBACK_ERRNOS = {errno.EOPNOTSUPP, errno.EXDEV, errno.EINVAL, errno.ENOTTY, errno.EPERM,
                    errno.EMLINK, errno.ENOSYS}


def _reflink(src: str, tmp: str | Path) -> None:
    with open(src, "rb") as s, open(tmp, "xb") as d:
        fcntl.ioctl(d.fileno(), FICLONE, s.fileno())
    os.chmod(tmp, WORKTREE_MODE)


def _hardlink(src: str, tmp: str | Path) -> None:
    os.link(src, tmp)


def _symlink(src: str, tmp: str | Path) -> None:
    os.symlink(src, tmp)


def _copy(src: str, tmp: str | Path) -> None:
    copy_file(src, tmp, WORKTREE_MODE)
    os.chmod(tmp, WORKTREE_MODE)  # the umask may have narrowed it


LINKERS = {"reflink": _reflink, "hardlink": _hardlink, "symlink": _symlink, "copy": _copy}


# (link type, device of the store, device of the destination) that failed once: not tried again
_UNSUPPORTED: set[tuple[str, int, int]] = set()


def place_object(store: ObjectStore, oid: str, dest: Path, link_types: list[str],
                 spares: SpareCopies | None = None) -> str:
    """Make *dest* hold object *oid* (a spare copy of it, if *spares* has one); return the link type used.

    Raises:
        MissingObjectError: the object is not stored.
        OSError: every link type failed.
    """
    devices = _devices(store, oid, dest.parent)
    staging = _staging(store, dest.parent, devices)
    try:
        return _place(store, oid, dest, link_types, staging, devices, spares)
    except OSError as exc:
        if exc.errno != errno.EXDEV or staging == dest.parent:
            raise
        return _place(store, oid, dest, link_types, dest.parent, devices, spares)  # another mount of the same disk


def _staging(store: ObjectStore, folder: Path, devices: tuple[int, int]) -> Path:
    """Where a new work-tree file or folder is made before it is renamed into *folder*: the store's
    tmp/ when that is on the same file system (so git never sees a half-made file), else *folder*."""
    return store.tmp_dir if devices[0] == devices[1] else folder


def _place(store: ObjectStore, oid: str, dest: Path, link_types: list[str], staging: Path,
           devices: tuple[int, int], spares: SpareCopies | None) -> str:
    tmp = tmp_name(staging)
    if _from_spare(spares, oid, tmp):
        kind = "copy"
    else:
        kind = _link(store.location(oid), tmp, link_types, devices)
    try:
        os.replace(tmp, dest)
    except OSError:
        unlink_quietly(tmp)
        raise
    return kind


def build_folder(store: ObjectStore, manifest: dict[str, str], dest: Path, link_types: list[str],
                 on_file: Advance = ignore, spares: SpareCopies | None = None,
                 ) -> tuple[str | None, list[tuple[str, os.stat_result, str]]]:
    """Create the folder *dest*, which must not exist, holding *manifest* (relpath -> oid).

    *on_file* is told of each file placed; the spare copies in *spares* are used where there are some.

    Returns the link type used and (relpath, stat, oid) of each file.

    Raises:
        MissingObjectError: an object is not stored (nothing is left behind).
        OSError: every link type failed, or *dest* appeared meanwhile.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    devices = _devices(store, next(iter(manifest.values())), dest.parent) if manifest else (0, 0)
    staging = _staging(store, dest.parent, devices)
    try:
        return _build(store, manifest, dest, link_types, on_file, staging, devices, spares)
    except OSError as exc:
        if exc.errno != errno.EXDEV or staging == dest.parent:
            raise
        return _build(store, manifest, dest, link_types, on_file, dest.parent, devices, spares)


def _build(store: ObjectStore, manifest: dict[str, str], dest: Path, link_types: list[str], on_file: Advance,
           staging: Path, devices: tuple[int, int], spares: SpareCopies | None,
           ) -> tuple[str | None, list[tuple[str, os.stat_result, str]]]:
    building = tmp_name(staging)
    base = os.fspath(building) + os.sep
    written: list[tuple[str, os.stat_result, str]] = []
    kind = None
    try:
        os.mkdir(building)
        for folder in sorted({rel.rpartition("/")[0] for rel in manifest} - {""}):
            os.makedirs(base + folder, exist_ok=True)
        for relpath, oid in manifest.items():
            target = base + relpath
            try:
                kind = "copy" if _from_spare(spares, oid, target) else \
                    _link(store.location(oid), target, link_types, devices)
                written.append((relpath, os.stat(target), oid))  # a symlink to a missing object fails here
                on_file(1)
            except FileNotFoundError:
                store.read_bytes(oid)  # raises MissingObjectError with the usual hint
                raise
        os.rename(building, dest)  # fails if dest exists: nothing is replaced behind the caller's back
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return kind, written


def _from_spare(spares: SpareCopies | None, oid: str, target: str | Path) -> bool:
    """Rename a spare copy of *oid* (made while it was pulled) to *target*; False when there is none."""
    spare = spares.take(oid) if spares is not None else None
    if spare is None:
        return False
    try:
        os.rename(spare, target)
        os.chmod(target, WORKTREE_MODE)
    except OSError:  # another file system, say: copy from the object as usual
        unlink_quietly(spare)
        return False
    return True


def will_copy(store: ObjectStore, link_types: list[str]) -> bool:
    """Whether checkout will copy objects: no link type listed before ``copy`` works for the store.

    Each such type is tried once on an empty file in the store's tmp/ folder.
    """
    for kind in link_types:
        if kind == "copy":
            return True
        probe, target = tmp_name(store.tmp_dir, "probe-"), tmp_name(store.tmp_dir, "probe-")
        try:
            probe.touch(exist_ok=False)
            LINKERS[kind](os.fspath(probe), target)
            return False
        except OSError:
            continue
        finally:
            unlink_quietly(target)
            unlink_quietly(probe)
    return False


def _devices(store: ObjectStore, oid: str, folder: Path) -> tuple[int, int]:
    """(device of the store, device of *folder*): what link types are remembered to fail by."""
    try:
        src_dev = os.stat(store.location(oid)).st_dev
    except FileNotFoundError:
        store.read_bytes(oid)  # raises MissingObjectError with the usual hint
        raise
    try:
        return src_dev, os.stat(folder).st_dev
    except FileNotFoundError:
        folder.mkdir(parents=True, exist_ok=True)
        return src_dev, os.stat(folder).st_dev


def _link(src: str, target: str | Path, link_types: list[str], devices: tuple[int, int]) -> str:
    """Create the new file *target* holding *src* with the first link type that works; return it."""
    last_error: OSError | None = None
    for kind in link_types:
        if kind != "copy" and (kind, *devices) in _UNSUPPORTED:
            continue
        try:
            LINKERS[kind](src, target)
            return kind
        except OSError as exc:
            unlink_quietly(target)
            if kind == "copy" or exc.errno not in _FALLBACK_ERRNOS:
                raise
            _UNSUPPORTED.add((kind, *devices))
            last_error = exc
    raise last_error or OSError(errno.EOPNOTSUPP, "no link type worked")


def remove_path(path: Path) -> None:
    """Delete a file, a symlink or a whole folder."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        unlink_quietly(path)
