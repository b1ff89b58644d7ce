"""Small units: atomic writes, the lock, pointers, records, refs and the stat cache."""

from __future__ import annotations

import os
import time

import pytest

from hpcfair_vcs.worktree import pointer as pointer_mod
from hpcfair_vcs.fileio.files import RepoLock, atomic_write
from hpcfair_vcs.fileio.tmpfiles import remove_stale_tmp, tmp_name
from hpcfair_vcs.errors import (CorruptPointerError, CorruptRecordError, LockTimeoutError, PathNotFoundError, StaleRefError)
from hpcfair_vcs.storage.records import MetadataRecord, RecordStore, VersionRecord, canonical_bytes
from hpcfair_vcs.storage.refs import ArtifactRef, RefStore
from hpcfair_vcs.storage.state import RACY_WINDOW_NS, StateCache

from .conftest import write

GOOD_POINTER = {"artifact": "m", "kind": "model", "version": 1, "pid": "hpcfair:" + "b" * 64, "oid": "a" * 64,
                "size": 1, "nfiles": 1}


def test_atomic_write_replaces_and_sets_mode(tmp_path):
    target = tmp_path / "f"
    atomic_write(target, b"one", 0o600)
    atomic_write(target, b"two", 0o600)
    assert target.read_bytes() == b"two" and target.stat().st_mode & 0o777 == 0o600
    assert os.listdir(tmp_path) == ["f"]


