"""The object store: one pass hash+copy, read-only objects, verify, and dvc-data compatibility."""

from __future__ import annotations

import hashlib
import os
import stat

import pytest

from hpcfair_vcs.errors import CorruptObjectError, MissingObjectError, UnreadableFileError
from hpcfair_vcs.storage.spares import SpareCopies
from hpcfair_vcs.storage.store import ObjectStore, hash_file
from hpcfair_vcs.storage.tree import tree_bytes, tree_oid

from .conftest import store_file, write


@pytest.fixture
def store(tmp_path):
    (tmp_path / "tmp").mkdir()
    return ObjectStore(tmp_path / "files" / "sha256", tmp_path / "tmp")


def test_add_file_names_object_by_sha256_in_dvc_layout(store, tmp_path):
    data = os.urandom(10_000)
    src = write(tmp_path / "a.bin", data)
    staged = store_file(store, src)
    oid = hashlib.sha256(data).hexdigest()
    assert staged.oid == oid and staged.size == len(data)
    path = tmp_path / "files" / "sha256" / oid[:2] / oid[2:]
    assert path.read_bytes() == data
    assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert list(store.iter_oids()) == [oid]
    assert os.listdir(tmp_path / "tmp") == []


def test_identical_content_is_stored_once(store, tmp_path):
    a = write(tmp_path / "a", b"same bytes")
    b = write(tmp_path / "b", b"same bytes")
    first = store.stage_file(a)
    store.commit([first])
    second = store.stage_file(b)
    assert second.existed and not second.is_new and second.oid == first.oid
    store.commit([second])
    assert len(list(store.iter_oids())) == 1


def test_adding_good_bytes_again_heals_a_rotten_object(store, tmp_path):
    src = write(tmp_path / "a", b"good bytes")
    oid = store_file(store, src).oid
    path = store.path(oid)
    os.chmod(path, 0o644)
    path.write_bytes(b"bit rot!!!")
    store_file(store, src)
    assert store.verify(oid) and store.is_read_only(oid)


@pytest.mark.parametrize("with_spares", [True, False])
def test_a_big_received_file_goes_to_the_store_and_to_a_spare_copy_in_one_pass(store, tmp_path, with_spares):
    from hpcfair_vcs.fileio.direct import BYPASS_FROM

    data = os.urandom(BYPASS_FROM + 4097)
    spares = SpareCopies(tmp_path / "tmp") if with_spares else None
    staged = store.receive_file(write(tmp_path / "incoming", data), spares=spares)
    assert staged.oid == hashlib.sha256(data).hexdigest() and staged.size == len(data)
    store.commit([staged])
    assert store.path(staged.oid).read_bytes() == data and store.is_read_only(staged.oid)
    if with_spares:
        spare = spares.take(staged.oid)
        assert open(spare, "rb").read() == data and os.access(spare, os.W_OK)
        assert spares.take(staged.oid) is None  # the caller owns it now
        os.unlink(spare)
    assert os.listdir(tmp_path / "tmp") == []


def test_a_spare_is_kept_under_the_id_its_bytes_hash_to_and_leftovers_are_deleted(store, tmp_path):
    from hpcfair_vcs.fileio.direct import BYPASS_FROM

    with SpareCopies(tmp_path / "tmp") as spares:
        data = os.urandom(BYPASS_FROM)
        bad = store.receive_file(write(tmp_path / "a", data), spares=spares)
        assert not store.matches(bad, "0" * 64)  # bytes that do not match their name: discarded
        assert spares.take("0" * 64) is None  # no spare under the id it claimed...
        real = hashlib.sha256(data).hexdigest()
        taken = spares.take(real)
        assert open(taken, "rb").read() == data  # ...only under what it holds
        os.unlink(taken)
        unused = store.receive_file(write(tmp_path / "b", os.urandom(BYPASS_FROM)), spares=spares)
        small = store.receive_file(write(tmp_path / "c", b"small"), spares=spares)  # small files get none
        store.commit([unused, small])
        assert len(spares) == 1
    assert os.listdir(tmp_path / "tmp") == []  # leaving the block deleted the spare no one took


