"""hpcfair checkout: restore, switch versions, never lose unstored work, read-only store."""

from __future__ import annotations

import os
import stat

from hpcfair_vcs import api
from hpcfair_vcs.worktree import pointer as pointer_mod
from hpcfair_vcs.repo import Repo

from .conftest import make_dataset, store_file, write


def test_restore_missing_file_and_folder(repo):
    write(repo / "m.pt", b"weights")
    make_dataset(repo / "ds", files=6)
    expected = {p: p.read_bytes() for p in (repo / "ds").rglob("*") if p.is_file()}
    api.add(["m.pt", "ds"])
    os.unlink(repo / "m.pt")
    import shutil
    shutil.rmtree(repo / "ds")
    result = api.checkout()
    assert {i.path: i.action for i in result.items} == {"m.pt": "restored", "ds": "restored"}
    assert (repo / "m.pt").read_bytes() == b"weights"
    assert {p: p.read_bytes() for p in (repo / "ds").rglob("*") if p.is_file()} == expected
    assert {e.state for e in api.status().entries} == {"in sync"}


def test_switch_versions_and_tags_updates_pointer(repo):
    write(repo / "m.pt", b"one")
    api.add(["m.pt"], tags=["paper-v1"])
    write(repo / "m.pt", b"two")
    api.add(["m.pt"])
    api.checkout(["m@1"])
    assert (repo / "m.pt").read_bytes() == b"one"
    assert pointer_mod.read(repo / "m.pt.hpcfair").version == 1
    api.checkout(["m@latest"])
    assert (repo / "m.pt").read_bytes() == b"two"
    api.checkout(["m@paper-v1"])
    assert (repo / "m.pt").read_bytes() == b"one"
    pid = api.show("m@2").pid
    api.checkout([pid[:20]])
    assert (repo / "m.pt").read_bytes() == b"two"


def test_folder_switch_removes_files_not_in_version(repo):
    make_dataset(repo / "ds", files=3)
    api.add(["ds"])
    write(repo / "ds" / "new" / "extra.bin", b"extra")
    api.add(["ds"])
    item = api.checkout(["ds@1"]).items[0]
    assert item.files_removed == 1 and not (repo / "ds" / "new").exists()
    api.checkout(["ds@2"])
    assert (repo / "ds" / "new" / "extra.bin").read_bytes() == b"extra"


def test_unstored_changes_are_never_overwritten_without_force(repo):
    write(repo / "m.pt", b"one")
    api.add(["m.pt"])
    write(repo / "m.pt", b"two")
    api.add(["m.pt"])
    write(repo / "m.pt", b"precious unsaved work")
    result = api.checkout(["m@1"])
    assert result.items[0].action == "failed" and result.exit_code == 1
    assert "not stored" in result.items[0].error
    assert (repo / "m.pt").read_bytes() == b"precious unsaved work"
    api.checkout(["m@1"], force=True)
    assert (repo / "m.pt").read_bytes() == b"one"


def test_stored_content_may_be_switched_freely(repo):
    write(repo / "m.pt", b"one")
    api.add(["m.pt"])
    write(repo / "m.pt", b"two")
    api.add(["m.pt"])
    assert api.checkout(["m@1"]).items[0].action == "restored"


def test_edit_in_place_of_a_checked_out_copy_cannot_corrupt_the_store(repo):
    write(repo / "m.pt", b"original")
    item = api.add(["m.pt"]).items[0]
    os.unlink(repo / "m.pt")
    api.checkout(["m.pt"])
    with open(repo / "m.pt", "r+b") as fobj:  # an editor writing in place
        fobj.write(b"EDITED!!")
    with Repo(repo) as r:
        assert r.store.verify(item.oid)
        assert not r.store.path(item.oid).stat().st_mode & stat.S_IWUSR
    assert api.fsck().exit_code == 0


