"""Arrays in and out of files: .npy (memory-mapped), .npz, .csv, .json (and .parquet in).

Inputs: a ``.npy`` file is memory-mapped and the pages of rows already used are
released (``madvise(DONTNEED)``), so a file larger than RAM streams through in
batches. Outputs are written to a temporary file beside the target and renamed
at the end: a failed run leaves nothing at the output path.
"""

from __future__ import annotations

import json
import mmap
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..fileio.files import unlink_quietly
from ..fileio.tmpfiles import tmp_name
from ..errors import InputFileError, PathNotFoundError, UsageError, describe

INPUT_SUFFIXES = (".npy", ".npz", ".csv", ".json", ".parquet")
OUTPUT_SUFFIXES = (".npy", ".npz", ".csv", ".json")
UNNAMED = ""  # the key of a single array that names no input (.npy, .csv, a JSON list)


def read_arrays(path: Path, fmt: str | None = None) -> dict[str, Any]:
    """The arrays in *path*, by input name (``UNNAMED`` for a file holding one unnamed array).

    *fmt* (a suffix such as ``.csv``) overrides the file's own suffix, for stored objects.

    Raises:
        PathNotFoundError, InputFileError.
    """
    import numpy as np

    suffix = (fmt or path.suffix).lower()
    if not path.exists():
        raise PathNotFoundError(f"input file {path} does not exist")
    if suffix not in INPUT_SUFFIXES:
        raise InputFileError(f"cannot read {path.name}: unknown input format {suffix or '(no suffix)'}")
    try:
        if suffix == ".npy":
            return {UNNAMED: np.load(path, mmap_mode="r", allow_pickle=False)}
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                return {name: archive[name] for name in archive.files}
        if suffix == ".csv":
            return {UNNAMED: _read_csv(path, np)}
        if suffix == ".parquet":
            return {UNNAMED: _read_parquet(path, np)}
        return _read_json(path, np)
    except InputFileError:
        raise
    except (OSError, ValueError, EOFError, KeyError) as exc:
        raise InputFileError(f"cannot read {path.name}: {describe(exc)}") from None


def _read_csv(path: Path, np: Any) -> Any:
    with open(path, encoding="utf-8") as handle:
        first = handle.readline()
    skip = 0 if is_numeric_row(first) else 1  # a header row
    return np.loadtxt(path, delimiter=",", skiprows=skip, ndmin=2, dtype=np.float64)


