"""The catalog: an SQLite index (FTS5) of every artifact's newest version and its metadata.

``search`` ranks free text over names, paths, descriptions, tags, authors, tasks and
domains (bm25) and filters exactly by tag, kind, framework, task, license id and
author; ``add`` asks it which artifact holds the same bytes. It is a cache of the
refs and records: deleting ``catalog.db`` loses nothing.

It stays current in two ways. Every ref write and delete (under the repository lock)
re-indexes that artifact at once (``RefStore.on_change``). And the folder of refs is
watched: the catalog keeps the folder's mtime from after its last update, so a ref
changed by anything else (an older hpcfair, a process killed between the ref and the
catalog) shows as a different mtime, and the next read re-indexes the refs whose file
changed (by inode, size and mtime). A catalog that cannot be read is rebuilt.
Metadata values are only ever bound as SQL parameters: remote text stays text.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from ..errors import HpcfairError
from .records import MetadataRecord, RecordStore, VersionRecord
from .refs import ArtifactRef, RefStore

FORMAT = "1"
TEXT_COLUMNS = ("name", "path", "kind", "description", "tags", "authors", "license", "task", "domain", "framework",
                "citation")
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS info(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS artifacts(
    id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, kind TEXT, framework TEXT, task TEXT, path TEXT,
    head TEXT, head_oid TEXT, ref_stat TEXT);
CREATE INDEX IF NOT EXISTS artifacts_by_oid ON artifacts(head_oid);
CREATE INDEX IF NOT EXISTS artifacts_by_path ON artifacts(path);
CREATE TABLE IF NOT EXISTS facets(artifact INTEGER NOT NULL, facet TEXT NOT NULL, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS facets_by_value ON facets(facet, value, artifact);
CREATE INDEX IF NOT EXISTS facets_by_artifact ON facets(artifact);
CREATE VIRTUAL TABLE IF NOT EXISTS words USING fts5({", ".join(TEXT_COLUMNS)}, tokenize="unicode61 remove_diacritics 2");
"""
WEIGHTS = {"name": 10.0, "path": 2.0, "tags": 5.0, "authors": 3.0, "task": 3.0, "domain": 3.0}  # bm25, per column
LICENSE_WORDS = re.compile(r"[^\s()]+")
LICENSE_OPERATORS = {"AND", "OR", "WITH"}