def test_hardlink_and_symlink_link_types(repo):
    write(repo / "m.pt", b"linked")
    item = api.add(["m.pt"]).items[0]
    with Repo(repo) as r:
        obj = r.store.path(item.oid)
    os.unlink(repo / "m.pt")
    assert api.checkout(["m.pt"], link_types=["hardlink"]).items[0].link_type == "hardlink"
    assert os.path.samefile(repo / "m.pt", obj)
    os.unlink(repo / "m.pt")
    assert api.checkout(["m.pt"], link_types=["symlink"]).items[0].link_type == "symlink"
    assert os.readlink(repo / "m.pt") == os.fspath(obj)


def test_reflink_falls_back_to_copy_where_unsupported(repo):
    write(repo / "m.pt", b"data")
    api.add(["m.pt"])
    os.unlink(repo / "m.pt")
    used = api.checkout(["m.pt"], link_types=["reflink", "copy"]).items[0].link_type
    assert used in ("reflink", "copy")
    assert (repo / "m.pt").read_bytes() == b"data"
    assert os.stat(repo / "m.pt").st_mode & stat.S_IWUSR  # the work-tree copy is the user's


def test_missing_object_fails_that_item_with_integrity_code(repo):
    write(repo / "a.pt", b"a")
    write(repo / "b.pt", b"b")
    a, _ = api.add(["a.pt", "b.pt"]).items
    with Repo(repo) as r:
        r.store.remove(a.oid)
    os.unlink(repo / "a.pt")
    os.unlink(repo / "b.pt")
    result = api.checkout()
    by_path = {i.path: i for i in result.items}
    assert by_path["b.pt"].action == "restored"
    failed = [i for i in result.items if i.action == "failed"]
    assert len(failed) == 1 and failed[0].exit_code == 3 and "pull" in failed[0].error


def test_link_type_from_config(repo):
    (repo / ".hpcfair" / "config.yaml").write_text("core:\n  link_types: [hardlink, copy]\n")
    write(repo / "m.pt", b"cfg")
    api.add(["m.pt"])
    os.unlink(repo / "m.pt")
    assert api.checkout(["m.pt"]).items[0].link_type == "hardlink"


def test_unknown_target(repo):
    result = api.checkout(["nope@3"])
    assert result.items[0].action == "failed" and result.exit_code == 1
    assert "nope@3" in result.items[0].error


def test_folder_with_unstored_edits_is_protected_but_missing_files_are_not(repo):
    make_dataset(repo / "ds", files=4)
    api.add(["ds"])
    os.unlink(repo / "ds" / "part0" / "f0.bin")
    assert api.checkout(["ds"]).items[0].files_written == 1  # a missing file loses nothing
    write(repo / "ds" / "part1" / "f1.bin", b"unsaved edit")
    result = api.checkout(["ds"])
    assert result.exit_code == 1 and "ds/part1/f1.bin" in result.items[0].error
    assert (repo / "ds" / "part1" / "f1.bin").read_bytes() == b"unsaved edit"


def test_a_missing_folder_is_built_whole_or_not_at_all(repo):
    make_dataset(repo / "ds", files=30)
    write(repo / "ds" / "deep" / "er" / "big.bin", os.urandom((4 << 20) + 17))  # the buffered copy
    expected = {p: p.read_bytes() for p in (repo / "ds").rglob("*") if p.is_file()}
    item = api.add(["ds"]).items[0]
    import shutil

    shutil.rmtree(repo / "ds")
    with Repo(repo) as r:
        children = sorted(r.store.read_tree(item.oid).values())
        gone = children[len(children) // 2]
        r.store.remove(gone)
    for links in (["copy"], ["symlink"]):
        failed = api.checkout(["ds"], link_types=links).items[0]
        assert failed.action == "failed" and failed.exit_code == 3 and "pull" in failed.error
        assert not (repo / "ds").exists()
        assert [p for p in os.listdir(repo) if p.startswith(".hpcfair-tmp-")] == []  # nothing half-built
    import hashlib

    lost = next(data for data in expected.values() if hashlib.sha256(data).hexdigest() == gone)
    with Repo(repo) as r:
        store_file(r.store, write(repo.parent / "lost", lost))
    assert api.checkout(["ds"]).items[0].action == "restored"
    assert {p: p.read_bytes() for p in (repo / "ds").rglob("*") if p.is_file()} == expected
    assert {e.state for e in api.status().entries} == {"in sync"}
