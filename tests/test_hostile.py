"""Hostile input: what a remote or a clone says is checked before anything acts on it.

An evil remote here is a local folder whose refs and records were rewritten after a real push;
records keep valid ids (the attacker re-hashes them), so only the checks of their values stand
between the remote and the work tree. Each case asserts the exit code and that nothing outside
the repository was written.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from hpcfair_vcs import api
from hpcfair_vcs.records import canonical_bytes

from .conftest import make_dataset, write
from .remote_fixtures import new_repo


def pushed(tmp_path: Path) -> tuple[Path, Path]:
    """A repository with one pushed file, and its local-folder remote."""
    a = new_repo(tmp_path / "a")
    write(a / "models" / "m.bin", b"model bytes")
    api.add(["models/m.bin"], repo=a)
    remote = tmp_path / "remote"
    api.remote_add("origin", os.fspath(remote), {}, repo=a, default=True)
    assert api.push(repo=a).exit_code == 0
    return a, remote


def put_record(remote: Path, doc: dict) -> str:
    """Store *doc* on the remote as a record with a valid id, as an attacker can."""
    data = canonical_bytes(doc)
    record_id = hashlib.sha256(data).hexdigest()
    write(remote / "records" / record_id[:2] / record_id[2:], data)
    return record_id


def evil_ref(remote: Path, **changes) -> None:
    path = remote / "refs" / "artifacts" / "m.json"
    doc = json.loads(path.read_text())
    path.write_text(json.dumps({**doc, **changes}))


def clone(tmp_path: Path, remote: Path) -> Path:
    b = new_repo(tmp_path / "b")
    api.remote_add("origin", os.fspath(remote), {}, repo=b, default=True)
    return b


def outside(tmp_path: Path) -> set[str]:
    return {p.name for p in tmp_path.iterdir()} - {"a", "b", "remote"}


ESCAPES = ["../../evil/x.bin", "/tmp/evil-abs/x.bin", "models/../../evil.bin", "a\nb.bin", "", "x" * 300,
           ".git/config", ".hpcfair/config.local.yaml", "models/.git/hooks/post-checkout", "models/.GIT/config"]


@pytest.mark.parametrize("path", ESCAPES)
def test_a_remote_ref_whose_path_escapes_is_refused(tmp_path, cli, monkeypatch, path):
    a, remote = pushed(tmp_path)
    evil_ref(remote, path=path)
    b = clone(tmp_path, remote)
    monkeypatch.chdir(b)
    err = cli("pull", "m", code=3).stderr
    assert "remote ref m.json is unreadable: bad path" in err
    assert outside(tmp_path) == set() and not Path("/tmp/evil-abs").exists()


@pytest.mark.parametrize("path", ESCAPES)
def test_a_remote_version_record_whose_path_escapes_is_refused(tmp_path, cli, monkeypatch, path):
    a, remote = pushed(tmp_path)
    ref = json.loads((remote / "refs" / "artifacts" / "m.json").read_text())
    head = ref["versions"][-1]
    record = json.loads((remote / "records" / head[:2] / head[2:]).read_bytes())
    evil_id = put_record(remote, {**record, "path": path})
    evil_ref(remote, versions=[evil_id])
    b = clone(tmp_path, remote)
    monkeypatch.chdir(b)
    err = cli("pull", f"hpcfair:{evil_id}", code=3).stderr
    assert "bad path" in err, err
    assert outside(tmp_path) == set() and not Path("/tmp/evil-abs").exists()
    assert not (b / "models").exists()


@pytest.mark.parametrize("changes, field", [
    ({"tags": ["prod"]}, "tags"), ({"tags": {"prod": "../x"}}, "tags"), ({"versions": "abc"}, "versions"),
    ({"kind": "virus"}, "kind"), ({"metadata": 7}, "metadata"), ({"name": "../m"}, "name"),
])
def test_a_malformed_remote_ref_is_an_integrity_failure_naming_the_file(tmp_path, cli, monkeypatch, changes, field):
    a, remote = pushed(tmp_path)
    evil_ref(remote, **changes)
    b = clone(tmp_path, remote)
    monkeypatch.chdir(b)
    err = cli("fetch", code=3).stderr
    assert "remote ref m.json is unreadable" in err and field in err, err


def test_a_local_ref_or_record_with_an_escaping_path_is_refused(tmp_path, cli, monkeypatch):
    """A clone's .hpcfair can be tampered with too: a local ref is checked when read."""
    a, remote = pushed(tmp_path)
    ref_file = a / ".hpcfair" / "refs" / "artifacts" / "m.json"
    doc = json.loads(ref_file.read_text())
    ref_file.chmod(0o644)
    ref_file.write_text(json.dumps({**doc, "path": "../evil.bin"}))
    monkeypatch.chdir(a)
    err = cli("checkout", "m", "--force", code=3).stderr
    assert "bad path" in err
    assert outside(tmp_path) == set()


