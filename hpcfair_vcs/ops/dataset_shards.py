"""A dataset (an artifact, a file or a folder) as the shards scale-out reads: each file with its rows.

A stored dataset's files are named by their objects in the store (a worker on
the same file system opens them there) and, with a remote, where the remote
keeps them (a worker elsewhere copies them from there, checking their sha256).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ArtifactNotFoundError, PathNotFoundError, UsageError
from ..repo import Repo
from ..remotes.connect import Remote
from ..scaleout.plan import RemoteAddress, Shard, StoredObject, shard_of
from ..storage.tree import is_tree
from .resolve import resolve, stored_path


def stored_object(r: Repo, oid: str, remote: Remote | None) -> StoredObject:
    """Where workers read object *oid*: the store, or *remote*."""
    path = r.store.path(oid).resolve()  # absolute: a batch job starts in another folder
    if remote is None:
        return StoredObject(os.fspath(path), oid, path.stat().st_size)
    return StoredObject(os.fspath(path), oid, path.stat().st_size, remote=RemoteAddress(remote.name, remote.options),
                        remote_path=remote.objects.oid_to_path(oid))


def dataset_shards(r: Repo | None, spec: str | os.PathLike, remote: Remote | None = None) -> list[Shard]:
    """The shards of *spec* (a dataset artifact, PID, folder or file), in path order.

    Raises:
        PathNotFoundError, ArtifactNotFoundError, UsageError (a file format no shard has, an empty folder,
        a remote for files that are not stored), InputFileError.
    """
    path = Path(spec)
    if path.exists():
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file())
            shards = [shard_of(p.relative_to(path).as_posix(), StoredObject(os.fspath(p.resolve()))) for p in files]
        else:
            shards = [shard_of(path.name, StoredObject(os.fspath(path.resolve())))]
        if remote is not None:
            raise UsageError(f"--remote reads stored artifacts, and {spec} is a path",
                             hint="add it first (hpcfair add) and push it, then give its name")
        return _nonempty(shards, spec)
    if r is None:
        raise PathNotFoundError(f"input {spec} is neither a file nor a dataset artifact")
    try:
        source = resolve(r, os.fspath(spec))
    except ArtifactNotFoundError:
        raise PathNotFoundError(f"input {spec} is neither a file nor a dataset artifact") from None
    record = source.record
    stored_path(r, record)  # its data is here, or the pull that brings it is named
    if not is_tree(record.oid):
        return [shard_of(Path(record.path).name, stored_object(r, record.oid, remote))]
    listing = r.store.read_tree(record.oid)
    shards = []
    for name in sorted(listing):
        if not r.store.path(listing[name]).exists():
            raise PathNotFoundError(f"{name} of {spec} is not in this repository",
                                    hint=f"run `hpcfair pull {spec}` first")
        shards.append(shard_of(name, stored_object(r, listing[name], remote)))
    return _nonempty(shards, spec)


def _nonempty(shards: list[Shard], spec: str | os.PathLike) -> list[Shard]:
    if not shards:
        raise UsageError(f"dataset {spec} holds no files", hint="give a folder of .npy, .npz, .csv or .parquet files")
    return shards
