"""Copying big files in a pipeline, writing what is kept straight to disk (``O_DIRECT``).

A GiB copied through the page cache costs a GiB of fresh cache pages. On a
virtual machine whose host takes back free guest memory, each fresh page is a
host fault: filling 1 GiB of cache took 0.3 to 2.5 s here, minute by minute,
while writing it with ``O_DIRECT`` took 0.37 s, and then it is on disk. So the
copies hpcfair keeps and does not read back soon (objects in the store or in a
remote folder) bypass the cache; what a user reads next (the work tree) does
not. A source found in the cache is read through it; one that is not is read
directly as well, so reading it fills no cache either.

The pipeline: one thread reads the next block while the caller's thread writes
this one to every sink and another thread hashes it; ``DEPTH`` buffers take turns.
Wherever ``O_DIRECT`` is refused (some FUSE file systems, non-Linux), at open
or by a later read or write (``EINVAL``), the same code goes on with ordinary
reads and writes.
"""

from __future__ import annotations

import errno
import fcntl
import itertools
import mmap
import os
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

from .files import BLOCK, start_writeback, write_all

DIRECT = getattr(os, "O_DIRECT", 0)  # 0: never bypass the cache
BYPASS_FROM = 16 << 20  # objects from this size go past the page cache
ALIGN = 4096  # O_DIRECT wants buffers, offsets and lengths in whole blocks
DEPTH = 4  # buffers in flight: two being read, one being written, one being hashed
READERS = 2  # reads in flight: a disk serves two at once faster than one after the other
SAMPLES = 8  # one-page probes that tell whether a file is in the page cache

_thread_buffers = threading.local()


@dataclass
class Sink:
    """A new file being written: past the cache (*direct*), or through it."""

    fd: int
    direct: bool
    flush_early: bool = False  # through the cache and kept: start writing it to disk block by block


def set_direct(fd: int) -> bool:
    """Switch *fd* to ``O_DIRECT``; False where the file system or platform refuses."""
    if not DIRECT:
        return False
    try:
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | DIRECT)
    except OSError:
        return False
    return True


def clear_direct(fd: int) -> bool:
    """Switch *fd* back to reads and writes through the page cache; False if that fails too."""
    try:
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~DIRECT)
    except OSError:
        return False
    return True


