"""Big copies past the page cache: exact bytes and hash with and without O_DIRECT, cache detection."""

from __future__ import annotations

import fcntl
import hashlib
import os
import time

import pytest

from hpcfair_vcs.fileio import direct as dc

from .conftest import write

SIZES = [1, dc.ALIGN + 1, dc.BLOCK, dc.BLOCK * 3 + 123]  # a padded tail, a whole block, many blocks


@pytest.fixture(params=["direct", "through the cache"])
def direct(request, monkeypatch):
    if request.param != "direct":
        monkeypatch.setattr(dc, "DIRECT", 0)  # what a file system that refuses O_DIRECT gets
    return request.param == "direct"


@pytest.mark.parametrize("size", SIZES)
def test_pump_copies_every_byte_to_every_sink_and_hashes_them(tmp_path, size, direct):
    data = os.urandom(size)
    src = os.open(write(tmp_path / "src", data), os.O_RDONLY)
    kept = os.open(tmp_path / "kept", os.O_WRONLY | os.O_CREAT, 0o644)
    spare = os.open(tmp_path / "spare", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        assert dc.set_direct(src) == direct and dc.set_direct(kept) == direct
        digest, seen = hashlib.sha256(), []
        copied = dc.pump(src, [dc.Sink(kept, direct), dc.Sink(spare, False)], digest, seen.append)
    finally:
        for fd in (src, kept, spare):
            os.close(fd)
    assert copied == size == sum(seen)
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()
    assert (tmp_path / "kept").read_bytes() == data  # the padding of the last block is cut off
    assert (tmp_path / "spare").read_bytes() == data


def test_pump_starts_where_the_file_position_is(tmp_path):
    data = os.urandom(dc.BLOCK + 5000)
    fd = os.open(write(tmp_path / "src", data), os.O_RDONLY)
    out = os.open(tmp_path / "rest", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.read(fd, 4096)
        assert dc.pump(fd, [dc.Sink(out, dc.set_direct(out))]) == len(data) - 4096
    finally:
        os.close(fd)
        os.close(out)
    assert (tmp_path / "rest").read_bytes() == data[4096:]


def test_a_read_error_is_raised_not_swallowed(tmp_path):
    folder = os.open(tmp_path, os.O_RDONLY)
    out = os.open(tmp_path / "out", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        with pytest.raises(IsADirectoryError):
            dc.pump(folder, [dc.Sink(out, False)], hashlib.sha256())
    finally:
        os.close(folder)
        os.close(out)


def evicted(fd: int, size: int, tries: int = 20) -> bool:
    """Drop the file's pages until is_cached says so: the kernel may keep a page it is still busy with (once
    seen in CI right after fsync), so one DONTNEED is asked again, a little later, before giving up."""
    for _ in range(tries):
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        if not dc.is_cached(fd, size):
            return True
        time.sleep(0.1)
    return False


def test_is_cached_tells_a_file_in_memory_from_one_on_disk_only(tmp_path):
    path = write(tmp_path / "f", os.urandom(8 << 20))
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        assert dc.is_cached(fd, 8 << 20)  # just written
        assert evicted(fd, 8 << 20)
        while os.read(fd, 1 << 20):
            pass
        assert dc.is_cached(fd, 8 << 20)
    finally:
        os.close(fd)


def test_a_kept_copy_is_a_new_file_and_never_overwrites(tmp_path, direct):
    data = os.urandom(dc.BLOCK + 77)
    src = write(tmp_path / "src", data)
    fd = os.open(src, os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # read past the cache too
    os.close(fd)
    dc.copy_new(src, tmp_path / "dst", 0o444, kept=True)
    assert (tmp_path / "dst").read_bytes() == data and (tmp_path / "dst").stat().st_mode & 0o777 == 0o444
    with pytest.raises(FileExistsError):
        dc.copy_new(src, tmp_path / "dst", 0o444, kept=True)
    with pytest.raises(FileNotFoundError):
        dc.copy_new(tmp_path / "missing", tmp_path / "other", 0o444, kept=True)
    assert not (tmp_path / "other").exists()


def test_a_direct_write_the_file_system_refuses_goes_on_through_the_cache(tmp_path):
    """O_DIRECT accepted at open but a write refused (EINVAL): here forced with an unaligned buffer."""
    fd = os.open(tmp_path / "out", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        sink = dc.Sink(fd, dc.set_direct(fd))
        assert sink.direct
        data = bytearray(os.urandom(dc.ALIGN * 2 + 1))
        unaligned = memoryview(data)[1:]  # O_DIRECT needs aligned memory: the kernel says EINVAL
        dc._write(sink, unaligned, len(unaligned), 0)
        assert not sink.direct
    finally:
        os.close(fd)
    assert (tmp_path / "out").read_bytes() == bytes(unaligned)


def test_a_direct_read_the_file_system_refuses_goes_on_through_the_cache(tmp_path):
    data = os.urandom(dc.BLOCK + 10)
    fd = os.open(write(tmp_path / "src", data), os.O_RDONLY)
    try:
        assert dc.set_direct(fd)
        buffers = [memoryview(bytearray(dc.BLOCK + 1))[1:] for _ in range(dc.DEPTH)]  # unaligned
        read, _ = dc._block_reader(fd, buffers)
        assert read(0) == dc.BLOCK and bytes(buffers[0]) == data[:dc.BLOCK]
        assert not fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT  # refused, then read through the cache
        assert read(1) == 10 and bytes(buffers[1][:10]) == data[dc.BLOCK:]
    finally:
        os.close(fd)