def test_adopting_a_big_download_writes_its_spare_copy_while_hashing(store, tmp_path):
    from hpcfair_vcs.fileio.direct import BYPASS_FROM

    data = os.urandom(BYPASS_FROM + 3)
    oid = hashlib.sha256(data).hexdigest()
    spares = SpareCopies(tmp_path / "tmp")
    assert store.adopt(write(tmp_path / "tmp" / "download", data), oid, spares)
    assert store.path(oid).read_bytes() == data
    spare = spares.take(oid)
    assert open(spare, "rb").read() == data
    os.unlink(spare)
    wrong = write(tmp_path / "tmp" / "download", data[:-1] + b"?")
    assert not store.adopt(wrong, "0" * 64, spares)  # refused: neither the download nor a spare stays
    assert os.listdir(tmp_path / "tmp") == [] and len(spares) == 0


def test_staged_objects_are_invisible_until_commit(store, tmp_path):
    staged = store.stage_file(write(tmp_path / "a", b"pending"))
    assert not store.exists(staged.oid)
    store.discard([staged])
    assert os.listdir(tmp_path / "tmp") == []
    assert not store.exists(staged.oid)


def test_hash_file_matches_hashlib_on_multi_block_file(tmp_path):
    data = os.urandom((4 << 20) * 2 + 123)
    assert hash_file(write(tmp_path / "big", data)) == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("size", [1 << 20, (1 << 20) + 1, (4 << 20) * 3 + 123])
def test_big_files_are_hashed_while_copied_on_a_second_thread(store, tmp_path, size):
    data = os.urandom(size)
    staged = store_file(store, write(tmp_path / "big", data))
    assert staged.oid == hashlib.sha256(data).hexdigest() and staged.size == size
    assert store.path(staged.oid).read_bytes() == data and store.verify(staged.oid)


def test_verify_rehashes_even_read_only_objects(store, tmp_path):
    staged = store_file(store, write(tmp_path / "a", b"original"))
    path = store.path(staged.oid)
    os.chmod(path, 0o644)
    path.write_bytes(b"tampered")
    os.chmod(path, 0o444)
    assert store.verify(staged.oid) is False
    moved = store.quarantine(staged.oid, tmp_path / "q")
    assert moved.read_bytes() == b"tampered" and not store.exists(staged.oid)


def test_read_tree_refuses_corrupt_or_missing(store, tmp_path):
    with pytest.raises(MissingObjectError):
        store.read_tree("0" * 64 + ".dir")
    data = tree_bytes({"a.txt": "1" * 64})
    oid = tree_oid(data)
    store.commit([store.stage_bytes(data, oid)])
    assert store.read_tree(oid) == {"a.txt": "1" * 64}
    path = store.path(oid)
    os.chmod(path, 0o644)
    path.write_bytes(data.replace(b"a.txt", b"b.txt"))
    with pytest.raises(CorruptObjectError):
        store.read_tree(oid)


def test_unreadable_source_is_a_clear_error(store, tmp_path):
    with pytest.raises(UnreadableFileError, match="cannot read"):
        store.stage_file(tmp_path / "does-not-exist")
    assert os.listdir(tmp_path / "tmp") == []


def test_remove_reports_freed_bytes(store, tmp_path):
    staged = store_file(store, write(tmp_path / "a", b"12345"))
    assert store.remove(staged.oid) == 5
    assert store.remove(staged.oid) == 0


def test_dvc_data_reads_our_objects_and_trees(store, tmp_path):
    """Our layout and tree bytes are dvc-data's, so its transfer can use this store."""
    from dvc_data.hashfile.hash_info import HashInfo
    from dvc_data.hashfile.meta import Meta
    from dvc_data.hashfile.tree import Tree

    a = store_file(store, write(tmp_path / "x" / "a.txt", b"alpha"))
    b = store_file(store, write(tmp_path / "x" / "sub" / "b.txt", b"beta"))
    entries = {"a.txt": a.oid, "sub/b.txt": b.oid}
    data = tree_bytes(entries)
    oid = tree_oid(data)
    store.commit([store.stage_bytes(data, oid)])

    theirs = Tree()
    for relpath, child in entries.items():
        theirs.add(tuple(relpath.split("/")), Meta(), HashInfo("sha256", child))
    theirs.digest(name="sha256")
    assert theirs.oid == oid
    assert theirs.as_bytes() == data

    odb = store.dvc_odb()
    assert odb.exists(a.oid) and odb.exists(oid)
    assert odb.oid_to_path(a.oid) == os.fspath(store.path(a.oid))
    loaded = Tree.load(odb, HashInfo("sha256", oid))
    assert {"/".join(k): hi.value for k, _, hi in loaded} == entries
