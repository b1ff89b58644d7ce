"""A dataset cut into chunks: its files (shards) in path order, a ``.npy`` shard split into row ranges.

A chunk of a ``.npy`` shard is ``chunk_rows`` rows, a multiple of the batch
size, so the batches a worker runs are the ones a single process runs on the
same files, and the output bytes are the same. Other shards (``.npz``, ``.csv``,
``.parquet``) are read whole and are one chunk each.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputFileError, UsageError, describe

SHARD_SUFFIXES = (".npy", ".npz", ".csv", ".parquet")


@dataclass(frozen=True)
class RemoteAddress:
    """A remote as its configuration: a worker rebuilds the remote from it (remotes.connect)."""

    name: str
    options: dict[str, Any] = field(repr=False)  # url and options, secrets included: never shown or logged


@dataclass(frozen=True)
class StoredObject:
    """Where a worker finds a file's bytes: *path* on a shared file system, else *remote_path* on *remote*.

    *oid* is its sha256 (None for a file outside any store, which is read only in place).
    """

    path: str
    oid: str | None = None
    size: int = 0
    remote: RemoteAddress | None = None
    remote_path: str | None = None


@dataclass(frozen=True)
class Shard:
    name: str  # its path inside the dataset (the file's name for a one-file dataset)
    fmt: str  # one of SHARD_SUFFIXES
    data: StoredObject
    rows: int


@dataclass(frozen=True)
class Chunk:
    index: int
    shard: Shard
    begin: int  # rows [begin, end) of the shard
    end: int
    offset: int  # where its rows go in the output

    @property
    def rows(self) -> int:
        return self.end - self.begin

    def describe(self) -> str:
        return f"chunk {self.index} ({self.shard.name} rows {self.begin}-{self.end - 1})"


def chunk_size(chunk_rows: int, batch_size: int) -> int:
    """*chunk_rows* rounded up to a whole number of batches."""
    return max(1, -(-chunk_rows // batch_size)) * batch_size


def plan(shards: list[Shard], chunk_rows: int) -> list[Chunk]:
    """The chunks of *shards*, in output order."""
    chunks: list[Chunk] = []
    offset = 0
    for shard in shards:
        step = chunk_rows if shard.fmt == ".npy" else max(shard.rows, 1)
        for begin in range(0, max(shard.rows, 1), step):
            end = min(begin + step, shard.rows)
            chunks.append(Chunk(len(chunks), shard, begin, end, offset))
            offset += end - begin
    return chunks


def shard_of(name: str, data: StoredObject) -> Shard:
    """The shard at *data.path* (read locally: its rows come from the file's header).

    Raises:
        UsageError: not a shard format; InputFileError: unreadable.
    """
    fmt = Path(name).suffix.lower()
    if fmt not in SHARD_SUFFIXES:
        raise UsageError(f"{name}: a dataset to scale out holds only {', '.join(SHARD_SUFFIXES)} files",
                         hint="move other files out of the dataset, or convert them")
    try:
        return Shard(name, fmt, data, _rows(Path(data.path), fmt))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise InputFileError(f"cannot read {name}: {describe(exc)}") from None


def _rows(path: Path, fmt: str) -> int:
    import numpy as np

    if fmt == ".npy":
        with open(path, "rb") as handle:
            return _npy_rows(handle, np)
    if fmt == ".npz":
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.namelist() if m.endswith(".npy")]
            if not members:
                raise ValueError("the .npz holds no arrays")
            with archive.open(members[0]) as handle:
                return _npy_rows(handle, np)
    if fmt == ".parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    with open(path, "rb") as handle:  # .csv: lines that hold something, less a header
        lines = [line for line in handle if line.strip()]
    from ..runtime.arrays import is_numeric_row

    return len(lines) - (0 if not lines or is_numeric_row(lines[0].decode("utf-8", "replace")) else 1)


def _npy_rows(handle: Any, np: Any) -> int:
    version = np.lib.format.read_magic(handle)
    shape, _, dtype = _header(handle, version, np)
    if dtype.hasobject:
        raise ValueError("it holds Python objects (a pickle), which hpcfair never loads")
    return int(shape[0]) if shape else 0


def _header(handle: Any, version: tuple[int, int], np: Any) -> tuple[tuple[int, ...], bool, Any]:
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(handle)
    return np.lib.format.read_array_header_2_0(handle)
