"""gc keeps what is referenced; fsck re-hashes, quarantines corruption and exits 3."""

from __future__ import annotations

import os

from hpcfair_vcs import api
from hpcfair_vcs.fileio.tmpfiles import tmp_name
from hpcfair_vcs.repo import Repo

from .conftest import make_dataset, write


def corrupt(path, data=b"garbage"):
    os.chmod(path, 0o644)
    path.write_bytes(data)
    os.chmod(path, 0o444)


def test_gc_keeps_all_versions_and_drops_removed_artifacts(repo):
    write(repo / "m.pt", b"one")
    api.add(["m.pt"])
    write(repo / "m.pt", b"two")
    api.add(["m.pt"])
    make_dataset(repo / "ds", files=4)
    ds = api.add(["ds"]).items[0]
    assert api.gc().removed_objects == 0
    api.remove("ds")
    dry = api.gc(dry_run=True)
    assert dry.removed_objects == 5 and dry.dry_run
    with Repo(repo) as r:
        assert r.store.exists(ds.oid)
    result = api.gc()
    assert result.removed_objects == 5 and result.freed_bytes > 0 and result.kept_objects == 2
    api.checkout(["m@1"])
    assert (repo / "m.pt").read_bytes() == b"one"


def test_gc_keeps_objects_named_only_by_pointer_files(repo, tmp_path):
    write(repo / "m.pt", b"kept by pointer")
    api.add(["m.pt"])
    # the refs are gone (as in a fresh clone) but the committed pointer still needs the object
    import shutil
    shutil.rmtree(repo / ".hpcfair" / "refs")
    assert api.gc().removed_objects == 0


def test_gc_removes_temp_files_of_dead_processes(repo):
    stale = repo / ".hpcfair" / "tmp" / ".hpcfair-tmp-999999-abcdef"
    stale.write_bytes(b"left by a killed add")
    mine = tmp_name(repo / ".hpcfair" / "tmp")  # owned by this process, which is alive
    mine.write_bytes(b"in progress")
    assert api.gc().removed_tmp == 1
    assert not stale.exists() and mine.exists()


def test_gc_refuses_when_references_are_unreadable(repo):
    write(repo / "m.pt", b"x")
    api.add(["m.pt"])
    write(repo / "m.pt.hpcfair", "{{{ not yaml")
    from hpcfair_vcs.errors import CorruptPointerError
    import pytest

    with pytest.raises(CorruptPointerError) as err:
        api.gc()
    assert "deleted nothing" in err.value.hint
    with Repo(repo) as r:
        assert len(list(r.store.iter_oids())) == 1


def test_fsck_clean_repository(repo):
    make_dataset(repo / "ds", files=3)
    api.add(["ds"])
    result = api.fsck()
    assert result.exit_code == 0 and result.checked_objects == 4 and result.problems == []


def test_fsck_quarantines_corrupt_objects_and_checkout_refuses_them(repo):
    write(repo / "a.pt", b"a" * 100)
    write(repo / "b.pt", b"b" * 100)
    a, b = api.add(["a.pt", "b.pt"]).items
    with Repo(repo) as r:
        corrupt(r.store.path(a.oid))
    result = api.fsck()
    assert result.exit_code == 3
    assert [(p.oid, p.problem) for p in result.corrupt] == [(a.oid, "corrupt")]
    assert open(result.corrupt[0].quarantined_to, "rb").read() == b"garbage"
    assert any(p.problem == "missing" and p.oid == a.oid for p in result.problems)
    with Repo(repo) as r:
        assert not r.store.exists(a.oid) and r.store.verify(b.oid)
    os.unlink(repo / "a.pt")
    assert api.checkout(["a.pt"]).items[0].exit_code == 3
    # re-adding the good bytes repairs the store
    write(repo / "a.pt", b"a" * 100)
    api.add(["a.pt"])
    assert api.fsck().exit_code == 0


def test_fsck_detects_corrupt_tree_and_records(repo):
    make_dataset(repo / "ds", files=2)
    item = api.add(["ds"]).items[0]
    with Repo(repo) as r:
        corrupt(r.store.path(item.oid), b"[]")
        record = r.records.path(item.pid.removeprefix("hpcfair:"))
        corrupt(record, b"{}")
    problems = {p.problem for p in api.fsck().problems}
    assert {"corrupt", "corrupt record"} <= problems


def test_fsck_restores_read_only_mode(repo):
    write(repo / "m.pt", b"x")
    item = api.add(["m.pt"]).items[0]
    with Repo(repo) as r:
        os.chmod(r.store.path(item.oid), 0o644)
        result = api.fsck()
        assert [p.problem for p in result.problems] == ["writable"] and result.exit_code == 0
        assert r.store.is_read_only(item.oid)


def test_fsck_lists_a_missing_object_once_with_every_version_that_needs_it(repo):
    make_dataset(repo / "ds", files=3)
    api.add(["ds"])
    write(repo / "ds" / "extra.bin", b"new")
    api.add(["ds"])  # v2 shares the three files of v1
    with Repo(repo) as r:
        shared = r.store.read_tree(api.show("ds@1").oid)["part0/f0.bin"]
        os.chmod(r.store.path(shared), 0o644)
        os.unlink(r.store.path(shared))
    missing = [p for p in api.fsck().problems if p.problem == "missing"]
    assert [(p.oid, p.detail) for p in missing] == [(shared, "needed by ds v1 and 1 more")]