@pytest.mark.parametrize("name", ["new\nline.bin", "tab\there.bin"])
def test_add_refuses_names_that_records_cannot_hold(repo, cli, name):
    write(repo / name, b"data")
    err = cli("add", name, code=1).stderr
    assert "has a name hpcfair cannot track" in err and "rename or remove it" in err
    write(repo / "folder" / name, b"data")
    err = cli("add", "folder", code=1).stderr
    assert "has a name hpcfair cannot track" in err
    assert not (repo / "folder.hpcfair").exists()


def tracked_then_linked_out(tmp_path: Path) -> tuple[Path, Path]:
    """A repository whose models/ folder, after models/m.bin was added, became a symlink to a
    folder outside (as a clone can commit one); that folder holds a file of the same name."""
    repo = new_repo(tmp_path / "a")
    write(repo / "models" / "m.bin", b"model bytes")
    api.add(["models/m.bin"], repo=repo)
    elsewhere = tmp_path / "elsewhere"
    write(elsewhere / "m.bin", b"precious")
    write(elsewhere / "m.bin.hpcfair", b"someone else's pointer")
    write(elsewhere / ".gitignore", b"/m.bin\n")
    for item in (repo / "models").iterdir():
        item.unlink()
    (repo / "models").rmdir()
    (repo / "models").symlink_to(elsewhere)
    return repo, elsewhere


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.mark.parametrize("args", [("checkout", "m"), ("checkout", "m", "--force"), ("checkout", "m@1", "--force"),
                                  ("checkout", "models/m.bin", "--force"), ("remove", "m")])
def test_writes_and_deletes_refuse_a_parent_folder_linked_outside(tmp_path, cli, monkeypatch, args):
    repo, elsewhere = tracked_then_linked_out(tmp_path)
    before = snapshot(elsewhere)
    monkeypatch.chdir(repo)
    result = cli(*args, code=1)
    assert "outside the repository" in result.stderr, (result.stdout, result.stderr)
    assert snapshot(elsewhere) == before


def test_pointer_discovery_does_not_follow_links(tmp_path, cli, monkeypatch):
    """`checkout` of every pointer finds none behind a linked folder or a linked pointer file."""
    repo, elsewhere = tracked_then_linked_out(tmp_path)
    (repo / "n.bin.hpcfair").symlink_to(elsewhere / "m.bin.hpcfair")
    before = snapshot(elsewhere)
    monkeypatch.chdir(repo)
    assert cli.json("checkout", "--force")["items"] == []
    assert snapshot(elsewhere) == before and not (repo / "n.bin").exists()


def test_checkout_refuses_a_symlinked_subfolder_of_a_dataset(tmp_path, cli, monkeypatch):
    repo = new_repo(tmp_path / "a")
    make_dataset(repo / "ds", files=6)
    api.add(["ds"], repo=repo)
    elsewhere = tmp_path / "elsewhere"
    write(elsewhere / "f1.bin", b"precious")
    shutil.rmtree(repo / "ds" / "part1")
    (repo / "ds" / "part1").symlink_to(elsewhere)
    monkeypatch.chdir(repo)
    err = cli("checkout", "ds", "--force", code=1).stderr
    assert "leads outside the repository" in err
    assert snapshot(elsewhere) == {"f1.bin": b"precious"}


def test_checkout_will_not_replace_a_link_that_leads_outside(tmp_path, cli, monkeypatch):
    repo = new_repo(tmp_path / "a")
    write(repo / "m.bin", b"model bytes")
    api.add(["m.bin"], repo=repo)
    write(tmp_path / "elsewhere.bin", b"precious")
    (repo / "m.bin").unlink()
    (repo / "m.bin").symlink_to(tmp_path / "elsewhere.bin")
    monkeypatch.chdir(repo)
    err = cli("checkout", "m", "--force", code=1).stderr
    assert "is a link that leads outside the repository" in err
    assert (repo / "m.bin").is_symlink() and (tmp_path / "elsewhere.bin").read_bytes() == b"precious"
