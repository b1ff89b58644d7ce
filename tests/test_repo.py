"""Repository init, discovery, FORMAT checks and repair of a freshly cloned control folder."""

from __future__ import annotations

import shutil

import pytest

from hpcfair_vcs import api
from hpcfair_vcs.errors import AlreadyARepositoryError, NotARepositoryError, UnsupportedFormatError
from hpcfair_vcs.repo import Repo

from .conftest import write


def test_init_twice_is_refused(repo):
    with pytest.raises(AlreadyARepositoryError):
        api.init(repo)


def test_discover_from_a_subfolder(repo, monkeypatch):
    (repo / "deep" / "er").mkdir(parents=True)
    monkeypatch.chdir(repo / "deep" / "er")
    with Repo.discover() as r:
        assert r.root == repo


def test_hpcfair_repo_env(repo, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HPCFAIR_REPO", str(repo))
    with Repo.discover() as r:
        assert r.root == repo


def test_unknown_format_is_refused_and_untouched(repo):
    (repo / ".hpcfair" / "FORMAT").write_text("2\n")
    with pytest.raises(UnsupportedFormatError) as err:
        Repo(repo)
    assert err.value.exit_code == 4
    with pytest.raises(UnsupportedFormatError):
        api.init(repo)
    assert (repo / ".hpcfair" / "FORMAT").read_text() == "2\n"


def test_missing_format_file(repo):
    (repo / ".hpcfair" / "FORMAT").unlink()
    with pytest.raises(NotARepositoryError, match="FORMAT"):
        Repo(repo)


def test_cloned_control_folder_is_completed_on_open(make_repo):
    """A git clone carries only FORMAT, config.yaml and .gitignore; the rest appears on use."""
    root = make_repo(git=True)
    for name in ("files", "records", "refs", "tmp", "state.db", "lock", "config.local.yaml"):
        path = root / ".hpcfair" / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    write(root / "m.pt", b"x")
    assert api.add(["m.pt"]).items[0].version == 1
    assert (root / ".hpcfair" / "files" / "sha256").is_dir()


def test_api_calls_close_the_repository_they_open(repo):
    """A long-running process (a notebook, a server) keeps no SQLite connection after a call returns;
    a Repo passed in stays open: it is the caller's."""
    import os

    def open_state_dbs() -> int:
        count = 0
        for fd in os.listdir("/proc/self/fd"):
            try:
                count += os.readlink(f"/proc/self/fd/{fd}").endswith("state.db")
            except OSError:
                continue
        return count

    write(repo / "m.bin", b"model")
    api.add(["m.bin"], repo=repo)
    for call in (lambda: api.status(repo=repo), lambda: api.show("m", repo=repo), lambda: api.checkout(repo=repo),
                 lambda: api.status()):
        call()
        assert open_state_dbs() == 0
    with Repo(repo) as mine:
        api.status(repo=mine)
        assert mine.state._db is not None and open_state_dbs() == 1  # still the caller's, still open
