"""A chunk's rows on a worker: its file from the store (a shared file system) or from a remote.

A remote's bytes are hostile until checked: a worker copies the whole object
into its own scratch folder while hashing it, and uses it only when its sha256
and size are the ones the repository recorded. The copy is kept for the
worker's next chunks of the same file and goes with the worker's folder.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from ..errors import CorruptObjectError, InputFileError, PathNotFoundError, RemoteError, describe
from ..fileio.files import unlink_quietly
from ..fileio.tmpfiles import tmp_name
from ..remotes.connect import remote_from_options
from ..runtime.arrays import UNNAMED, read_arrays
from .plan import Chunk, RemoteAddress, StoredObject

BLOCK = 1 << 20
_FILESYSTEMS: dict[tuple[str, str], Any] = {}


def local_file(obj: StoredObject, scratch: Path) -> Path:
    """A path on this worker holding *obj*'s bytes.

    Raises:
        PathNotFoundError: the store is not on this worker's file system (and no remote was given).
        CorruptObjectError: the remote's bytes are not the recorded ones.
    """
    if obj.remote is None:
        path = Path(obj.path)
        if not path.is_file():
            raise PathNotFoundError(f"{obj.path} is not on the file system of worker {os.uname().nodename}",
                                    hint="give --remote NAME: the workers then read the data from that remote")
        return path
    copy = scratch / f"{obj.oid}"
    if copy.is_file():
        return copy
    scratch.mkdir(parents=True, exist_ok=True)
    tmp = tmp_name(scratch)
    try:
        digest, size = hashlib.sha256(), 0
        with _filesystem(obj.remote).open(obj.remote_path, "rb") as source, open(tmp, "wb") as out:
            while block := source.read(BLOCK):
                size += len(block)
                if size > obj.size:
                    break
                digest.update(block)
                out.write(block)
        if size != obj.size or digest.hexdigest() != obj.oid:
            raise CorruptObjectError(f"the remote's copy of object {obj.oid[:12]} is not the recorded data "
                                     f"({size if size <= obj.size else 'more than ' + str(obj.size)} bytes, "
                                     f"{obj.size} recorded)", oid=obj.oid,
                                     hint="`hpcfair push` it again from a repository that holds it")
        os.replace(tmp, copy)
    except (OSError, ValueError, RemoteError) as exc:
        raise PathNotFoundError(f"cannot read object {obj.oid[:12]} from the remote: {describe(exc)}") from None
    finally:
        unlink_quietly(tmp)
    return copy


def _filesystem(remote: RemoteAddress) -> Any:
    """The remote's filesystem, built once per worker process."""
    key = (remote.name, json.dumps(remote.options, sort_keys=True, default=str))
    if key not in _FILESYSTEMS:
        _FILESYSTEMS[key] = remote_from_options(remote.name, remote.options).fs
    return _FILESYSTEMS[key]


def read_chunk(chunk: Chunk, path: Path) -> dict[str, Any]:
    """The arrays of *chunk*'s rows in the file at *path*, by input name (``UNNAMED`` for one array).

    Raises:
        InputFileError: unreadable, or not the rows the plan counted.
    """
    arrays = read_arrays(path, fmt=chunk.shard.fmt)
    first = next(iter(arrays.values()), None)
    rows = len(first) if first is not None and first.ndim else 0
    if rows != chunk.shard.rows:
        raise InputFileError(f"{chunk.shard.name} has {rows} rows, {chunk.shard.rows} when the work was planned")
    if chunk.shard.fmt == ".npy":
        return {UNNAMED: arrays[UNNAMED][chunk.begin:chunk.end]}
    return arrays