def writer_holding_a_tmp_file(root):
    """Another process that registered *root* as a repository and left a temporary file in it, then waits."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; sys.path.insert(0, %r)\n"
        "from pathlib import Path\n"
        "from hpcfair_vcs.fileio.tmpfiles import register_repository, tmp_name\n"
        "register_repository(Path(%r), Path(%r))\n"
        "path = tmp_name(Path(%r)); path.write_bytes(b'partial'); print(path.name, flush=True); time.sleep(60)\n")
        % (os.getcwd(), str(root), str(root / "owners"), str(root / "work"))], stdout=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()


def test_temporary_files_are_judged_by_their_owners_lock_not_by_a_pid(tmp_path):
    from hpcfair_vcs.fileio.tmpfiles import register_repository

    (tmp_path / "work").mkdir()
    register_repository(tmp_path, tmp_path / "owners")
    mine = tmp_name(tmp_path / "work")
    mine.write_bytes(b"")
    (tmp_path / "work" / ".hpcfair-tmp-x-999999-abc").write_bytes(b"")  # an older version's name: no owner
    (tmp_path / "work" / ".hpcfair-tmp-0123456789abcdef.7").write_bytes(b"")  # an owner that is gone
    (tmp_path / "work" / "unrelated").write_bytes(b"")
    writer, theirs = writer_holding_a_tmp_file(tmp_path)
    try:
        assert remove_stale_tmp(tmp_path / "work") == 2
        assert sorted(os.listdir(tmp_path / "work")) == sorted([mine.name, theirs, "unrelated"])
        writer.kill()  # not reaped: a zombie, whose pid still answers kill(pid, 0)
        deadline = __import__("time").monotonic() + 10
        while remove_stale_tmp(tmp_path / "work") == 0 and __import__("time").monotonic() < deadline:
            pass
        os.kill(writer.pid, 0)
        assert sorted(os.listdir(tmp_path / "work")) == sorted([mine.name, "unrelated"])
    finally:
        writer.kill()
        writer.wait()
    from hpcfair_vcs.fileio.tmpfiles import OWNER, remove_dead_owners

    assert remove_dead_owners(tmp_path / "owners") == 1 and os.listdir(tmp_path / "owners") == [OWNER]


def test_outside_a_repository_temporary_files_are_judged_by_age(tmp_path):
    old, new = tmp_path / ".hpcfair-tmp-0123456789abcdef.1", tmp_path / ".hpcfair-tmp-0123456789abcdef.2"
    old.write_bytes(b"")
    new.write_bytes(b"")
    os.utime(old, (0, 0))
    assert remove_stale_tmp(tmp_path) == 0  # no age given: kept
    assert remove_stale_tmp(tmp_path, older_than=3600) == 1 and os.listdir(tmp_path) == [new.name]


def test_lock_times_out_with_the_holder_pid(tmp_path):
    import subprocess
    import sys

    lock_path = tmp_path / "lock"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; sys.path.insert(0, %r)\n"
        "from hpcfair_vcs.fileio.files import RepoLock\n"
        "with RepoLock(%r):\n    print('held', flush=True); time.sleep(30)\n") % (os.getcwd(), str(lock_path))],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LockTimeoutError, match=f"pid {holder.pid}"):
            with RepoLock(lock_path, timeout=0.3):
                pass
    finally:
        holder.kill()
        holder.wait()
    lock = RepoLock(lock_path, timeout=2)
    with lock, lock:  # released by the kernel when the holder died; re-entrant in one object
        pass


def test_pointer_round_trip_and_validation(tmp_path):
    data = tmp_path / "m.pt"
    ptr = pointer_mod.Pointer(**GOOD_POINTER)
    path = pointer_mod.write(data, ptr)
    assert path.name == "m.pt.hpcfair" and pointer_mod.read(path) == ptr
    assert path.read_text().startswith("# hpcfair pointer")


@pytest.mark.parametrize("artifact", ["m", "1e5", "true", "null", "a.b-c_d", "007"])
def test_fast_pointer_reader_agrees_with_yaml(tmp_path, artifact):
    import yaml

    ptr = pointer_mod.Pointer(**{**GOOD_POINTER, "artifact": artifact, "pid": "hpcfair:" + "c" * 64})
    text = pointer_mod.write(tmp_path / "x", ptr).read_text()
    plain = pointer_mod._read_plain(text)
    assert plain is None or plain == yaml.safe_load(text)
    assert pointer_mod.read(tmp_path / "x.hpcfair") == ptr


@pytest.mark.parametrize("text", [
    "", "just a string", "artifact: m\n", "<<<<<<< HEAD\n", "{{{",
    "artifact: '../x'\nkind: m\nversion: 1\npid: p\noid: " + "a" * 64 + "\nsize: 1\nnfiles: 1\n",
    "artifact: m\nkind: m\nversion: 0\npid: p\noid: " + "a" * 64 + "\nsize: 1\nnfiles: 1\n",
    "artifact: m\nkind: m\nversion: 1\npid: p\noid: xyz\nsize: 1\nnfiles: 1\n",
    "artifact: m\nkind: m\nversion: 1\npid: p\noid: " + "a" * 64 + "\nsize: 1\nnfiles: 1\nformat: 7\n",
    "artifact: m\nkind: model\nversion: 1\npid: hpcfair:ab\noid: " + "a" * 64 + "\nsize: 1\nnfiles: 1\n",
    "artifact: m\nkind: virus\nversion: 1\npid: hpcfair:" + "b" * 64 + "\noid: " + "a" * 64 + "\nsize: 1\nnfiles: 1\n",
    "artifact: m\nkind: model\nversion: 1\npid: hpcfair:" + "b" * 64 + "\noid: " + "a" * 64
    + "\nsize: 1000000000000000000\nnfiles: 1\n",
])
def test_corrupt_pointers(tmp_path, text):
    path = write(tmp_path / "m.pt.hpcfair", text)
    with pytest.raises(CorruptPointerError):
        pointer_mod.read(path)


def test_binary_and_missing_pointer(tmp_path):
    with pytest.raises(CorruptPointerError):
        pointer_mod.read(write(tmp_path / "b.hpcfair", b"\xff\xfe\x00"))
    with pytest.raises(PathNotFoundError):
        pointer_mod.read(tmp_path / "none.hpcfair")


def test_records_are_canonical_and_checked(tmp_path):
    (tmp_path / "tmp").mkdir()
    store = RecordStore(tmp_path / "records", tmp_path / "tmp")
    meta = MetadataRecord(name="m", kind="model", authors=["b", "a"])
    first = store.put(meta)
    assert store.put(MetadataRecord(name="m", kind="model", authors=["b", "a"])) == first
    assert canonical_bytes({"b": 1, "a": "é"}) == '{"a":"é","b":1}'.encode()
    assert store.get(first, MetadataRecord) == meta
    with pytest.raises(CorruptRecordError):
        store.get(first, VersionRecord)  # wrong type
    path = store.path(first)
    os.chmod(path, 0o644)
    path.write_bytes(b"{}")
    with pytest.raises(CorruptRecordError):
        store.get(first, MetadataRecord)
    assert store.resolve_prefix("hpcfair:" + first[:9]) == first
    assert store.resolve_prefix("zz") is None


def test_refs_compare_and_swap(tmp_path):
    (tmp_path / "tmp").mkdir()
    refs = RefStore(tmp_path / "refs", tmp_path / "tmp")
    a, b = "a" * 64, "b" * 64  # version ids
    ref = ArtifactRef(name="m", kind="model", path="m.pt", versions=[a])
    refs.write(ref, None)
    ref.versions.append(b)
    with pytest.raises(StaleRefError):
        refs.write(ref, None)
    refs.write(ref, a)
    assert refs.get("m").versions == [a, b] and refs.names() == ["m"]
    (tmp_path / "refs" / "artifacts" / "m.json").write_text("{not json")
    with pytest.raises(CorruptRecordError):
        refs.get("m")


def test_state_cache_ignores_racy_entries(tmp_path):
    path = write(tmp_path / "f", b"x")
    cache = StateCache(tmp_path / "state.db")
    st = path.stat()
    cache.put("f", st, "oid-fresh")
    cache.flush()
    assert cache.get("f", st) is None  # written just now: could change again in the same tick
    cache.put("f", st, "oid-old", now_ns=time.time_ns() + 2 * RACY_WINDOW_NS)
    cache.flush()
    assert cache.get("f", st) == "oid-old"
    write(path, b"y")
    assert cache.get("f", path.stat()) is None
    cache.close()
