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
from pathlib import Path

import pytest

from hpcfair_vcs import api
from hpcfair_vcs.records import canonical_bytes

from .conftest import write
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


ESCAPES = ["../../evil/x.bin", "/tmp/evil-abs/x.bin", "models/../../evil.bin", "a\nb.bin", "", "x" * 300]


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
    assert "has a name hpcfair cannot track" in err and "rename it" in err
    write(repo / "folder" / name, b"data")
    err = cli("add", "folder", code=1).stderr
    assert "has a name hpcfair cannot track" in err
    assert not (repo / "folder.hpcfair").exists()
