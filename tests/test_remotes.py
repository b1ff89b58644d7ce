"""push / fetch / pull against every kind of remote, each a real server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from hpcfair_vcs import api
from hpcfair_vcs.errors import RemoteError
from hpcfair_vcs.remotes.connect import open_remote
from hpcfair_vcs.repo import Repo

from .conftest import make_dataset, write
from .remote_fixtures import (RemoteSpec, clone_pointers, new_repo, remote_spec, server_spec,  # noqa: F401
                              servers)


def connect(repo: Path, spec: RemoteSpec, name: str = "origin") -> None:
    api.remote_add(name, spec.url, spec.options, repo=repo, default=True)


def populated(tmp_path: Path, spec: RemoteSpec) -> Path:
    a = new_repo(tmp_path / "a")
    write(a / "models" / "enc.pt", b"weights v1" * 100)
    make_dataset(a / "data" / "digits", files=12, size=300)
    api.add(["models/enc.pt", "data/digits"], repo=a)
    write(a / "models" / "enc.pt", b"weights v2" * 100)
    api.add(["models/enc.pt"], repo=a, tags=["prod"], description="encoder")
    connect(a, spec)
    return a


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
            if p.is_file() and ".hpcfair" not in p.parts and p.name != ".gitignore"}  # git's, not the data


def test_push_then_pull_into_a_fresh_clone(tmp_path, remote_spec, monkeypatch):
    a = populated(tmp_path, remote_spec)
    pushed = api.push(repo=a)
    assert pushed.exit_code == 0 and pushed.objects_transferred == 15  # 2 model versions, 12 files, 1 tree
    assert pushed.records_transferred >= 4 and sorted(pushed.refs_updated) == ["digits", "enc"]
    again = api.push(repo=a)
    assert again.objects_transferred == 0 and again.objects_skipped == 15 and again.refs_updated == []
    # every object on the server is exactly the bytes it is named after
    for path in remote_spec.objects_on_disk():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert path.parent.name + path.name == digest or path.name.endswith(".dir")

    # a colleague: `git clone` brings the pointer files only
    b = new_repo(tmp_path / "b")
    clone_pointers(a, b)
    connect(b, remote_spec)
    pulled = api.pull(repo=b)
    assert pulled.exit_code == 0 and pulled.objects_transferred == 14  # the head of enc + 13
    assert tree_bytes(b) == tree_bytes(a)
    assert {e.state for e in api.status(repo=b).entries} == {"in sync"}
    assert [v.number for v in api.log("enc", repo=b).versions] == [2, 1]
    assert api.show("enc@prod", repo=b).metadata["description"] == "encoder"
    assert api.fsck(repo=b).exit_code == 0


def test_pull_pid_into_an_empty_repository_without_git(tmp_path, remote_spec):
    a = populated(tmp_path, remote_spec)
    api.push(repo=a)
    pid = api.show("enc@1", repo=a).pid
    c = new_repo(tmp_path / "c")
    connect(c, remote_spec)
    result = api.pull([pid], repo=c)
    assert result.exit_code == 0
    assert (c / "models" / "enc.pt").read_bytes() == b"weights v1" * 100
    assert api.show(pid, repo=c).number == 1


def test_fetch_brings_records_not_bytes(tmp_path, remote_spec):
    a = populated(tmp_path, remote_spec)
    api.push(repo=a)
    d = new_repo(tmp_path / "d")
    connect(d, remote_spec)
    fetched = api.fetch(repo=d)
    assert fetched.exit_code == 0 and sorted(fetched.refs_updated) == ["digits", "enc"]
    info = api.show(api.show("digits", repo=a).pid, repo=d)
    assert info.artifact == "digits" and info.stored is False
    with Repo(d) as r:
        assert list(r.store.iter_oids()) == []
    api.pull(["digits"], repo=d)
    assert api.show("digits", repo=d).stored


def test_corrupt_remote_object_is_refused_and_the_rest_completes(tmp_path, remote_spec):
    a = populated(tmp_path, remote_spec)
    api.push(repo=a)
    bad = api.show("enc", repo=a).oid
    path = remote_spec.disk / "files" / "sha256" / bad[:2] / bad[2:]
    os.chmod(path, 0o644)
    path.write_bytes(b"truncated")
    b = new_repo(tmp_path / "b")
    connect(b, remote_spec)
    result = api.pull(["enc", "digits"], repo=b)
    assert result.exit_code == 3 and result.objects_corrupt == [bad]
    with Repo(b) as r:
        assert not r.store.exists(bad)
    assert not (b / "models" / "enc.pt").exists()
    assert tree_bytes(b / "data" / "digits") == tree_bytes(a / "data" / "digits")
    assert os.listdir(b / ".hpcfair" / "tmp") == []



def test_pull_of_data_the_remote_lacks_names_the_artifact_and_points_at_push(tmp_path, remote_spec, cli,
                                                                             monkeypatch):
    a = populated(tmp_path, remote_spec)
    api.push(repo=a)
    write(a / "models" / "new.pt", b"added and committed, never pushed")
    new_oid = api.add(["models/new.pt"], repo=a).items[0].oid
    with Repo(a) as r:
        lost = sorted(r.store.read_tree(api.show("digits", repo=a).oid).values())[0]
        remote = open_remote(r)  # through the server: rclone's S3 keeps listing a file deleted behind its back
        remote.fs.rm(remote.path("files", "sha256", lost[:2], lost[2:]))  # one file of the dataset is gone
    b = new_repo(tmp_path / "b")
    clone_pointers(a, b)
    connect(b, remote_spec)
    result = api.pull(repo=b)
    assert result.exit_code == 1
    assert sorted((m.artifact, m.path, m.oid) for m in result.missing_on_remote) == [
        ("digits", "data/digits", lost), ("new", "models/new.pt", new_oid)]
    assert result.objects_failed == [] and result.objects_corrupt == []
    assert (b / "models" / "enc.pt").exists() and not (b / "models" / "new.pt").exists()
    assert not (b / "data" / "digits").exists()
    monkeypatch.chdir(b)
    out = cli("pull", code=1)
    assert f"remote 'origin' does not have the data of new (models/new.pt, object {new_oid[:12]})" in out.stderr
    assert "hpcfair push" in out.stderr and "rerun to resume" not in out.stderr
    assert f"does not have the data of digits (data/digits, object {lost[:12]})" in out.stderr


def test_an_object_the_remote_has_but_cannot_send_failed_not_missing(tmp_path, servers, cli, monkeypatch):
    spec = RemoteSpec("local", servers.get("local"), tmp_path, unique="unsendable")
    a = populated(tmp_path, spec)
    api.push(repo=a)
    bad = api.show("enc", repo=a).oid
    path = spec.disk / "files" / "sha256" / bad[:2] / bad[2:]
    path.unlink()
    path.mkdir()  # the name is there, its bytes cannot be read
    b = new_repo(tmp_path / "b")
    connect(b, spec)
    result = api.pull(["enc"], repo=b)
    assert result.objects_failed == [bad] and result.missing_on_remote == [] and result.exit_code == 4
    monkeypatch.chdir(b)
    assert f"object {bad} failed to transfer (hint: rerun to resume)" in cli("pull", "enc", code=4).stderr


def test_wrong_credentials_are_one_clear_error_and_change_nothing(tmp_path, server_spec):
    remote_spec = server_spec
    a = populated(tmp_path, remote_spec)
    if remote_spec.kind == "ssh":
        wrong = {"keyfile": os.fspath(remote_spec.server.host_key)}  # a key the server does not know
    else:
        wrong = {"webdav": {"password": "wrong"}, "s3": {"secret_access_key": "wrong-secret"}}[remote_spec.kind]
    api.remote_modify("origin", wrong, repo=a)
    with pytest.raises(RemoteError) as err:
        api.push(repo=a)
    assert err.value.exit_code == 4 and "'origin'" in err.value.message and "access denied" in err.value.message
    assert "credentials" in err.value.hint
    assert remote_spec.objects_on_disk() == []
    b = new_repo(tmp_path / "b")
    api.remote_add("origin", remote_spec.url, {**remote_spec.options, **wrong}, repo=b, default=True)
    with pytest.raises(RemoteError):
        api.pull(repo=b)
    assert sorted(os.listdir(b / ".hpcfair" / "records")) == []


def test_dead_server_is_exit_4(tmp_path, server_spec):
    remote_spec = server_spec
    a = populated(tmp_path, remote_spec)
    remote_spec.server.stop()
    try:
        with pytest.raises(RemoteError, match="cannot be reached|access denied") as err:
            api.push(repo=a)
        assert err.value.exit_code == 4
    finally:
        remote_spec.server.start()


def test_secrets_stay_out_of_shared_config_listing_and_output(tmp_path, remote_spec, cli, monkeypatch):
    a = populated(tmp_path, remote_spec)
    shared = (a / ".hpcfair" / "config.yaml").read_text()
    local = a / ".hpcfair" / "config.local.yaml"
    secrets = [v for k, v in remote_spec.options.items()
               if k in ("password", "keyfile", "secret_access_key", "access_key_id")]
    for secret in secrets:
        assert secret not in shared and secret in local.read_text()
    assert local.stat().st_mode & 0o777 == 0o600
    monkeypatch.chdir(a)
    outputs = [cli("remote", "list").stdout, cli("remote", "list", "--json").stdout,
               cli("push", "--json").stdout, cli("push").output]
    for out in outputs:
        for secret in secrets:
            assert secret not in out
    listed = json.loads(outputs[1])["remotes"][0]
    assert all(listed[k] == "***" for k in ("password", "keyfile", "secret_access_key") if k in listed)


def test_interrupted_push_leaves_remote_consistent_and_resumes(tmp_path, remote_spec):
    import signal
    import subprocess
    import sys
    import time

    a = new_repo(tmp_path / "a")
    make_dataset(a / "ds", files=400, size=20_000)
    api.add(["ds"], repo=a)
    connect(a, remote_spec)
    proc = subprocess.Popen([sys.executable, "-m", "hpcfair_vcs", "push", "-j", "2"], cwd=a,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = remote_spec.objects_on_disk()
    for path in before:  # nothing truncated under a final name
        if not path.name.endswith(".dir") and ".hpcfair-tmp-" not in path.name and "tmp" not in path.name:
            assert hashlib.sha256(path.read_bytes()).hexdigest() == path.parent.name + path.name
    assert not (remote_spec.disk / "refs").exists() or len(before) >= 401
    resumed = api.push(repo=a)
    assert resumed.exit_code == 0
    assert resumed.objects_transferred + resumed.objects_skipped == 401
    b = new_repo(tmp_path / "b")
    connect(b, remote_spec)
    assert api.pull(["ds"], repo=b).exit_code == 0
    assert tree_bytes(b / "ds") == tree_bytes(a / "ds")


def test_search_finds_what_a_remote_has_before_pulling(tmp_path, remote_spec):
    a = populated(tmp_path, remote_spec)
    api.push(repo=a)
    e = new_repo(tmp_path / "e")
    connect(e, remote_spec)
    assert api.search("encoder", repo=e).versions == []
    hits = api.search("encoder", repo=e, remote="origin").versions
    assert [(h.artifact, h.number, h.stored) for h in hits] == [("enc", 2, False)]
    assert [h.artifact for h in api.search(repo=e, tags=["prod"]).versions] == ["enc"]
    assert [h.artifact for h in api.search(repo=e, kind="dataset").versions] == ["digits"]


def test_ctrl_c_during_pull_leaves_the_store_verified_and_a_rerun_completes(tmp_path, servers):
    import signal
    import subprocess
    import sys
    import time

    server = servers.get("ssh")
    spec = RemoteSpec("ssh", server, tmp_path, unique="ctrl-c")
    a = new_repo(tmp_path / "a")
    make_dataset(a / "ds", files=600, size=4_000)
    api.add(["ds"], repo=a)
    connect(a, spec)
    api.push(repo=a)
    b = new_repo(tmp_path / "b")
    shutil.copy(a / "ds.hpcfair", b / "ds.hpcfair")
    connect(b, spec)
    proc = subprocess.Popen([sys.executable, "-m", "hpcfair_vcs", "pull", "-j", "2"], cwd=b,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not list((b / ".hpcfair" / "tmp").glob("*incoming*/bulk-*")) and time.monotonic() < deadline:
        time.sleep(0.002)  # until the objects are on their way (a fixed delay can miss the whole pull)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode in (0, 130), err
    assert "Traceback" not in err
    assert api.fsck(repo=b).exit_code == 0  # only verified objects entered the store
    result = api.pull(repo=b)
    assert result.exit_code == 0
    assert tree_bytes(b / "ds") == tree_bytes(a / "ds")
    assert [p for p in os.listdir(b / ".hpcfair" / "tmp") if "incoming" in p] == []


def ssh_repo_with_many_files(tmp_path, servers, unique, files=150):
    server = servers.get("ssh")
    spec = RemoteSpec("ssh", server, tmp_path, unique=unique)
    a = new_repo(tmp_path / "a")
    make_dataset(a / "ds", files=files, size=500)
    api.add(["ds"], repo=a)
    connect(a, spec)
    return a, spec


def test_ssh_bulk_path_moves_many_small_objects_and_verifies_them(tmp_path, servers):
    a, spec = ssh_repo_with_many_files(tmp_path, servers, "bulk")
    pushed = api.push(repo=a)
    assert pushed.exit_code == 0 and pushed.objects_transferred == 151
    assert [p.name for p in spec.disk.iterdir() if p.name.startswith(".hpcfair-tmp")] == []
    for path in spec.objects_on_disk():
        if not path.name.endswith(".dir"):
            assert hashlib.sha256(path.read_bytes()).hexdigest() == path.parent.name + path.name
    victim = sorted(p for p in spec.objects_on_disk() if not p.name.endswith(".dir"))[7]
    os.chmod(victim, 0o644)
    victim.write_bytes(b"bit rot")
    b = new_repo(tmp_path / "b")
    connect(b, spec)
    result = api.pull(["ds"], repo=b)
    assert result.objects_corrupt == [victim.parent.name + victim.name] and result.exit_code == 3
    assert result.objects_transferred == 150  # the tree and 149 good files
    with Repo(b) as r:
        assert not r.store.exists(victim.parent.name + victim.name)
    assert api.fsck(repo=b).exit_code == 0


def test_ssh_without_a_shell_falls_back_to_sftp(tmp_path, servers, monkeypatch):
    from hpcfair_vcs.remotes import ssh_bulk

    def refuse(*args, **kwargs):
        raise ssh_bulk.BulkUnavailable("exec refused (an SFTP-only account)")

    monkeypatch.setattr(ssh_bulk, "_execute", refuse)
    a, spec = ssh_repo_with_many_files(tmp_path, servers, "no-shell", files=80)
    assert api.push(repo=a).objects_transferred == 81
    b = new_repo(tmp_path / "b")
    connect(b, spec)
    assert api.pull(["ds"], repo=b).objects_transferred == 81
    assert tree_bytes(b / "ds") == tree_bytes(a / "ds")


def test_local_folder_remote_copies_directly_and_cleans_up_after_a_killed_push(tmp_path, servers):
    """The local-folder fast path: temp copies of a dead push are removed; a missing object fails alone."""
    spec = RemoteSpec("local", servers.get("local"), tmp_path, unique="direct")
    a = populated(tmp_path, spec)
    staging = spec.disk / ".hpcfair-tmp"
    staging.mkdir(parents=True)
    for name, age in ((".hpcfair-tmp-999999999-old", 7200), (".hpcfair-tmp-999999998-recent", 0)):
        (staging / name).write_bytes(b"half an object")
        os.utime(staging / name, (time.time() - age, time.time() - age))
    pushed = api.push(repo=a)
    assert pushed.exit_code == 0 and pushed.objects_transferred == 15  # 2 models, 12 files, 1 tree
    assert [p.name for p in staging.iterdir()] == [".hpcfair-tmp-999999998-recent"]  # maybe another host's
    for path in spec.objects_on_disk():
        assert not os.access(path, os.W_OK) or os.geteuid() == 0
        if not path.name.endswith(".dir"):
            assert hashlib.sha256(path.read_bytes()).hexdigest() == path.parent.name + path.name
    gone = api.show("enc", repo=a).oid
    (spec.disk / "files" / "sha256" / gone[:2] / gone[2:]).unlink()
    b = new_repo(tmp_path / "b")
    connect(b, spec)
    result = api.pull(["enc", "digits"], repo=b)
    assert result.objects_failed == [] and result.exit_code == 1
    assert [(m.artifact, m.oid) for m in result.missing_on_remote] == [("enc", gone)]
    assert tree_bytes(b / "data" / "digits") == tree_bytes(a / "data" / "digits")
    assert not (b / "models" / "enc.pt").exists()
    assert api.fsck(repo=b).exit_code == 0


def test_local_folder_push_sends_only_what_the_folder_lacks(tmp_path, servers):
    """What a local folder holds is read by listing busy shards and by a stat for the others."""
    from hpcfair_vcs.remotes import local_copy

    root = tmp_path / "remote" / "files" / "sha256"
    busy = [f"ab{i:062x}" for i in range(local_copy.LIST_ABOVE + 10)]  # listed
    quiet = [f"cd{i:062x}" for i in range(3)]  # stat'ed
    for oid in busy[::2] + quiet[:1] + ["ef" + "0" * 62]:
        write(root / oid[:2] / oid[2:], b"x")
    assert local_copy.present(os.fspath(root), busy + quiet + ["01" + "0" * 62]) == set(busy[::2] + quiet[:1])

    spec = RemoteSpec("local", servers.get("local"), tmp_path, unique="partial")
    a = new_repo(tmp_path / "a")
    make_dataset(a / "ds", files=300, size=64)
    api.add(["ds"], repo=a)
    connect(a, spec)
    with Repo(a) as r:
        files = sorted(set(r.store.read_tree(api.show("ds", repo=a).oid).values()))
        for oid in files[:120]:  # a push that died after these
            shutil.copy(r.store.path(oid), write(spec.disk / "files" / "sha256" / oid[:2] / oid[2:], b""))
    pushed = api.push(repo=a)
    assert (pushed.objects_transferred, pushed.objects_skipped) == (len(files) - 120 + 1, 120)
    b = new_repo(tmp_path / "b")
    connect(b, spec)
    assert api.pull(["ds"], repo=b).exit_code == 0 and tree_bytes(b / "ds") == tree_bytes(a / "ds")


def test_big_files_through_a_local_folder_go_straight_to_disk_and_check_out_from_the_pull(
        tmp_path, servers, monkeypatch):
    """From BYPASS_FROM on: a direct copy on push; on pull one pass feeds store and work tree."""
    from hpcfair_vcs.fileio.direct import BYPASS_FROM
    from hpcfair_vcs.storage.spares import SpareCopies

    spec = RemoteSpec("local", servers.get("local"), tmp_path, unique="big")
    a = new_repo(tmp_path / "a")
    write(a / "big.bin", os.urandom(BYPASS_FROM + 12345))
    write(a / "other.bin", os.urandom(BYPASS_FROM * 2))
    api.add(["big.bin", "other.bin"], repo=a)
    connect(a, spec)
    assert api.push(repo=a).objects_transferred == 2
    assert not list((spec.disk / ".hpcfair-tmp").iterdir())
    for path in spec.objects_on_disk():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.parent.name + path.name

    taken = []
    take_spare = SpareCopies.take
    monkeypatch.setattr(SpareCopies, "take", lambda self, oid: taken.append(take_spare(self, oid)) or taken[-1])
    b = new_repo(tmp_path / "b")
    connect(b, spec)
    pulled = api.pull(["big", "other"], repo=b)
    assert pulled.exit_code == 0 and len(taken) == 2 and None not in taken  # both came from the pull's pass
    assert tree_bytes(b) == tree_bytes(a) and api.fsck(repo=b).exit_code == 0
    assert {e.state for e in api.status(repo=b).entries} == {"in sync"}
    assert os.listdir(b / ".hpcfair" / "tmp") == []

    # a corrupt big object: refused, nothing checked out, no spare left behind; the other one completes
    bad = api.show("big", repo=a).oid
    path = spec.disk / "files" / "sha256" / bad[:2] / bad[2:]
    os.chmod(path, 0o644)
    with open(path, "r+b") as fobj:
        fobj.seek(BYPASS_FROM)
        byte = fobj.read(1)
        fobj.seek(BYPASS_FROM)
        fobj.write(bytes([byte[0] ^ 0xFF]))  # a byte that differs (writing "X" left it unchanged 1 run in 256)
    c = new_repo(tmp_path / "c")
    connect(c, spec)
    result = api.pull(["big", "other"], repo=c)
    assert result.exit_code == 3 and result.objects_corrupt == [bad]
    assert not (c / "big.bin").exists() and (c / "other.bin").read_bytes() == (a / "other.bin").read_bytes()
    assert os.listdir(c / ".hpcfair" / "tmp") == []

    # hard links configured: no spare is made, the work tree links the object
    d = new_repo(tmp_path / "d")
    (d / ".hpcfair" / "config.yaml").write_text("core:\n  link_types: [hardlink, copy]\n")
    connect(d, spec)
    taken.clear()
    assert api.pull(["other"], repo=d).exit_code == 0 and taken == []  # no spares to take
    with Repo(d) as r:
        assert os.stat(d / "other.bin").st_ino == os.stat(r.store.path(api.show("other", repo=d).oid)).st_ino


def test_a_big_object_is_streamed_verified_and_checked_out_in_one_pass(tmp_path, remote_spec, monkeypatch):
    """Every kind of remote: checkout takes the copy made in the pass that hashed the download."""
    from hpcfair_vcs.fileio.direct import BYPASS_FROM
    from hpcfair_vcs.storage.spares import SpareCopies
    from hpcfair_vcs.storage.store import ObjectStore

    a = new_repo(tmp_path / "a")
    write(a / "big.bin", os.urandom(BYPASS_FROM + 1))
    api.add(["big.bin"], repo=a)
    connect(a, remote_spec)
    assert api.push(repo=a).objects_transferred == 1
    taken = []
    take_spare = SpareCopies.take
    monkeypatch.setattr(SpareCopies, "take", lambda self, oid: taken.append(take_spare(self, oid)) or taken[-1])
    b = new_repo(tmp_path / "b")
    connect(b, remote_spec)
    streamed = []
    receive_stream = ObjectStore.receive_stream
    monkeypatch.setattr(ObjectStore, "receive_stream",
                        lambda self, *args: streamed.append(args[1]) or receive_stream(self, *args))
    assert api.pull(["big"], repo=b).exit_code == 0 and len(taken) == 1 and taken[0] is not None
    assert len(streamed) == (remote_spec.kind in ("ssh", "webdav"))  # s3: downloaded, then hashed + copied
    assert (b / "big.bin").read_bytes() == (a / "big.bin").read_bytes() and api.fsck(repo=b).exit_code == 0
    assert os.listdir(b / ".hpcfair" / "tmp") == []

    bad = api.show("big", repo=a).oid  # one byte changed on the server: refused, nothing checked out
    path = remote_spec.disk / "files" / "sha256" / bad[:2] / bad[2:]
    os.chmod(path, 0o644)
    with open(path, "r+b") as fobj:
        fobj.seek(BYPASS_FROM // 2)
        byte = fobj.read(1)
        fobj.seek(BYPASS_FROM // 2)
        fobj.write(bytes([byte[0] ^ 0xFF]))  # surely another byte
    c = new_repo(tmp_path / "c")
    connect(c, remote_spec)
    result = api.pull(["big"], repo=c)
    assert result.exit_code == 3 and result.objects_corrupt == [bad]
    assert not (c / "big.bin").exists() and os.listdir(c / ".hpcfair" / "tmp") == []
    with Repo(c) as r:
        assert not r.store.exists(bad)


def test_ssh_prefers_aes_gcm_where_the_cpu_has_aes_instructions(tmp_path, servers):
    import re

    from hpcfair_vcs.remotes.connect import open_remote

    spec = RemoteSpec("ssh", servers.get("ssh"), tmp_path, unique="cipher")
    a = populated(tmp_path, spec)
    assert api.push(repo=a).exit_code == 0
    with Repo(a) as r:
        sftp = open_remote(r).fs.fs
        sftp.ls(spec.disk.as_posix())  # connects
        cipher = sftp._client.get_extra_info("send_cipher")
    has_aes = re.search(r"^(flags|Features)\s*:.*\baes\b", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
    assert cipher == ("aes256-gcm@openssh.com" if has_aes else "chacha20-poly1305@openssh.com")


@pytest.mark.frameworks
def test_pull_only_onnx_brings_the_onnx_form_with_its_provenance(tmp_path, remote_spec, monkeypatch):
    pytest.importorskip("skl2onnx")
    from . import model_zoo

    monkeypatch.setenv("HPCFAIR_AUTO_CONVERT", "1")
    a = new_repo(tmp_path / "a")
    model_zoo.save_skops(model_zoo.pipeline(), write(a / "models" / "pipe.skops", b""))
    make_dataset(a / "data", files=4)
    added = api.add(["models/pipe.skops", "data"], repo=a, params={"C": 1.0})
    assert added.items[0].conversion["status"] == "converted"
    connect(a, remote_spec)
    assert api.push(repo=a).exit_code == 0
    b = new_repo(tmp_path / "b")
    shutil.copy(a / "models" / "pipe.skops.hpcfair", write(b / "models" / "pipe.skops.hpcfair", b""))
    connect(b, remote_spec)
    result = api.pull(["pipe", "data"], repo=b, only="onnx")
    assert result.exit_code == 0 and result.no_derived_form == ["data"]
    assert (b / "models" / "pipe.onnx").read_bytes() == (a / ".hpcfair" / "files" / "sha256" /
                                                         added.items[0].conversion["oid"][:2] /
                                                         added.items[0].conversion["oid"][2:]).read_bytes()
    assert not (b / "models" / "pipe.skops").exists() and not (b / "data").exists()
    with Repo(b) as r:
        assert not r.store.exists(api.show("pipe", repo=b).oid)  # the source bytes stayed on the remote
    shown = api.show("pipe.onnx", repo=b)
    assert shown.provenance["results"]["parity"]["max_rel"] <= 1e-4
    assert shown.provenance["runtime"]["hyperparameters"] == {"C": 1.0}
    assert api.pull(repo=b, only="onnx").no_derived_form == []  # the pointer pipe.skops.hpcfair -> its ONNX form


@pytest.mark.servers
def test_python_m_remotes_starts_a_server_a_user_can_add(tmp_path):
    """`python -m remotes ssh DIR` (docs/remotes.md) starts a real sshd and prints the line to add it."""
    import signal
    import socket
    import subprocess

    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen([sys.executable, "-m", "remotes", "ssh", os.fspath(tmp_path / "srv")], cwd=root,
                            stdout=subprocess.PIPE, text=True)
    try:
        banner = proc.stdout.readline()
        line = proc.stdout.readline()
        assert banner.startswith("ssh server on 127.0.0.1:") and line.startswith("hpcfair remote add ssh ssh://")
        port = int(banner.split(":")[1].split(";")[0])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            assert conn.recv(7) == b"SSH-2.0"
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
