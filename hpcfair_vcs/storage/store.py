"""The content-addressed object store: every byte stored once, named by its sha256.

Layout (dvc-data's ``HashFileDB`` for ``hash_name="sha256"``)::

    files/sha256/ab/cdef0123...          a file's bytes (read-only)
    files/sha256/12/3456789a....dir      a folder's manifest (see tree.py)

Objects are written under ``tmp/``, flushed and renamed into place, then kept
read-only. Writing never needs the repository lock: two writers of the same
object produce the same bytes, and a rename is atomic.
"""

from __future__ import annotations

import hashlib
import os
import stat as stat_mod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from . import tree as tree_mod
from .spares import SPARE_MODE, SpareCopies
from ..fileio.direct import BYPASS_FROM, Sink, copy_new, pump, read_past_cache_if_cold, set_direct
from ..fileio.files import BLOCK, READ_ONLY_ERRNOS, flush_files, fsync_dir, open_regular, unlink_quietly, write_all
from ..fileio.tmpfiles import tmp_name
from ..errors import CorruptObjectError, MissingObjectError, UnreadableFileError, not_writable
from ..progress import Advance, ignore

SMALL = 1 << 20
OBJECT_MODE = 0o444



@dataclass
class Staged:
    """An object written to tmp/ and hashed, not yet visible in the store."""

    oid: str
    size: int
    tmp: Path | None  # None once committed, or when nothing was copied (stat cache hit)
    existed: bool = False  # an object with this id was already stored

    @property
    def is_new(self) -> bool:
        return self.tmp is not None and not self.existed


