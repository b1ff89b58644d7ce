"""hpcfair status: every state, and the stat caches that keep it fast."""

from __future__ import annotations

import os
import shutil
import time

from hpcfair_vcs import api
from hpcfair_vcs.repo import Repo
from hpcfair_vcs.storage.state import RACY_WINDOW_NS

from .conftest import make_dataset, write


def states(**_):
    return {e.path: e.state for e in api.status().entries}


def test_every_state(repo):
    write(repo / "a.pt", b"a")
    write(repo / "b.pt", b"b")
    write(repo / "c.pt", b"c")
    make_dataset(repo / "ds", files=4)
    api.add(["a.pt", "b.pt", "c.pt", "ds"])
    assert set(states().values()) == {"in sync"}
    write(repo / "a.pt", b"changed")
    os.unlink(repo / "b.pt")
    write(repo / "ds" / "extra.bin", b"new file")
    os.unlink(repo / "c.pt.hpcfair")
    assert states() == {"a.pt": "modified", "b.pt": "missing", "c.pt": "no pointer", "ds": "modified"}
    result = api.status()
    assert not result.clean


def test_not_stored_after_a_clone_without_objects(repo, tmp_path):
    write(repo / "m.pt", b"weights")
    api.add(["m.pt"])
    clone = tmp_path / "clone"
    clone.mkdir()
    shutil.copy(repo / "m.pt.hpcfair", clone / "m.pt.hpcfair")
    Repo.init(clone).close()
    entries = api.status(repo=clone).entries
    assert [(e.path, e.state) for e in entries] == [("m.pt", "not stored")]


def test_corrupt_pointer_is_reported_not_fatal(repo):
    write(repo / "m.pt", b"w")
    write(repo / "n.pt", b"n")
    api.add(["m.pt", "n.pt"])
    write(repo / "m.pt.hpcfair", "<<<<<<< HEAD\nartifact: m\n=======\n")
    assert states() == {"m.pt": "corrupt pointer", "n.pt": "in sync"}


def test_folder_snapshot_answers_without_hashing(repo, monkeypatch):
    make_dataset(repo / "ds", files=20)
    time.sleep(RACY_WINDOW_NS / 1e9 + 0.05)
    api.add(["ds"])
    api.status()  # fills the folder row
    import hpcfair_vcs.worktree.workspace as ws

    with monkeypatch.context() as patched:
        patched.setattr(ws, "hash_file", lambda *a: (_ for _ in ()).throw(AssertionError("re-hashed")))
        assert states() == {"ds": "in sync"}
    write(repo / "ds" / "part0" / "f0.bin", b"edited")  # same folder, one file changed
    assert states() == {"ds": "modified"}


def test_same_size_same_mtime_edit_is_still_detected(repo):
    """Content changes that keep size and mtime are caught through ctime/inode."""
    path = write(repo / "m.bin", b"aaaa")
    time.sleep(RACY_WINDOW_NS / 1e9 + 0.05)
    api.add(["m.bin"])
    st = path.stat()
    path.write_bytes(b"bbbb")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert states() == {"m.bin": "modified"}


def test_status_skips_virtualenvs_and_control_folders(repo):
    write(repo / "venv" / "pyvenv.cfg", "home = /usr\n")
    write(repo / "venv" / "lib" / "x.hpcfair", "garbage")
    write(repo / ".git" / "y.hpcfair", "garbage")
    assert api.status().entries == []


def test_file_names_that_are_not_utf8_are_tracked_and_restored(repo):
    """Linux allows any bytes in a file name; the stat cache and the tree keep them exactly."""
    folder = repo / "ds"
    folder.mkdir()
    odd = os.fsdecode(b"caf\xe9.txt")  # Latin-1 bytes: not UTF-8
    (folder / odd).write_bytes(b"x")
    write(folder / "plain.txt", b"y")
    time.sleep(RACY_WINDOW_NS / 1e9 + 0.05)  # old enough for the stat cache to keep the names
    api.add(["ds"], repo=repo)
    assert [e.state for e in api.status(repo=repo).entries] == ["in sync"]
    shutil.rmtree(folder)
    api.checkout(repo=repo)
    time.sleep(RACY_WINDOW_NS / 1e9 + 0.05)
    assert sorted(os.listdir(os.fsencode(folder))) == [b"caf\xe9.txt", b"plain.txt"]
    assert [e.state for e in api.status(repo=repo).entries] == ["in sync"]
    (folder / odd).write_bytes(b"changed")
    assert [e.state for e in api.status(repo=repo).entries] == ["modified"]
