"""Objects to and from a remote that is a local folder (or a mounted share), without dvc-data.

dvc-data's status and transfer cost several stats and metadata calls per
object, which dominate when the objects are small. Here:

- what the remote has is read from a listing of each busy shard folder (a
  stat each for a few objects);
- push: each object is copied (``_io.copy_file``; from ``BYPASS_FROM`` on
  straight to disk, ``_direct_copy``) into ``ROOT/.hpcfair-tmp/``, the copies
  are flushed (``_io.flush_files``), then every copy is renamed into
  ``ROOT/files/sha256/``: an object appears
  whole or not at all, and a killed push leaves only temporary files that the
  next push removes;
- pull: each object is hashed while it is copied into the local store's
  ``tmp/`` (``ObjectStore.receive_file``: one read, no second verify pass; a big
  one also feeds checkout's copy in that pass) and committed only if the hash
  matches the id it was asked for.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from ..fileio.direct import BYPASS_FROM, copy_new
from ..fileio.files import copy_file, flush_files, fsync_dir, open_regular, unlink_quietly, write_all
from ..fileio.tmpfiles import remove_stale_tmp, tmp_name
from ..errors import RefusedFileError, UnreadableFileError
from ..progress import Advance
from ..storage.spares import SpareCopies
from ..storage.store import OBJECT_MODE, ObjectStore, Staged
from .connect import Remote

T = TypeVar("T")
TMP_DIR = ".hpcfair-tmp"
STALE_AFTER = 3600.0  # seconds: the folder may be shared by pushes from other machines


def usable(remote: Remote) -> bool:
    return remote.scheme == "local"


LIST_ABOVE = 16  # wanted objects in one shard above which listing the shard beats a stat each
CHUNK = 64  # objects per task: one task per file costs more than copying a small file


def _map_in_chunks(work: Callable[[str], T], oids: list[str], jobs: int | None) -> list[T]:
    """``work(oid)`` for every id, in order, on worker threads that take CHUNK ids at a time."""
    chunks = [oids[i:i + CHUNK] for i in range(0, len(oids), CHUNK)]
    with ThreadPoolExecutor(max(1, min(jobs or 4, len(chunks)))) as pool:
        return [result for chunk in pool.map(lambda ids: [work(oid) for oid in ids], chunks) for result in chunk]


def present(root: str, oids: Iterable[str]) -> set[str]:
    """The *oids* whose files exist under *root* (``files/sha256``): a listing per busy shard, else a stat each."""
    shards: dict[str, list[str]] = {}
    for oid in oids:
        shards.setdefault(oid[:2], []).append(oid[2:])
    found: set[str] = set()
    for shard, names in shards.items():
        folder = os.path.join(root, shard)
        if len(names) > LIST_ABOVE:
            try:
                there = set(os.listdir(folder))
            except (FileNotFoundError, NotADirectoryError):
                continue
            found.update(shard + name for name in names if name in there)
        else:
            found.update(shard + name for name in names if os.path.exists(os.path.join(folder, name)))
    return found


def push(remote: Remote, store: ObjectStore, sizes: dict[str, int], jobs: int | None, report: Advance
         ) -> tuple[set[str], set[str]]:
    """Copy the objects of *sizes* (id -> size) that the remote folder lacks; return (moved, failed).

    *report* is told the bytes copied.
    """
    root = os.fspath(remote.path("files", "sha256"))
    oids = sorted(set(sizes) - present(root, sizes))
    if not oids:
        return set(), set()
    staging = Path(remote.root) / TMP_DIR
    staging.mkdir(parents=True, exist_ok=True)
    remove_stale_tmp(staging, older_than=STALE_AFTER)

    def copy(oid: str) -> str | None:
        src = store.location(oid)
        tmp = os.fspath(tmp_name(staging))
        try:
            if sizes[oid] >= BYPASS_FROM:
                copy_new(src, tmp, OBJECT_MODE, kept=True, progress=report)
            else:
                copy_file(src, tmp, OBJECT_MODE, report, sizes[oid])
            return tmp
        except OSError:
            unlink_quietly(tmp)
            return None

    copies = _map_in_chunks(copy, oids, jobs)
    done = [(oid, tmp) for oid, tmp in zip(oids, copies) if tmp is not None]
    failed = {oid for oid, tmp in zip(oids, copies) if tmp is None}
    flush_files([tmp for _, tmp in done], staging)
    shards: set[str] = set()
    for oid, tmp in done:  # files before the trees that name them (tree ids sort after: ".dir")
        shard = os.path.join(root, oid[:2])
        if shard not in shards:
            os.makedirs(shard, exist_ok=True)
            shards.add(shard)
        try:
            os.replace(tmp, os.path.join(shard, oid[2:]))
        except FileNotFoundError:  # removed as stale by another machine's push
            failed.add(oid)
    for shard in shards:
        fsync_dir(Path(shard))
    return {oid for oid, _ in done} - failed, failed


def pull(remote: Remote, store: ObjectStore, oids: Iterable[str], jobs: int | None, report: Advance,
         limits: dict[str, int] | None = None, spares: SpareCopies | None = None,
         ) -> tuple[dict[str, int], set[str], set[str]]:
    """Copy *oids* from the remote folder into *store*, hashing while copying; tell *report* the bytes.

    Given *spares*, each big object's work-tree copy is written in the same pass.

    Returns (adopted id -> size, corrupt ids, failed ids). A file whose bytes do not
    hash to its name never enters the store; neither does a link, a pipe or device, or a
    file larger than *limits* gives for its id (what the records declare): those are corrupt.
    """
    oids = sorted(oids)
    if not oids:
        return {}, set(), set()
    root = os.fspath(remote.path("files", "sha256"))
    limits = limits or {}

    def stage(oid: str) -> tuple[str, Staged | None | RefusedFileError]:
        src = os.path.join(root, oid[:2], oid[2:])
        try:
            return oid, store.receive_file(src, report, limits.get(oid), spares)
        except RefusedFileError as exc:
            return oid, exc
        except (OSError, UnreadableFileError):  # missing or unreadable on the remote
            return oid, None

    results = _map_in_chunks(stage, oids, jobs)
    good: list[Staged] = []
    corrupt: set[str] = set()
    failed: set[str] = set()
    for oid, staged in results:
        if staged is None:
            failed.add(oid)
        elif isinstance(staged, RefusedFileError):
            corrupt.add(oid)
        elif store.matches(staged, oid):
            good.append(staged)
        else:
            corrupt.add(oid)
    store.commit(good)
    return {s.oid: s.size for s in good}, corrupt, failed


def read_small(path: str, limit: int) -> bytes:
    """A small file (a ref, the index, a record) from the remote folder, read only if it is a
    regular file of at most *limit* bytes.

    Raises:
        RefusedFileError: a link, a pipe or device, or larger than *limit*.
        OSError: missing or unreadable.
    """
    fd, size = open_regular(path, limit)
    try:
        return os.read(fd, size + 1)[:limit + 1]
    finally:
        os.close(fd)


def pull_small(remote: Remote, subdir: str, ids: list[str], staging: Path, adopt: Callable[[Path, str], bool],
               limit: int) -> tuple[dict[str, int], set[str]]:
    """Copy small files (records) from the remote folder to *staging* and ``adopt`` each; return
    (adopted id -> size, corrupt ids). Missing or unreadable ones are in neither."""
    adopted: dict[str, int] = {}
    corrupt: set[str] = set()
    for record_id in ids:
        try:
            data = read_small(os.path.join(remote.path(subdir), record_id[:2], record_id[2:]), limit)
        except RefusedFileError:
            corrupt.add(record_id)
            continue
        except OSError:
            continue
        target = staging / record_id
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            write_all(fd, data)
        finally:
            os.close(fd)
        if adopt(target, record_id):
            adopted[record_id] = len(data)
        else:
            corrupt.add(record_id)
    return adopted, corrupt
