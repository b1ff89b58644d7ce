"""Spare copies: work-tree copies of big objects written in the pass that receives them.

A pull whose checkout will copy (no link type works) would otherwise read each big
object twice, once to store it and once to copy it out. ``ops/pull`` makes a
``SpareCopies``, hands it to what receives objects (``ObjectStore.receive_file``,
``receive_stream``, ``adopt``), which write a second copy while hashing, then to
checkout (``worktree/materialize``), which renames a spare into place instead of
copying the object again. Whatever no checkout took is deleted at the end.

A spare is kept under the id its bytes hashed to, so taking one for an id always
gives that id's bytes.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..fileio.files import unlink_quietly
from ..fileio.tmpfiles import tmp_name

SPARE_MODE = 0o644  # a spare becomes a work-tree file


class SpareCopies:
    """Spare work-tree copies in *tmp_dir*, by object id; a context manager that deletes the leftovers."""

    def __init__(self, tmp_dir: Path) -> None:
        self.tmp_dir = Path(tmp_dir)
        self._by_oid: dict[str, str] = {}

    def new_path(self) -> str:
        """A fresh name in tmp/ to write a spare to (then :meth:`keep` it, or delete it)."""
        return os.fspath(tmp_name(self.tmp_dir, "spare-"))

    def keep(self, oid: str, path: str) -> None:
        """Keep the file at *path*, whose bytes hash to *oid*, as a spare of *oid*."""
        previous = self._by_oid.pop(oid, None)
        if previous is not None and previous != path:
            unlink_quietly(previous)
        self._by_oid[oid] = path

    def take(self, oid: str) -> str | None:
        """The spare of *oid* (from now on the caller's file), or None."""
        return self._by_oid.pop(oid, None)

    def drop(self) -> None:
        """Delete the spares no one took."""
        for path in self._by_oid.values():
            unlink_quietly(path)
        self._by_oid.clear()

    def __len__(self) -> int:
        return len(self._by_oid)

    def __enter__(self) -> SpareCopies:
        return self

    def __exit__(self, *exc: object) -> None:
        self.drop()
