"""Objects to and from a remote that is a local folder (or a mounted share), without dvc-data.

dvc-data still decides what is missing (``compare_status``); moving the bytes
is plain file copying, which dvc-objects does with several metadata calls per
object. Here:

- push: each object is copied (``copy_file_range``, so the kernel moves the
  bytes) into ``ROOT/.hpcfair-tmp/``, the folder is flushed once (``syncfs``),
  then every copy is renamed into ``ROOT/files/sha256/``: an object appears
  whole or not at all, and a killed push leaves only temporary files that the
  next push removes;
- pull: each object is hashed while it is copied into the local store's
  ``tmp/`` (``ObjectStore.stage_file``: one read, no second verify pass) and
  committed only if the hash matches the id it was asked for.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .._io import copy_file, fsync_dir, remove_stale_tmp, syncfs, tmp_name, unlink_quietly
from ..errors import UnreadableFileError
from ..store import OBJECT_MODE, ObjectStore, Staged, digest_of
from .connect import Remote

TMP_DIR = ".hpcfair-tmp"
STALE_AFTER = 3600.0  # seconds: the folder may be shared by pushes from other machines


def usable(remote: Remote) -> bool:
    return remote.scheme == "local"


def _workers(jobs: int | None, count: int) -> int:
    return max(1, min(jobs or 4, count))


def _child(callback: Any, src: str, dst: str) -> Any:
    from fsspec.callbacks import DEFAULT_CALLBACK

    return (callback.branched(src, dst) if callback is not None else None) or DEFAULT_CALLBACK


def push(remote: Remote, store: ObjectStore, oids: Iterable[str], jobs: int | None, callback: Any
         ) -> tuple[set[str], set[str]]:
    """Copy *oids* from *store* into the remote folder; return (moved, failed)."""
    oids = sorted(oids)
    if not oids:
        return set(), set()
    root = Path(remote.path("files", "sha256"))
    staging = Path(remote.root) / TMP_DIR
    staging.mkdir(parents=True, exist_ok=True)
    remove_stale_tmp(staging, older_than=STALE_AFTER)

    def copy(oid: str) -> tuple[str, Path | None]:
        tmp = tmp_name(staging)
        try:
            child = _child(callback, os.fspath(store.path(oid)), os.fspath(tmp))
            child.set_size(store.path(oid).stat().st_size)
            copy_file(store.path(oid), tmp, OBJECT_MODE, child.relative_update)
            return oid, tmp
        except OSError:
            unlink_quietly(tmp)
            return oid, None

    with ThreadPoolExecutor(_workers(jobs, len(oids))) as pool:
        copies = list(pool.map(copy, oids))
    done = [(oid, tmp) for oid, tmp in copies if tmp is not None]
    failed = {oid for oid, tmp in copies if tmp is None}
    syncfs(staging)
    shards: set[Path] = set()
    for oid, tmp in done:  # files before the trees that name them (tree ids sort after: ".dir")
        dest = root / oid[:2] / oid[2:]
        if dest.parent not in shards:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shards.add(dest.parent)
        try:
            os.replace(tmp, dest)
        except FileNotFoundError:  # removed as stale by another machine's push
            failed.add(oid)
    for shard in shards:
        fsync_dir(shard)
    return {oid for oid, _ in done} - failed, failed


def pull(remote: Remote, store: ObjectStore, oids: Iterable[str], jobs: int | None, callback: Any
         ) -> tuple[dict[str, int], set[str], set[str]]:
    """Copy *oids* from the remote folder into *store*, hashing while copying.

    Returns (adopted id -> size, corrupt ids, failed ids). A file whose bytes do not
    hash to its name never enters the store.
    """
    oids = sorted(oids)
    if not oids:
        return {}, set(), set()
    root = os.fspath(remote.path("files", "sha256"))

    def stage(oid: str) -> tuple[str, Staged | None]:
        src = os.path.join(root, oid[:2], oid[2:])
        try:
            child = _child(callback, src, store.location(oid))
            return oid, store.stage_file(src, child.relative_update)
        except (OSError, UnreadableFileError):  # missing or unreadable on the remote
            return oid, None

    with ThreadPoolExecutor(_workers(jobs, len(oids))) as pool:
        results = list(pool.map(stage, oids))
    good: list[Staged] = []
    corrupt: set[str] = set()
    failed: set[str] = set()
    for oid, staged in results:
        if staged is None:
            failed.add(oid)
        elif staged.oid != digest_of(oid):
            corrupt.add(oid)
            store.discard([staged])
        else:
            staged.oid = oid  # a tree is hashed as plain bytes: keep its ".dir" id
            good.append(staged)
    store.commit(good)
    return {s.oid: s.size for s in good}, corrupt, failed
