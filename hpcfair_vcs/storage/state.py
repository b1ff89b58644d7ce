"""The stat cache: (inode, size, mtime, ctime) of a work-tree file -> its sha256.

A second table maps a tracked folder to its tree id and a fingerprint of all
its files' stats, so a no-op ``status`` of a 10,000-file dataset reads one row.

A file whose stat matches its cached row is not hashed again. The cache is
only an accelerator: deleting ``state.db`` loses nothing. A file changed
within ``RACY_WINDOW_NS`` of being hashed is not cached, because a second
change in the same clock tick could keep its mtime (git's "racy clean" case).
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

RACY_WINDOW_NS = 100_000_000  # 0.1 s, well above the kernel's coarse clock tick

Fingerprint = tuple[int, int, int, int]


def _key(relpath: str) -> str:
    """A path as a storable key: its bytes read as latin-1, so file names that are not UTF-8
    (which Python holds as surrogates, and sqlite refuses) are kept too; byte order is kept."""
    return relpath.encode("utf-8", "surrogateescape").decode("latin-1")


def _path(key: str) -> str:
    return key.encode("latin-1").decode("utf-8", "surrogateescape")


def fingerprint(st: os.stat_result) -> Fingerprint:
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class StateCache:
    """SQLite table keyed by repository-relative posix path."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None
        self._pending: list[tuple[str, int, int, int, int, str]] = []
        self._pending_folders: list[tuple[str, str, str]] = []

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            try:
                self._db = self._open(self.path)
            except sqlite3.DatabaseError:  # read-only or unreadable: a cache, so work without it
                self._db = self._open(":memory:")
        return self._db

    @staticmethod
    def _open(where: Path | str) -> sqlite3.Connection:
        db = sqlite3.connect(where, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS state (path TEXT PRIMARY KEY, ino INTEGER, "
                       "size INTEGER, mtime INTEGER, ctime INTEGER, oid TEXT)")
            db.execute("CREATE TABLE IF NOT EXISTS folders (path TEXT PRIMARY KEY, fingerprint TEXT, oid TEXT)")
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def get(self, relpath: str, st: os.stat_result) -> str | None:
        row = self._conn().execute(
            "SELECT ino, size, mtime, ctime, oid FROM state WHERE path = ?", (_key(relpath),)).fetchone()
        if row and tuple(row[:4]) == fingerprint(st):
            return row[4]
        return None

    def load_prefix(self, prefix: str) -> dict[str, tuple[Fingerprint, str]]:
        """All rows under folder *prefix* (``data/set/``), by path."""
        start = _key(prefix)
        rows = self._conn().execute(
            "SELECT path, ino, size, mtime, ctime, oid FROM state WHERE path >= ? AND path < ?",
            (start, start[:-1] + chr(ord(start[-1]) + 1)))
        return {_path(row[0]): (tuple(row[1:5]), row[5]) for row in rows}

    def put(self, relpath: str, st: os.stat_result, oid: str, now_ns: int | None = None) -> None:
        """Remember *oid* for *relpath*, unless the file is too fresh to trust."""
        now_ns = time.time_ns() if now_ns is None else now_ns
        if now_ns - st.st_mtime_ns < RACY_WINDOW_NS or now_ns - st.st_ctime_ns < RACY_WINDOW_NS:
            return
        self._pending.append((_key(relpath), *fingerprint(st), oid))

    def get_folder(self, relpath: str, folder_fingerprint: str) -> str | None:
        """The tree id last computed for a folder whose files all still have the same stats."""
        row = self._conn().execute(
            "SELECT fingerprint, oid FROM folders WHERE path = ?", (_key(relpath),)).fetchone()
        return row[1] if row and row[0] == folder_fingerprint else None

    def put_folder(self, relpath: str, folder_fingerprint: str, oid: str, newest_ns: int) -> None:
        """Remember a folder's tree id, unless one of its files is too fresh to trust."""
        if time.time_ns() - newest_ns < RACY_WINDOW_NS:
            return
        self._pending_folders.append((_key(relpath), folder_fingerprint, oid))

    def flush(self) -> None:
        """Write remembered rows in one transaction (a cache: losing them is harmless)."""
        if not self._pending and not self._pending_folders:
            return
        db = self._conn()
        try:
            with db:
                db.execute("BEGIN")
                db.executemany("INSERT OR REPLACE INTO state VALUES (?, ?, ?, ?, ?, ?)", self._pending)
                db.executemany("INSERT OR REPLACE INTO folders VALUES (?, ?, ?)", self._pending_folders)
        except sqlite3.OperationalError:  # pragma: no cover - a locked or read-only cache
            pass
        self._pending.clear()
        self._pending_folders.clear()

    def close(self) -> None:
        self.flush()
        if self._db is not None:
            self._db.close()
            self._db = None