def hash_file(path: Path, progress: Advance = ignore) -> str:
    """The sha256 hex digest of *path*, read in large blocks."""
    digest = hashlib.sha256()
    buf = bytearray(BLOCK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as fobj:
        while count := fobj.readinto(buf):
            digest.update(view[:count])
            progress(count)
    return digest.hexdigest()


class ObjectStore:
    """Objects under *root* (``.hpcfair/files/sha256``), staged through *tmp_dir*."""

    def __init__(self, root: Path, tmp_dir: Path) -> None:
        self.root = Path(root)
        self.tmp_dir = Path(tmp_dir)
        self._made_dirs: set[str] = set()
        self._prefix = os.fspath(self.root) + os.sep
        self._trees: dict[str, dict[str, str]] = {}  # parsed manifests, by their (checked) id

    # --- naming -------------------------------------------------------------
    def path(self, oid: str) -> Path:
        return Path(self.location(oid))

    def location(self, oid: str) -> str:
        """The object's path as a string (hot loops over many objects skip pathlib)."""
        return f"{self._prefix}{oid[:2]}{os.sep}{oid[2:]}"

    def exists(self, oid: str) -> bool:
        return os.path.exists(self.location(oid))

    def sizes(self, oids: Iterable[str]) -> dict[str, int]:
        """The size of each stored object among *oids* (one stat each; missing ones are left out)."""
        found: dict[str, int] = {}
        for oid in oids:
            try:
                found[oid] = os.stat(self.location(oid)).st_size
            except (FileNotFoundError, NotADirectoryError):
                continue
        return found

    def iter_oids(self) -> Iterator[str]:
        """Every stored object id (order unspecified)."""
        try:
            shards = os.scandir(self.root)
        except FileNotFoundError:
            return
        with shards:
            for shard in shards:
                if len(shard.name) != 2 or not shard.is_dir():
                    continue
                for entry in os.scandir(shard.path):
                    oid = shard.name + entry.name
                    if tree_mod.is_valid_oid(oid):
                        yield oid

    # --- writing ------------------------------------------------------------
    def stage_file(self, src: str | os.PathLike, progress: Advance = ignore, size_hint: int = 0) -> Staged:
        """Hash *src* while copying it to tmp/ in one pass; the copy is what was hashed.

        *size_hint* (the size from a recent stat) lets a small file be read in one call.

        Raises:
            UnreadableFileError: *src* cannot be opened or read.
        """
        return self._stage(src, _open_source(src), progress, size_hint, big=False)

    def receive_file(self, src: str | os.PathLike, progress: Advance = ignore, limit: int | None = None,
                     spares: SpareCopies | None = None) -> Staged:
        """Stage a file received from a remote folder, as :meth:`stage_file` does.

        Only a regular file that is not a link and holds at most *limit* bytes is read.
        A big one (from ``BYPASS_FROM``) is written to the store past the page cache,
        read past it too when it is not cached, and, given *spares*, copied in the
        same pass to a spare work-tree copy kept there for checkout (storage/spares.py).

        Raises:
            RefusedFileError: a link, a pipe or device, or more than *limit* bytes.
            UnreadableFileError: it cannot be read.
        """
        try:
            src_fd, size = open_regular(src, limit)
        except OSError as exc:
            raise UnreadableFileError(f"cannot read {src}: {exc.strerror}") from exc
        return self._stage(src, src_fd, progress, size, big=size >= BYPASS_FROM, spares=spares)

    def receive_stream(self, stream: BinaryIO, name: str, progress: Advance = ignore,
                       spares: SpareCopies | None = None) -> Staged:
        """Stage a big object read from *stream* (a remote file named *name*), as :meth:`receive_file` does."""
        return self._stage(name, stream, progress, 0, big=True, spares=spares)

    def _stage(self, src: str | os.PathLike, source: int | BinaryIO, progress: Advance, size_hint: int,
               big: bool, spares: SpareCopies | None = None) -> Staged:
        """Copy and hash *source* (an fd, closed afterwards, or a stream) to tmp/; *big*: past the page cache
        (and a spare copy written to *spares* too)."""
        tmp = tmp_name(self.tmp_dir)
        spare = spares.new_path() if big and spares is not None else None
        fds = [source] if isinstance(source, int) else []
        try:
            fds.append(self._create(tmp, OBJECT_MODE))
        except BaseException:
            for fd in fds:
                os.close(fd)
            raise
        try:
            if big:
                if isinstance(source, int):
                    read_past_cache_if_cold(source, size_hint)
                sinks = [Sink(fds[-1], set_direct(fds[-1]), flush_early=True)]
                if spare is not None:
                    fds.append(self._create(spare, SPARE_MODE))
                    sinks.append(Sink(fds[-1], direct=False))
                digest = hashlib.sha256()
                size = pump(source, sinks, digest, progress)
                oid = digest.hexdigest()
            else:
                oid, size = _copy_hashing(source, fds[1], progress, size_hint)
        except BaseException as exc:
            for path in (tmp, spare):
                if path is not None:
                    unlink_quietly(path)
            if isinstance(exc, OSError):
                raise UnreadableFileError(f"cannot read {src}: {exc.strerror}") from exc
            raise
        finally:
            for fd in fds:
                os.close(fd)
        if spare is not None:
            spares.keep(oid, spare)  # its bytes are what was hashed, whatever the caller expected
        # Even when the id is stored already, the fresh copy is committed over it: it was
        # hashed just now, so this heals an object that rotted since (at the cost of a rename).
        return Staged(oid, size, tmp, existed=self.exists(oid))

    def _create(self, path: str | Path, mode: int) -> int:
        """A new file in tmp/ for writing.

        Raises:
            ReadOnlyRepositoryError: tmp/ is not writable here.
        """
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        except OSError as exc:
            if exc.errno in READ_ONLY_ERRNOS:
                raise not_writable(self.tmp_dir, exc) from None
            raise

    def stage_bytes(self, data: bytes, oid: str) -> Staged:
        """Stage *data* under the given *oid* (used for tree manifests)."""
        if self.exists(oid):
            return Staged(oid, len(data), None, existed=True)
        tmp = tmp_name(self.tmp_dir)
        fd = self._create(tmp, OBJECT_MODE)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        return Staged(oid, len(data), tmp)

    def commit(self, staged: list[Staged]) -> int:
        """Flush staged objects to disk once, then rename them into place; return how many."""
        pending = [item for item in staged if item.tmp is not None]
        if not pending:
            return 0
        flush_files([os.fspath(item.tmp) for item in pending], self.tmp_dir)
        touched: set[str] = set()
        for item in pending:
            shard = item.oid[:2]
            try:
                if shard not in touched:
                    self._ensure_shard(self.root / shard)
                    touched.add(shard)
                os.replace(item.tmp, self.location(item.oid))  # created with OBJECT_MODE: the umask can only narrow it
            except OSError as exc:
                if exc.errno in READ_ONLY_ERRNOS:
                    self.discard(pending)
                    raise not_writable(self.root / shard, exc) from None
                raise
            item.tmp = None
        for shard in touched:
            fsync_dir(self.root / shard)
        return len(pending)

    def discard(self, staged: list[Staged]) -> None:
        for item in staged:
            if item.tmp is not None:
                unlink_quietly(item.tmp)
            item.tmp = None

    def matches(self, staged: Staged, oid: str) -> bool:
        """Whether *staged* (received as *oid*) hashed to that id; if not, it is discarded.

        On a match it takes *oid* as its id: a tree is hashed as plain bytes and keeps its ".dir" id.
        """
        if staged.oid != digest_of(oid):
            self.discard([staged])
            return False
        staged.oid = oid
        return True

    def adopt(self, path: Path, oid: str, spares: SpareCopies | None = None) -> bool:
        """Move a downloaded file into the store if its bytes hash to *oid*; else delete it.

        Returns whether it was adopted. Nothing unverified ever enters the store. Given
        *spares*, a big file's spare work-tree copy is written while it is hashed.
        """
        spare = None
        try:
            if spares is not None and os.path.getsize(path) >= BYPASS_FROM:
                spare = spares.new_path()
                digest = hashlib.sha256()
                copy_new(path, spare, SPARE_MODE, kept=False, digest=digest)
                good = digest.hexdigest() == digest_of(oid)
            else:
                good = hash_file(path) == digest_of(oid)
        except OSError:
            good = False
        if not good:
            for leftover in (path, spare):
                if leftover is not None:
                    unlink_quietly(leftover)
            return False
        os.chmod(path, OBJECT_MODE)
        dest = self.path(oid)
        self._ensure_shard(dest.parent)
        os.replace(path, dest)
        if spare is not None:
            spares.keep(oid, spare)
        return True

    def _ensure_shard(self, directory: Path) -> None:
        if directory.name not in self._made_dirs:
            directory.mkdir(parents=True, exist_ok=True)
            self._made_dirs.add(directory.name)

    # --- reading and checking -----------------------------------------------
    def read_bytes(self, oid: str) -> bytes:
        """Raises MissingObjectError when *oid* is not stored."""
        try:
            return self.path(oid).read_bytes()
        except FileNotFoundError:
            raise MissingObjectError(f"object {oid} is not in the local store", oid=oid) from None

    def read_tree(self, oid: str) -> dict[str, str]:
        """The manifest of tree object *oid*, after checking its hash (every time; the parsed
        manifest of bytes already checked is kept, since those bytes define it)."""
        data = self.read_bytes(oid)
        if tree_mod.tree_oid(data) != oid:
            raise CorruptObjectError(f"tree object {oid} does not match its hash", oid=oid)
        if oid not in self._trees:
            self._trees[oid] = tree_mod.parse_tree(data, oid)
        return dict(self._trees[oid])

    def verify(self, oid: str) -> bool:
        """Re-hash the stored bytes (never trusting modes or sizes); True when intact."""
        try:
            return hash_file(self.path(oid)) == digest_of(oid)
        except OSError:
            return False

    def is_read_only(self, oid: str) -> bool:
        mode = os.stat(self.path(oid)).st_mode
        return not mode & (stat_mod.S_IWUSR | stat_mod.S_IWGRP | stat_mod.S_IWOTH)

    def remove(self, oid: str) -> int:
        """Delete an object; return the bytes freed (0 when it was absent)."""
        path = self.path(oid)
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            return 0
        return size

    def quarantine(self, oid: str, quarantine_dir: Path) -> Path:
        """Move a corrupt object aside so nothing reads it again; return where it went."""
        quarantine_dir.mkdir(parents=True, exist_ok=True)
        dest = quarantine_dir / oid
        os.replace(self.path(oid), dest)
        return dest

    def dvc_odb(self):
        """This store as a dvc-data ``LocalHashFileDB`` (imports dvc-data)."""
        from dvc_data.hashfile.db.local import LocalHashFileDB
        from dvc_objects.fs.local import LocalFileSystem

        return LocalHashFileDB(LocalFileSystem(), os.fspath(self.root), hash_name="sha256")


def _open_source(src: str | os.PathLike) -> int:
    try:
        return os.open(src, os.O_RDONLY)
    except OSError as exc:
        raise UnreadableFileError(f"cannot read {src}: {exc.strerror}") from exc


def digest_of(oid: str) -> str:
    """The sha256 an object's bytes must have (a tree id carries a ``.dir`` suffix)."""
    return oid[: -len(tree_mod.TREE_SUFFIX)] if tree_mod.is_tree(oid) else oid


def _copy_hashing(src_fd: int, dst_fd: int, progress: Advance, size_hint: int = 0) -> tuple[str, int]:
    want = size_hint + 1 if 0 < size_hint < SMALL else SMALL
    head = os.read(src_fd, want)
    digest = hashlib.sha256(head)
    write_all(dst_fd, head)
    progress(len(head))
    if len(head) < want:  # end of file already: the usual case for dataset files
        return digest.hexdigest(), len(head)
    # the rest through the page cache, hashed on a second thread while copied
    size = len(head) + pump(src_fd, [Sink(dst_fd, direct=False, flush_early=True)], digest, progress)
    return digest.hexdigest(), size