def is_cached(fd: int, size: int) -> bool:
    """Whether the file is (mostly) in the page cache: one-page reads that may not wait for the disk."""
    probe = bytearray(1)
    for k in range(SAMPLES):
        try:
            os.preadv(fd, [probe], size * k // SAMPLES, os.RWF_NOWAIT)
        except BlockingIOError:
            return False
        except (OSError, AttributeError):  # no RWF_NOWAIT here: assume cached, read as usual
            return True
    return True


def read_past_cache_if_cold(fd: int, size: int) -> None:
    """Switch *fd* to reads past the page cache unless the file is (mostly) cached."""
    if not is_cached(fd, size):
        set_direct(fd)


def pump(source: int | BinaryIO, sinks: list[Sink], digest: Any = None,
         progress: Callable[[int], None] | None = None) -> int:
    """Copy *source* from its position to its end into every sink, feeding *digest*; return the bytes copied.

    *source* is a file descriptor (two blocks are read at once) or a stream with
    ``read`` (a remote file: read block after block).

    Direct sinks get whole blocks (the last one padded) and are cut to size at the
    end. Beside a sink through the cache, a direct one is written on its own thread
    (it mostly waits for the disk).
    """
    from concurrent.futures import ThreadPoolExecutor  # only big files pay for the import

    buffers = _buffers()
    views = [memoryview(buf) for buf in buffers]
    aside = [sink for sink in sinks if sink.direct] if len(sinks) > 1 else []
    inline = [sink for sink in sinks if sink not in aside]
    padded = [sink for sink in sinks if sink.direct]  # cut to size at the end (even if O_DIRECT is dropped)
    size = 0
    read, readers = _block_reader(source, buffers)
    with ThreadPoolExecutor(readers) as reader, ThreadPoolExecutor(1) as hasher, ThreadPoolExecutor(1) as writer:
        reads = deque(reader.submit(read, i) for i in range(DEPTH - 1))
        busy: deque[list[Any]] = deque()  # per block: the hash and writes still using its buffer
        try:
            for turn in itertools.count():
                count = reads.popleft().result()
                if not count:
                    break
                view = views[turn % DEPTH]
                jobs = [writer.submit(_write, sink, view, count, size) for sink in aside]
                if digest is not None:
                    jobs.append(hasher.submit(digest.update, view[:count]))
                for sink in inline:
                    _write(sink, view, count, size)
                busy.append(jobs)
                size += count
                if progress is not None:
                    progress(count)
                if count < BLOCK:  # the end (a file that grew meanwhile is not read past it: no gap)
                    break
                while len(busy) > 1:  # the buffer read next held the block before this one
                    for job in busy.popleft():
                        job.result()
                reads.append(reader.submit(read, turn + DEPTH - 1))
            for jobs in busy:
                for job in jobs:
                    job.result()
        finally:
            for pending in (*(job for jobs in busy for job in jobs), *reads):  # no thread keeps a buffer
                pending.exception()
    for sink in padded:
        os.ftruncate(sink.fd, size)  # drop the padding of the last block
    return size


def _block_reader(source: int | BinaryIO, buffers: list[mmap.mmap]) -> tuple[Callable[[int], int], int]:
    """(read block N into its buffer -> bytes read, how many reads may run at once) for *source*."""
    if isinstance(source, int):
        start = os.lseek(source, 0, os.SEEK_CUR)

        def read_file(block: int) -> int:
            args = (source, [buffers[block % DEPTH]], start + block * BLOCK)
            try:
                return os.preadv(*args)
            except OSError as exc:
                if exc.errno != errno.EINVAL or not clear_direct(source):
                    raise
                return os.preadv(*args)  # O_DIRECT accepted but not served here: read through the cache

        return read_file, READERS

    def read_stream(block: int) -> int:  # called in block order by the one reader thread
        view, got = memoryview(buffers[block % DEPTH]), 0
        while got < BLOCK and (data := source.read(BLOCK - got)):
            view[got:got + len(data)] = data
            got += len(data)
        return got

    return read_stream, 1


def copy_new(src: str | os.PathLike, dst: str | os.PathLike, mode: int, *, kept: bool, digest: Any = None,
             progress: Callable[[int], None] | None = None) -> None:
    """Copy *src* to the new file *dst*, feeding *digest*.

    A *kept* copy (a stored object) is written straight to disk where the file system
    allows, else flushed early; any other goes through the page cache. A source that
    is not cached is read past the cache.
    """
    fin = os.open(src, os.O_RDONLY)
    try:
        read_past_cache_if_cold(fin, os.fstat(fin).st_size)
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            pump(fin, [Sink(fd, kept and set_direct(fd), flush_early=kept)], digest, progress)
        finally:
            os.close(fd)
    finally:
        os.close(fin)


def _write(sink: Sink, view: memoryview, count: int, offset: int) -> None:
    if sink.direct:
        try:
            write_all(sink.fd, view[:-(-count // ALIGN) * ALIGN])
            return
        except OSError as exc:  # O_DIRECT accepted but not served here: go on through the cache
            if exc.errno != errno.EINVAL or not clear_direct(sink.fd):
                raise
            sink.direct = False
            os.lseek(sink.fd, offset, os.SEEK_SET)
    write_all(sink.fd, view[:count])
    if sink.flush_early:
        start_writeback(sink.fd, offset, count)


def _buffers() -> list[mmap.mmap]:
    """DEPTH page-aligned buffers of BLOCK bytes for the calling thread (mmap memory is aligned)."""
    bufs = getattr(_thread_buffers, "bufs", None)
    if bufs is None:
        bufs = _thread_buffers.bufs = [mmap.mmap(-1, BLOCK) for _ in range(DEPTH)]
    return bufs
