"""Temporary files: their names, who owns them, and removing those whose writer is gone.

Everything hpcfair writes is first written under a temporary name
(``.hpcfair-tmp-...``) and renamed into place; a process killed meanwhile leaves
the temporary file behind, and a later command removes it, but only once its
writer is really gone. A pid cannot tell: a killed process may linger as a
zombie whose pid still answers ``kill(pid, 0)``, and on a cluster's shared file
system the writer may run on another node. So a process that writes inside a
repository first takes an exclusive lock on an owner file,
``.hpcfair/owners/TOKEN``, and holds it as long as it lives; its temporary
names carry TOKEN. The kernel drops the lock when the process ends, before it is
a zombie (on NFS the lock manager does, for every node), so a temporary file
whose owner file is missing or not locked is stale.

Outside a repository (a local-folder remote's staging folder, shared by pushes
from other machines) owners cannot be asked: there, age alone decides.
"""

from __future__ import annotations

import atexit
import fcntl
import itertools
import os
import re
import threading
import time
import uuid
from pathlib import Path

TMP_MARK = ".hpcfair-tmp-"
OWNER = uuid.uuid4().hex[:16]  # this process's token
_OWNER_IN_NAME = re.compile(r"([0-9a-f]{16})(?:\.\d+)?$")

_counter = itertools.count()
_repositories: dict[str, Path] = {}  # a repository's root (ending in a separator) -> its owners folder
_held: dict[str, int] = {}  # owners folder -> the descriptor holding our owner file's lock
_claiming = threading.Lock()


def tmp_name(directory: Path, stem: str = "") -> Path:
    """A unique temporary path inside *directory* (the target's file system), owned by this process."""
    owners = owners_for(directory)
    if owners is not None and os.fspath(owners) not in _held:
        _claim(owners)
    return directory / f"{TMP_MARK}{stem}{OWNER}.{next(_counter)}"


def register_repository(root: Path, owners: Path) -> None:
    """Temporary files below *root* are owned through lock files in *owners* (each Repo registers itself)."""
    _repositories[os.fspath(root).rstrip(os.sep) + os.sep] = Path(owners)


def owners_for(directory: Path | str) -> Path | None:
    """The owners folder of the innermost registered repository holding *directory*, or None."""
    path = os.fspath(directory).rstrip(os.sep) + os.sep
    root = max((root for root in _repositories if path.startswith(root)), key=len, default=None)
    return _repositories[root] if root is not None else None


def _claim(owners: Path) -> None:
    """Create and lock this process's owner file in *owners* (locked before it gets its name)."""
    with _claiming:
        if os.fspath(owners) in _held:
            return
        try:
            owners.mkdir(parents=True, exist_ok=True)
            claim = owners / f"{TMP_MARK}{OWNER}"
            fd = os.open(claim, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except OSError:  # a read-only repository: no temporary file can be written there either
            return
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, f"pid {os.getpid()} on {os.uname().nodename}\n".encode())
        os.rename(claim, owners / OWNER)
        _held[os.fspath(owners)] = fd


@atexit.register
def _release() -> None:
    """On a normal exit, drop our owner files (a killed process leaves them for remove_dead_owners)."""
    for owners, fd in list(_held.items()):
        try:
            os.unlink(os.path.join(owners, OWNER))
        except OSError:
            pass
        os.close(fd)
        del _held[owners]


def owner_alive(owners: Path, token: str) -> bool:
    """Whether the process that holds *token* in *owners* still runs (holds its lock)."""
    if token == OWNER and os.fspath(owners) in _held:
        return True
    try:
        fd = os.open(owners / token, os.O_RDWR)  # NFS emulates flock with write locks: a writable descriptor
    except FileNotFoundError:
        return False
    except OSError:  # another user's file, say: cannot tell, so keep what it owns
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # held by its living owner (or locks do not work here: keep what it owns)
        return True
    finally:
        os.close(fd)
    return False


def is_stale(entry: os.DirEntry, owners: Path | None, older_than: float) -> bool:
    """Whether the temporary file *entry* was left by a writer that is gone.

    With *owners*, by its owner's lock (a name without a token is stale); without, by age:
    stale when not modified for *older_than* seconds (never, when that is 0).
    """
    if owners is None:
        return older_than > 0 and entry.stat(follow_symlinks=False).st_mtime < time.time() - older_than
    match = _OWNER_IN_NAME.search(entry.name)
    return match is None or not owner_alive(owners, match.group(1))


def remove_stale_tmp(directory: Path, older_than: float = 0.0) -> int:
    """Delete the temporary files and folders in *directory* whose writer is gone; return the count."""
    owners = owners_for(directory)
    removed = 0
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return 0
    for entry in entries:
        if not entry.name.startswith(TMP_MARK):
            continue
        try:
            if not is_stale(entry, owners, older_than):
                continue
            if entry.is_dir(follow_symlinks=False):
                import shutil  # 2-3 ms at start-up (it loads bz2 and lzma): only when a folder is left

                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                os.unlink(entry.path)
            removed += 1
        except FileNotFoundError:
            continue
    return removed


def remove_dead_owners(owners: Path) -> int:
    """Delete the owner files of processes that are gone (killed ones leave theirs); return the count."""
    removed = 0
    try:
        entries = list(os.scandir(owners))
    except FileNotFoundError:
        return 0
    for entry in entries:
        match = _OWNER_IN_NAME.search(entry.name)
        if match and not owner_alive(owners, entry.name):
            try:
                os.unlink(entry.path)
                removed += 1
            except FileNotFoundError:
                continue
    return removed