def _read_parquet(path: Path, np: Any) -> Any:
    """The numeric columns side by side, one row per record (like a .csv); pyarrow reads it."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InputFileError(f"cannot read {path.name}: reading .parquet needs pyarrow",
                             hint="pip install 'hpcfair[scale]'") from None
    try:
        table = pq.read_table(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow's errors have no common base but Exception
        raise InputFileError(f"cannot read {path.name}: {describe(exc)}") from None
    columns = []
    for name, column in zip(table.column_names, table.columns):
        values = column.to_numpy(zero_copy_only=False)
        if values.dtype.kind not in "biuf":
            raise InputFileError(f"cannot read {path.name}: column {name!r} is {column.type}, not numbers")
        columns.append(values)
    if not columns:
        raise InputFileError(f"cannot read {path.name}: it has no columns")
    return np.column_stack(columns)


def is_numeric_row(line: str) -> bool:
    """Whether a CSV line is numbers (not a header)."""
    try:
        [float(cell) for cell in line.strip().split(",") if cell.strip()]
        return True
    except ValueError:
        return False


def _read_json(path: Path, np: Any) -> dict[str, Any]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(doc, list):
        return {UNNAMED: np.asarray(doc)}
    if isinstance(doc, dict) and all(isinstance(v, list) for v in doc.values()):
        return {name: np.asarray(value) for name, value in doc.items()}
    raise InputFileError(f"cannot read {path.name}: expected a list, or an object of lists by input name")


def release_rows(array: Any, start: int, stop: int) -> None:
    """Give back the memory of rows [start, stop) of a memory-mapped array (a no-op otherwise)."""
    raw = getattr(getattr(array, "base", None), "_mmap", None) or getattr(array, "_mmap", None)
    if not isinstance(raw, mmap.mmap) or not hasattr(raw, "madvise") or array.ndim == 0:
        return
    row = array.strides[0]
    offset = getattr(array, "offset", 0)
    first = (offset + start * row) // mmap.PAGESIZE * mmap.PAGESIZE
    last = offset + stop * row
    if last > first:
        try:
            raw.madvise(mmap.MADV_DONTNEED, first, min(last, len(raw)) - first)
        except (OSError, ValueError):
            pass


def check_output_path(path: Path, outputs: int) -> None:
    """Refuse an output path that cannot hold *outputs* arrays, before anything runs.

    Raises:
        UsageError: unknown suffix, or several outputs for a one-array format.
    """
    suffix = path.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise UsageError(f"--output {path.name}: unknown format {suffix or '(no suffix)'}",
                         hint="use .npz (every output by name), .npy, .csv or .json")
    if suffix == ".npy" and outputs > 1:
        raise UsageError(f"--output {path.name}: the model has {outputs} outputs and .npy holds one",
                         hint="use .npz (one array per output) or .json")
    if path.is_dir():
        raise UsageError(f"--output {path} is a folder", hint="give a file name")


class OutputWriter:
    """Collects a run's outputs slice by slice and writes them to *path* atomically.

    A single ``.npy`` output streams to disk (bounded memory); other formats are
    assembled in memory. ``commit`` renames the finished file into place;
    ``discard`` removes the temporary file.
    """

    def __init__(self, path: Path, names: Sequence[str], rows: int) -> None:
        self.path, self.names, self.rows = path, list(names), rows
        path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = tmp_name(path.parent)
        self._parts: list[list[Any]] = []
        self._stream: Any = None

    def __call__(self, start: int, outputs: list[Any]) -> None:
        import numpy as np

        if self.path.suffix.lower() == ".npy" and self.rows:
            if self._stream is None:
                shape = (self.rows, *outputs[0].shape[1:])
                self._stream = np.lib.format.open_memmap(self.tmp, mode="w+", dtype=outputs[0].dtype,
                                                         shape=shape)
            self._stream[start:start + len(outputs[0])] = outputs[0]
            release_rows(self._stream, start, start + len(outputs[0]))  # dirty pages stay in the page cache
            return
        self._parts.append(outputs)

    def described(self) -> dict[str, dict[str, Any]]:
        """Shape and dtype of each output written."""
        if self._stream is not None:
            return {self.names[0]: {"shape": list(self._stream.shape), "dtype": str(self._stream.dtype)}}
        described = {}
        for i, name in enumerate(self.names):
            pieces = [part[i] for part in self._parts]
            rows = sum(len(p) for p in pieces) if pieces and pieces[0].ndim else None
            shape = [rows, *pieces[0].shape[1:]] if rows is not None else list(pieces[0].shape) if pieces else []
            described[name] = {"shape": shape, "dtype": str(pieces[0].dtype) if pieces else ""}
        return described

    def arrays(self) -> list[Any]:
        import numpy as np

        if len(self._parts) == 1:
            return self._parts[0]
        return [np.concatenate([p[i] for p in self._parts]) for i in range(len(self.names))]

    def commit(self) -> Path:
        import numpy as np

        suffix = self.path.suffix.lower()
        if self._stream is not None:
            self._stream.flush()  # once: an msync per slice cost 10% of a fast model's run (docs/decisions.md)
            del self._stream
        elif suffix == ".npy":
            with open(self.tmp, "wb") as out:
                np.save(out, self.arrays()[0])
        elif suffix == ".npz":
            with open(self.tmp, "wb") as out:
                np.savez(out, **dict(zip(self.names, self.arrays())))
        elif suffix == ".csv":
            _write_csv(self.tmp, self.names, self.arrays(), np)
        else:
            doc = {name: array.tolist() for name, array in zip(self.names, self.arrays())}
            self.tmp.write_text(json.dumps(doc), encoding="utf-8")
        os.replace(self.tmp, self.path)
        return self.path

    def discard(self) -> None:
        self._stream = None
        unlink_quietly(self.tmp)


def _write_csv(path: Path, names: list[str], arrays: list[Any], np: Any) -> None:
    """Every output as columns side by side; a header names them (``probabilities_3``)."""
    columns, header = [], []
    for name, array in zip(names, arrays):
        flat = np.asarray(array).reshape(len(array), -1) if np.ndim(array) else np.asarray(array).reshape(1, 1)
        columns.append(flat)
        header += [name] if flat.shape[1] == 1 else [f"{name}_{i}" for i in range(flat.shape[1])]
    np.savetxt(path, np.hstack([c.astype(np.float64) for c in columns]), delimiter=",",
               header=",".join(header), comments="", fmt="%.9g")


def summary(names: Sequence[str], arrays: Sequence[Any], rows: int = 3) -> list[str]:
    """A few readable lines per output for the terminal."""
    import numpy as np

    lines = []
    for name, array in zip(names, arrays):
        array = np.asarray(array)
        lines.append(f"{name}: shape {list(array.shape)} {array.dtype}")
        if array.size and array.dtype.kind in "fiub":
            lines.append(f"  min {array.min():.6g}  max {array.max():.6g}  mean {array.mean():.6g}")
        with np.printoptions(precision=4, suppress=True, threshold=40, edgeitems=3):
            for row in array[:rows] if array.ndim else [array]:
                lines.append(f"  {row}")
        if array.ndim and len(array) > rows:
            lines.append(f"  ... {len(array) - rows} more")
    return lines
