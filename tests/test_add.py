"""hpcfair add: versions, dedupe, pointers, metadata, and every refusal leaving the repo untouched."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from hpcfair_vcs import api
from hpcfair_vcs.worktree import pointer as pointer_mod
from hpcfair_vcs.errors import (InvalidNameError, NameConflictError, NestedArtifactError,
                                NotARepositoryError, PathNotFoundError, PathOutsideRepoError,
                                UnreadableFileError, UsageError)
from hpcfair_vcs.repo import Repo
from hpcfair_vcs.storage.state import RACY_WINDOW_NS

from .conftest import make_dataset, write


def snapshot(root):
    """Every file under .hpcfair (except caches) and every pointer, with contents."""
    found = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            if rel.startswith((os.path.join(".hpcfair", "state.db"), os.path.join(".hpcfair", "catalog.db"))) \
                    or rel.endswith("lock"):
                continue
            with open(path, "rb") as fobj:
                found[rel] = fobj.read()
    return found


def test_add_file_creates_version_pointer_and_object(repo):
    data = os.urandom(5000)
    write(repo / "models" / "encoder.pt", data)
    item = api.add(["models/encoder.pt"], tags=["mnist"], description="an encoder",
                   license="MIT", authors=["Ann", "Bo"]).items[0]
    assert (item.artifact, item.kind, item.version, item.new_version) == ("encoder", "model", 1, True)
    assert item.new_objects == 1 and item.tags == ["mnist"]
    ptr = pointer_mod.read(repo / "models" / "encoder.pt.hpcfair")
    assert (ptr.artifact, ptr.oid, ptr.size, ptr.pid, ptr.version) == ("encoder", item.oid, 5000, item.pid, 1)
    with Repo(repo) as r:
        assert r.store.path(item.oid).read_bytes() == data
    shown = api.show("encoder")
    assert shown.metadata == {"description": "an encoder", "license": "MIT", "authors": ["Ann", "Bo"]}
    assert shown.tags == ["mnist"] and shown.parent is None


def test_changed_content_makes_a_new_version_linked_to_its_parent(repo):
    path = write(repo / "m.onnx", b"v1")
    first = api.add(["m.onnx"]).items[0]
    again = api.add(["m.onnx"]).items[0]
    assert not again.new_version and again.pid == first.pid and again.new_objects == 0
    write(path, b"v2")
    second = api.add(["m.onnx"], description="better").items[0]
    assert second.version == 2 and second.pid != first.pid
    assert api.show("m@2").parent == first.pid
    assert api.show("m@1").oid == first.oid
    assert [v.number for v in api.log("m").versions] == [2, 1]
    # metadata given once is kept for later versions
    write(path, b"v3")
    api.add(["m.onnx"])
    assert api.show("m").metadata["description"] == "better"


def test_identical_content_elsewhere_stores_no_new_object_and_names_the_original(repo):
    write(repo / "a" / "weights.bin", b"same")
    write(repo / "b" / "copy.bin", b"same")
    first = api.add(["a/weights.bin"]).items[0]
    second = api.add(["b/copy.bin"]).items[0]
    assert second.new_objects == 0
    assert second.duplicate_of.artifact == "weights" and second.duplicate_of.pid == first.pid
    with Repo(repo) as r:
        assert len(list(r.store.iter_oids())) == 1


def test_add_folder_as_dataset_with_tree_object(repo):
    make_dataset(repo / "data" / "digits", files=7)
    item = api.add(["data/digits"]).items[0]
    assert item.kind == "dataset" and item.nfiles == 7 and item.oid.endswith(".dir")
    with Repo(repo) as r:
        manifest = r.store.read_tree(item.oid)
        assert len(manifest) == 7 and all(r.store.exists(o) for o in manifest.values())
    assert (repo / "data" / "digits.hpcfair").exists()
    # unchanged folder: no new version; a changed file: a new version
    assert not api.add(["data/digits"]).items[0].new_version
    write(repo / "data" / "digits" / "part0" / "f0.bin", b"changed")
    again = api.add(["data/digits"]).items[0]
    assert again.new_version and again.version == 2 and again.new_objects == 2  # the file + the tree


def test_folder_hash_equals_same_content_elsewhere(repo):
    make_dataset(repo / "one", files=4, seed=3)
    make_dataset(repo / "two", files=4, seed=3)
    a, b = api.add(["one", "two"]).items
    assert a.oid == b.oid and b.duplicate_of["artifact"] == "one"


def test_unchanged_files_are_not_rehashed(repo, monkeypatch):
    write(repo / "big.bin", os.urandom(100_000))
    time.sleep(RACY_WINDOW_NS / 1e9 + 0.05)  # older than the racy window, so cacheable
    api.add(["big.bin"])
    calls = []
    import hpcfair_vcs.storage.store as store_mod
    original = store_mod.ObjectStore.stage_file
    monkeypatch.setattr(store_mod.ObjectStore, "stage_file",
                        lambda self, *a, **k: calls.append(a) or original(self, *a, **k))
    assert not api.add(["big.bin"]).items[0].new_version
    assert calls == []


def test_kind_name_and_tag_options(repo):
    write(repo / "table.csv", "a,b\n1,2\n")
    item = api.add(["table.csv"], name="train-table", kind="model").items[0]
    assert (item.artifact, item.kind) == ("train-table", "model")
    assert api.add(["table.csv"]).items[0].artifact == "train-table"  # the pointer remembers
    with pytest.raises(NameConflictError):
        api.add(["table.csv"], name="other")


def test_name_taken_by_another_path_is_refused(repo):
    write(repo / "a" / "model.pt", b"1")
    write(repo / "b" / "model.pt", b"2")
    api.add(["a/model.pt"])
    before = snapshot(repo)
    with pytest.raises(NameConflictError, match="already belongs to a/model.pt") as err:
        api.add(["b/model.pt"])
    assert "--name" in err.value.hint
    assert snapshot(repo) == before
    assert api.add(["b/model.pt"], name="model-b").items[0].artifact == "model-b"


@pytest.mark.parametrize("bad_tag", ["3", "v2", "latest", "has space", "-x"])
def test_bad_tags_are_refused_before_anything_is_stored(repo, bad_tag):
    write(repo / "m.pt", b"x")
    with pytest.raises(InvalidNameError):
        api.add(["m.pt"], tags=[bad_tag])
    assert not (repo / "m.pt.hpcfair").exists()


def test_missing_path_changes_nothing(repo):
    write(repo / "ok.bin", b"ok")
    before = snapshot(repo)
    with pytest.raises(PathNotFoundError):
        api.add(["ok.bin", "nope.bin"])
    assert snapshot(repo) == before


def test_path_outside_repo_and_symlink_escape_are_refused(repo, tmp_path):
    outside = write(tmp_path / "outside.bin", b"secret")
    os.symlink(outside, repo / "link.bin")
    make_dataset(repo / "ds", files=2)
    os.symlink(outside, repo / "ds" / "escape.bin")
    before = snapshot(repo)
    with pytest.raises(PathOutsideRepoError):
        api.add([os.fspath(outside)])
    with pytest.raises(PathOutsideRepoError, match="through a symlink"):
        api.add(["link.bin"])
    with pytest.raises(PathOutsideRepoError, match="escape.bin"):
        api.add(["ds"])
    with pytest.raises(PathOutsideRepoError):
        api.add(["../" + outside.name])
    assert snapshot(repo) == before


def test_symlink_inside_repo_is_followed(repo):
    write(repo / "real.bin", b"real")
    make_dataset(repo / "ds", files=2)
    os.symlink(repo / "real.bin", repo / "ds" / "alias.bin")
    item = api.add(["ds"]).items[0]
    with Repo(repo) as r:
        assert "alias.bin" in r.store.read_tree(item.oid)


def test_internal_folders_and_special_files_are_refused(repo):
    with pytest.raises(PathOutsideRepoError):
        api.add([".hpcfair/FORMAT"])
    os.mkfifo(repo / "pipe")
    with pytest.raises(UnreadableFileError):
        api.add(["pipe"])
    with pytest.raises(UsageError):
        api.add(["."])


def test_nested_artifacts_are_refused(repo):
    make_dataset(repo / "data" / "set", files=3)
    api.add(["data/set"])
    with pytest.raises(NestedArtifactError):
        api.add(["data/set/part0/f0.bin"])
    with pytest.raises(NestedArtifactError):
        api.add(["data"])


def test_name_with_several_paths_is_a_usage_error(repo):
    write(repo / "a", b"a")
    write(repo / "b", b"b")
    with pytest.raises(UsageError):
        api.add(["a", "b"], name="x")


def test_outside_any_repository(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "a.bin", b"a")
    with pytest.raises(NotARepositoryError):
        api.add(["a.bin"])


def test_corrupt_pointer_blocks_add_of_that_path(repo):
    write(repo / "m.pt", b"x")
    write(repo / "m.pt.hpcfair", "artifact: [unclosed\n")
    from hpcfair_vcs.errors import CorruptPointerError

    with pytest.raises(CorruptPointerError):
        api.add(["m.pt"])


def test_pointer_path_stands_for_its_data(repo):
    write(repo / "m.pt", b"x")
    api.add(["m.pt"])
    write(repo / "m.pt", b"y")
    assert api.add(["m.pt.hpcfair"]).items[0].version == 2


def test_inside_git_tracked_data_is_ignored_and_pointers_are_not(make_repo):
    root = make_repo(git=True)
    write(root / "models" / "enc.pt", b"weights")
    api.add(["models/enc.pt"])
    ignored = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=root,
                             capture_output=True, text=True, check=True).stdout
    assert "models/enc.pt.hpcfair" in ignored
    assert "models/enc.pt\n" not in ignored
    assert ".hpcfair/config.yaml" in ignored and ".hpcfair/FORMAT" in ignored
    for private in ("files", "records", "refs", "state.db", "config.local.yaml", "tmp"):
        assert f".hpcfair/{private}" not in ignored
    assert (root / "models" / ".gitignore").read_text() == "/enc.pt\n"
    api.remove("enc")
    assert not (root / "models" / ".gitignore").exists()


def test_outside_git_the_gitignore_files_are_written_too_so_a_later_git_init_commits_no_data(repo):
    import shutil
    import subprocess

    write(repo / "m.pt", b"x")
    api.add(["m.pt"])
    assert (repo / ".gitignore").read_text().splitlines()[-1] == "/m.pt"
    assert (repo / ".hpcfair" / ".gitignore").exists()
    if shutil.which("git"):
        subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
        subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
        staged = subprocess.run(["git", "diff", "--cached", "--name-only"], cwd=repo, check=True,
                                capture_output=True, text=True).stdout.split()
        assert sorted(staged) == [".gitignore", ".hpcfair/.gitignore", ".hpcfair/FORMAT", ".hpcfair/config.yaml",
                                  "m.pt.hpcfair"]  # no store, no config.local.yaml (secrets), no data


def test_two_paths_that_would_share_a_name_are_refused_before_storing(repo):
    from hpcfair_vcs.errors import NameConflictError

    write(repo / "data" / "x.npy", b"1")
    write(repo / "data" / "x.csv", b"2")
    with pytest.raises(NameConflictError, match="would both be named 'x'"):
        api.add(["data/x.npy", "data/x.csv"], repo=repo)
    with Repo(repo) as r:
        assert r.refs.names() == [] and list(r.store.iter_oids()) == []
