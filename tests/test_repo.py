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