class Catalog:
    """The index at *path* over *refs* and *records*."""

    def __init__(self, path: Path, refs: RefStore, records: RecordStore) -> None:
        self.path, self.refs, self.records = Path(path), refs, records
        self._db: sqlite3.Connection | None = None

    # --- keeping it current -------------------------------------------------
    def changed(self, name: str, folder_before: int | None) -> None:
        """Re-index *name* after its ref was written or deleted (under the lock); *folder_before* is the
        refs folder's mtime just before, which says whether the catalog was current until then."""
        try:
            db = self._conn()
            with _transaction(db):
                self._index(db, name)
                if folder_before is not None and self._info(db, "refs_mtime") == str(folder_before):
                    self._set_info(db, "refs_mtime", str(self._folder_mtime()))
        except sqlite3.DatabaseError:
            self._discard()  # rebuilt at the next read

    def ensure_current(self) -> None:
        """Re-index what changed behind the catalog's back; rebuild one that cannot be read, and work in
        memory where none can be written (a read-only repository)."""
        try:
            self._refresh(self._conn())
            return
        except sqlite3.DatabaseError:
            self._discard()
        try:
            self._refresh(self._conn())
        except sqlite3.DatabaseError:
            self.close()
            self._db = self._open(":memory:")
            self._refresh(self._db)

    def rebuild(self) -> int:
        """Index every ref again from nothing; the number of artifacts indexed."""
        self._discard()
        return self._refresh(self._conn())

    def _refresh(self, db: sqlite3.Connection) -> int:
        folder = self._folder_mtime()
        if self._info(db, "refs_mtime") == str(folder):
            return 0
        on_disk = self._ref_stats()
        indexed = dict(db.execute("SELECT name, ref_stat FROM artifacts"))
        stale = [name for name, stat in on_disk.items() if indexed.get(name) != stat]
        gone = [name for name in indexed if name not in on_disk]
        with _transaction(db):
            for name in [*stale, *gone]:
                self._index(db, name, on_disk.get(name))
            self._set_info(db, "refs_mtime", str(folder))
        return len(stale)

    def _index(self, db: sqlite3.Connection, name: str, stat: str | None = None) -> None:
        row = db.execute("SELECT id FROM artifacts WHERE name = ?", (name,)).fetchone()
        if row is not None:
            db.execute("DELETE FROM artifacts WHERE id = ?", row)
            db.execute("DELETE FROM facets WHERE artifact = ?", row)
            db.execute("DELETE FROM words WHERE rowid = ?", row)
        ref = self._ref(name)
        if ref is None:
            return
        stat = stat or self._ref_stats([name]).get(name)
        if not ref.head or not self.records.exists(ref.head):  # known by its path only (by_path), not found
            db.execute("INSERT INTO artifacts(name, kind, path, ref_stat) VALUES (?,?,?,?)",
                       (ref.name, ref.kind, ref.path, stat))
            return
        version = self.records.get(ref.head, VersionRecord)
        metadata_id = ref.metadata_of(ref.head)
        meta = self.records.get(metadata_id, MetadataRecord) if metadata_id and self.records.exists(metadata_id) \
            else MetadataRecord(name=ref.name, kind=ref.kind)
        cursor = db.execute(
            "INSERT INTO artifacts(name, kind, framework, task, path, head, head_oid, ref_stat) VALUES (?,?,?,?,?,?,?,?)",
            (ref.name, ref.kind, meta.framework, meta.task, ref.path, ref.head, version.oid, stat))
        artifact = cursor.lastrowid
        tags = sorted({*ref.tags, *meta.tags})
        facets = [("tag", t) for t in tags] + [("license", w.lower()) for w in _license_ids(meta.license)]
        for author in meta.authors:
            name_part, _, orcid = author.partition(" <")
            facets += [("author", name_part.strip().lower())] + ([("orcid", orcid.rstrip(">"))] if orcid else [])
        db.executemany("INSERT INTO facets(artifact, facet, value) VALUES (?,?,?)",
                       [(artifact, facet, value) for facet, value in facets])
        db.execute(f"INSERT INTO words(rowid, {', '.join(TEXT_COLUMNS)}) VALUES (?{',?' * len(TEXT_COLUMNS)})",
                   (artifact, ref.name, ref.path, ref.kind, meta.description, " ".join(tags), " ".join(meta.authors),
                    meta.license, meta.task, meta.domain, meta.framework, meta.citation))

    def _ref(self, name: str) -> ArtifactRef | None:
        try:
            return self.refs.find(name)
        except HpcfairError:
            return None  # a corrupt ref: not findable until fsck or a pull repairs it

    # --- reading ----------------------------------------------------------
    def search(self, query: str | None = None, *, tags: Sequence[str] = (), kind: str | None = None,
               framework: str | None = None, task: str | None = None, license: str | None = None,
               author: str | None = None, names: Iterable[str] | None = None) -> list[str]:
        """Names of the matching artifacts, best first (bm25 with a query, else by name)."""
        self.ensure_current()
        where, args = ["a.head IS NOT NULL"], []
        words = re.findall(r"\w+", (query or "").lower())
        if words:
            where.append("words MATCH ?")
            args.append(" AND ".join(f'"{w}"*' for w in words))
        for column, value in (("kind", kind), ("framework", framework), ("task", task)):
            if value:
                where.append(f"a.{column} = ?")
                args.append(value)
        conditions = [("tag", t) for t in dict.fromkeys(tags)]
        conditions += [("license", license.lower())] if license else []
        if author:
            conditions.append(("orcid" if re.fullmatch(r"[\dX-]{19}", author) else "author", author.lower()))
        for facet, value in conditions:
            where.append("a.id IN (SELECT artifact FROM facets WHERE facet = ? AND value = ?)")
            args += [facet, value]
        if names is not None:
            chosen = sorted(set(names))
            where.append(f"a.name IN ({','.join('?' * len(chosen))})")
            args += chosen
        source = "words JOIN artifacts a ON a.id = words.rowid" if words else "artifacts a"
        weights = ", ".join(str(WEIGHTS.get(column, 1.0)) for column in TEXT_COLUMNS)
        order = f"bm25(words, {weights}), a.name" if words else "a.name"
        sql = f"SELECT a.name FROM {source} WHERE {' AND '.join(where)} ORDER BY {order}"
        return [name for (name,) in self._conn().execute(sql, args)]

    def holding(self, oid: str) -> list[str]:
        """The artifacts whose newest version is the content *oid*."""
        self.ensure_current()
        return [n for (n,) in self._conn().execute("SELECT name FROM artifacts WHERE head_oid = ? ORDER BY name",
                                                   (oid,))]

    def by_path(self, relpath: str) -> ArtifactRef | None:
        """The artifact tracking the repository path *relpath*, or None."""
        self.ensure_current()
        for (name,) in self._conn().execute("SELECT name FROM artifacts WHERE path = ?", (relpath,)):
            ref = self._ref(name)
            if ref is not None and ref.path == relpath:
                return ref
        return None

    # --- the database -----------------------------------------------------
    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = self._open(self.path)
        return self._db

    @staticmethod
    def _open(where: Path | str) -> sqlite3.Connection:
        """Raises sqlite3.DatabaseError for a file that is not a catalog of this format, or cannot be opened."""
        db = sqlite3.connect(where, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA synchronous=OFF")  # a cache: a torn write is caught and rebuilt
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:  # new: its tables (WAL mode stays with the file)
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(SCHEMA)
                db.execute(f"PRAGMA user_version = {FORMAT}")
            elif str(version) != FORMAT:
                raise sqlite3.DatabaseError("another catalog format")
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _discard(self) -> None:
        self.close()
        for suffix in ("", "-wal", "-shm"):
            try:
                os.unlink(f"{self.path}{suffix}")
            except OSError:  # gone already, or a read-only repository (then it works in memory)
                pass

    @staticmethod
    def _info(db: sqlite3.Connection, key: str) -> str | None:
        row = db.execute("SELECT value FROM info WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    @staticmethod
    def _set_info(db: sqlite3.Connection, key: str, value: str) -> None:
        db.execute("INSERT OR REPLACE INTO info(key, value) VALUES (?, ?)", (key, value))

    def _folder_mtime(self) -> int:
        try:
            return os.stat(self.refs.dir).st_mtime_ns
        except FileNotFoundError:
            return 0

    def _ref_stats(self, names: Iterable[str] | None = None) -> dict[str, str]:
        """name -> "inode size mtime" of each ref file (of *names*, or all)."""
        stats = {}
        try:
            if names is None:
                entries = [(e.name[:-5], e.stat()) for e in os.scandir(self.refs.dir) if e.name.endswith(".json")]
            else:
                entries = []
                for name in names:
                    try:
                        entries.append((name, os.stat(self.refs.dir / f"{name}.json")))
                    except FileNotFoundError:
                        continue
        except FileNotFoundError:
            return {}
        for name, st in entries:
            stats[name] = f"{st.st_ino} {st.st_size} {st.st_mtime_ns}"
        return stats


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """One transaction (the connection is in autocommit mode): all of it or nothing."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _license_ids(expression: str) -> list[str]:
    """The license ids of an SPDX expression (``MIT OR Apache-2.0`` -> MIT, Apache-2.0)."""
    return [w for w in LICENSE_WORDS.findall(expression) if w.upper() not in LICENSE_OPERATORS]
