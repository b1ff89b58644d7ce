"""Hostile input: what a remote, a clone or a model file says is checked before anything acts on it.

An evil remote here is a local folder, or a folder served by the real SSH server, whose refs and
records were rewritten after a real push; records keep valid ids (the attacker re-hashes them),
so only the checks of their values stand between the remote and the work tree. An evil clone is a
repository whose committed files (config, links, names) were crafted. Each case asserts the exit
code and that nothing outside the repository was written, read, deleted or run, and that no
secret shows. docs/security.md says which rule each attack tests. Scale-out's attacks (a remote
object that is not the recorded data read by a worker, a pickled shard, batch-script values in a
committed config, a scheduler address in a task file) are in test_scaleout.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from hpcfair_vcs import api
from hpcfair_vcs.storage.records import MetadataRecord, VersionRecord, canonical_bytes
from hpcfair_vcs.repo import Repo

from .conftest import make_dataset, write
from .remote_fixtures import RemoteSpec, new_repo, servers  # noqa: F401 - a fixture


@pytest.fixture(params=["local", "ssh"])
def remote_spec(request, servers, tmp_path):
    """The evil remote: a local folder, or the same files served by the real sshd."""
    return RemoteSpec(request.param, servers.get(request.param), tmp_path, unique=tmp_path.name[-30:].replace("_", "-"))


def local_spec(tmp_path: Path) -> RemoteSpec:
    return RemoteSpec("local", None, tmp_path, unique="")


def pushed(tmp_path: Path, spec: RemoteSpec | None = None) -> tuple[Path, Path]:
    """A repository with one pushed file, and the folder that holds its remote's files."""
    spec = spec or local_spec(tmp_path)
    a = new_repo(tmp_path / "a")
    write(a / "models" / "m.bin", b"model bytes")
    api.add(["models/m.bin"], repo=a)
    api.remote_add("origin", spec.url, dict(spec.options), repo=a, default=True)
    assert api.push(repo=a).exit_code == 0
    return a, spec.disk


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


def clone(tmp_path: Path, remote: Path, spec: RemoteSpec | None = None) -> Path:
    spec = spec or local_spec(tmp_path)
    b = new_repo(tmp_path / "b")
    api.remote_add("origin", spec.url, dict(spec.options), repo=b, default=True)
    return b


def outside(tmp_path: Path) -> set[str]:
    return {p.name for p in tmp_path.iterdir()} - {"a", "b", "remote"}


ESCAPES = ["../../evil/x.bin", "/tmp/evil-abs/x.bin", "models/../../evil.bin", "a\nb.bin", "", "x" * 300,
           ".git/config", ".hpcfair/config.local.yaml", "models/.git/hooks/post-checkout", "models/.GIT/config"]


@pytest.mark.parametrize("path", ESCAPES)
def test_a_remote_ref_whose_path_escapes_is_refused(tmp_path, cli, monkeypatch, path, remote_spec):
    a, remote = pushed(tmp_path, remote_spec)
    evil_ref(remote, path=path)
    b = clone(tmp_path, remote, remote_spec)
    monkeypatch.chdir(b)
    err = cli("pull", "m", code=3).stderr
    assert "remote ref m.json is unreadable: bad path" in err
    assert outside(tmp_path) == set() and not Path("/tmp/evil-abs").exists()


@pytest.mark.parametrize("path", ESCAPES)
def test_a_remote_version_record_whose_path_escapes_is_refused(tmp_path, cli, monkeypatch, path, remote_spec):
    a, remote = pushed(tmp_path, remote_spec)
    ref = json.loads((remote / "refs" / "artifacts" / "m.json").read_text())
    head = ref["versions"][-1]
    record = json.loads((remote / "records" / head[:2] / head[2:]).read_bytes())
    evil_id = put_record(remote, {**record, "path": path})
    evil_ref(remote, versions=[evil_id])
    b = clone(tmp_path, remote, remote_spec)
    monkeypatch.chdir(b)
    err = cli("pull", f"hpcfair:{evil_id}", code=3).stderr
    assert "bad path" in err, err
    assert outside(tmp_path) == set() and not Path("/tmp/evil-abs").exists()
    assert not (b / "models").exists()


@pytest.mark.parametrize("changes, field", [
    ({"tags": ["prod"]}, "tags"), ({"tags": {"prod": "../x"}}, "tags"), ({"versions": "abc"}, "versions"),
    ({"kind": "virus"}, "kind"), ({"metadata": 7}, "metadata"), ({"name": "../m"}, "name"),
    ({"version_metadata": {"../x": "0" * 64}}, "version_metadata"), ({"version_metadata": ["x"]}, "version_metadata"),
])
def test_a_malformed_remote_ref_is_an_integrity_failure_naming_the_file(tmp_path, cli, monkeypatch, changes, field,
                                                                        remote_spec):
    a, remote = pushed(tmp_path, remote_spec)
    evil_ref(remote, **changes)
    b = clone(tmp_path, remote, remote_spec)
    monkeypatch.chdir(b)
    err = cli("fetch", code=3).stderr
    assert "remote ref m.json is unreadable" in err and field in err, err


@pytest.mark.parametrize("changes", [
    {"metrics": {"accuracy": "1; rm -rf /"}}, {"previous": "../../../etc/passwd"}, {"tags": "not a list"},
    {"authors": [{"name": "x"}]},
])
def test_a_remote_metadata_record_with_values_hpcfair_never_writes_is_not_taken(tmp_path, cli, monkeypatch,
                                                                                changes):
    """Metadata from a remote is untrusted input: a record (with a valid id) that breaks the schema's types is
    reported, and the local artifact's metadata stays as it was."""
    a, remote = pushed(tmp_path)
    b = clone(tmp_path, remote)
    api.fetch(repo=b)
    before = api.meta_show("m", repo=b, history=True).to_dict()
    evil = put_record(remote, {**MetadataRecord(name="m", kind="dataset").to_dict(), **changes})
    evil_ref(remote, metadata=evil)
    monkeypatch.chdir(b)
    err = cli("fetch", code=3).stderr
    assert evil[:12] in err or "corrupt" in err, err
    assert api.meta_show("m", repo=b, history=True).to_dict() == before


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


# --- a clone's committed config ----------------------------------------------------------------

LOCAL_ONLY = [("bearer_token_command", "touch {mark}", "runs a program"),
              ("keyfile", "{mark}", "names a file on this machine"),
              ("known_hosts", "{mark}", "names a file on this machine"),
              ("ssl_verify", "{mark}", "names a file on this machine"),
              ("cert_path", "{mark}", "names a file on this machine")]


@pytest.mark.parametrize("key, value, reason", LOCAL_ONLY)
def test_a_committed_config_cannot_run_a_program_or_name_a_local_file(tmp_path, cli, monkeypatch, key, value, reason):
    repo = new_repo(tmp_path / "b")
    mark = tmp_path / "PWNED"
    shared = repo / ".hpcfair" / "config.yaml"
    shared.write_text(f"core: {{remote: w}}\nremote:\n  w:\n    url: webdav://127.0.0.1:9/dav\n"
                      f"    {key}: '{value.format(mark=mark)}'\n")
    monkeypatch.chdir(repo)
    for command in (["fetch"], ["pull"], ["status"], ["remote", "list"]):
        err = cli(*command, code=1).stderr
        assert f"remote.w.{key} {reason}" in err and "config.local.yaml" in err, err
    assert not mark.exists()


def test_the_same_options_count_from_the_local_config(tmp_path, cli, monkeypatch, servers):
    """What a committed config may not say, the user's own config.local.yaml may: the command runs."""
    dav = servers.get("webdav")
    repo = new_repo(tmp_path / "b")
    mark = tmp_path / "token-asked"
    monkeypatch.chdir(repo)
    cli("remote", "add", "w", dav.remote_url, "-o", f"bearer_token_command=sh -c 'touch {mark}; echo t'",
        "--default")
    assert "bearer_token_command" not in (repo / ".hpcfair" / "config.yaml").read_text()
    assert "bearer_token_command" in (repo / ".hpcfair" / "config.local.yaml").read_text()
    cli("fetch", code=4)  # the server wants basic auth: the token is refused, but it was asked for
    assert mark.exists()


# --- secrets in remote URLs -------------------------------------------------------------------

def everything_printed(cli, *commands) -> str:
    out = []
    for command, code in commands:
        result = cli(*command, code=code)
        out += [result.stdout, result.stderr]
    return "\n".join(out)


@pytest.mark.parametrize("kind", ["ssh", "webdav"])
def test_a_password_in_a_remote_url_moves_to_the_local_config_and_never_shows(tmp_path, cli, monkeypatch, servers,
                                                                              kind):
    server = servers.get(kind)
    secret = "Url-Secret-7f3a"
    host = server.remote_url.split("://", 1)[1]
    user = server.user
    url = f"{kind}://{user}:{secret}@{host}/{tmp_path.name[-20:]}"
    options = [f"{k}={v}" for k, v in server.remote_options.items() if k not in ("user", "password")]
    if kind == "webdav":
        secret = server.password  # the server's real password, given in the URL only
        url = f"webdav://{user}:{secret}@{host}"
        (server.data / "store").mkdir(exist_ok=True)
    repo = new_repo(tmp_path / "a")
    write(repo / "m.bin", b"model bytes")
    monkeypatch.chdir(repo)
    cli("add", "m.bin")
    printed = everything_printed(
        cli, (["remote", "add", "origin", url, *sum((["-o", o] for o in options), []), "--default"], 0),
        (["remote", "list"], 0), (["remote", "list", "--json"], 0), (["push"], 0), (["push", "--json"], 0))
    assert secret not in printed
    assert secret not in (repo / ".hpcfair" / "config.yaml").read_text()
    assert secret in (repo / ".hpcfair" / "config.local.yaml").read_text()
    server.stop()  # an error names the remote and its URL, without the password
    try:
        printed = everything_printed(cli, (["push"], 4), (["fetch", "--json"], 4))
    finally:
        server.start()
    assert "cannot be reached" in printed and secret not in printed


@pytest.mark.servers  # needs the dvc-ssh plugin, which the minimum-versions run leaves out
def test_a_hand_written_password_in_a_local_url_and_a_key_path_are_redacted(tmp_path, cli, monkeypatch):
    repo = new_repo(tmp_path / "a")
    local = repo / ".hpcfair" / "config.local.yaml"
    local.write_text("remote:\n  s:\n    url: ssh://me:Hand-Secret@127.0.0.1:9/x\n"
                     "    keyfile: /nonexistent/Key-Path-Secret\n")
    monkeypatch.chdir(repo)
    printed = everything_printed(cli, (["remote", "list"], 0), (["remote", "list", "--json"], 0),
                                 (["fetch", "-r", "s"], 4), (["push", "-r", "s", "--json"], 4))
    assert "Hand-Secret" not in printed and "Key-Path-Secret" not in printed
    assert "key file named by its keyfile option cannot be read" in printed


# --- names git reads as patterns --------------------------------------------------------------

PATTERN_NAMES = ["data[1].csv", "trail.txt ", "two  ", "star*.bin", "q?.bin", "#hash.bin", "!bang.bin", "caf\u00e9.bin"]


def git_untracked(root: Path) -> set[str]:
    out = subprocess.run(["git", "status", "--porcelain", "-z", "--untracked-files=all"], cwd=root,
                         capture_output=True, check=True).stdout
    return {entry[3:].decode("utf-8", "surrogateescape") for entry in out.split(b"\0") if entry}


def test_gitignore_entries_are_escaped_so_git_ignores_exactly_the_data(make_repo, cli):
    root = make_repo(git=True)
    for name in PATTERN_NAMES:
        write(root / "d" / name, b"data " + name.encode())
    lookalikes = ["data1.csv", "trail.txt", "two", "starX.bin", "qX.bin"]  # what unescaped patterns would hide
    for name in lookalikes:
        write(root / "d" / name, b"not tracked by hpcfair")
    for name in PATTERN_NAMES:
        cli("add", f"d/{name}", "--name", f"n{PATTERN_NAMES.index(name)}")
    untracked = git_untracked(root)
    for name in PATTERN_NAMES:
        assert f"d/{name}" not in untracked, (name, untracked)
        assert f"d/{name}.hpcfair" in untracked
    for name in lookalikes:
        assert f"d/{name}" in untracked, (name, untracked)
    for index in range(len(PATTERN_NAMES)):
        cli("remove", f"n{index}")
    assert not (root / "d" / ".gitignore").exists()


def test_names_no_gitignore_line_can_hold_are_refused(make_repo, cli):
    root = make_repo(git=True)
    for name in ("back\\slash.bin", "new\nline.bin"):
        write(root / name, b"data")
        err = cli("add", name, code=1).stderr
        assert "has a name hpcfair cannot track" in err
    assert not (root / ".gitignore").exists()


# --- a local-folder remote's files: links, pipes, devices, lying sizes ---------------------------

def object_file(remote: Path, a: Path, name: str = "m") -> Path:
    """The remote's file for the head version of artifact *name* of repository *a*."""
    with Repo(a) as r:
        oid = r.records.get(r.refs.get(name).head, VersionRecord).oid
    return remote / "files" / "sha256" / oid[:2] / oid[2:]


def replace_with(path: Path, kind: str) -> None:
    path.chmod(0o644)
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    else:
        path.symlink_to(kind)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "/etc/hostname"])
def test_a_remote_object_that_is_a_pipe_or_a_link_is_refused_without_reading_it(tmp_path, cli, monkeypatch, kind):
    a, remote = pushed(tmp_path)
    replace_with(object_file(remote, a), kind)
    b = clone(tmp_path, remote)
    monkeypatch.chdir(b)
    result = cli("pull", "m", "--json", code=3)
    assert json.loads(result.stdout)["objects_corrupt"]
    assert stored_bytes(b) == 0 and not (b / "models" / "m.bin").exists()


def stored_bytes(repo: Path) -> int:
    return sum(p.stat().st_size for p in (repo / ".hpcfair" / "files").rglob("*") if p.is_file())


@pytest.mark.timeout(60)
@pytest.mark.parametrize("target", ["ref", "index", "record"])
@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_remote_refs_and_records_that_are_pipes_or_links_are_refused(tmp_path, cli, monkeypatch, target, kind):
    a, remote = pushed(tmp_path)
    ref = json.loads((remote / "refs" / "artifacts" / "m.json").read_text())
    path = {"ref": remote / "refs" / "artifacts" / "m.json", "index": remote / "refs" / "index.json",
            "record": remote / "records" / ref["versions"][0][:2] / ref["versions"][0][2:]}[target]
    replace_with(path, kind)
    b = clone(tmp_path, remote)
    monkeypatch.chdir(b)
    err = cli("fetch", code=3).stderr
    if target == "record":
        assert "corrupt" in err, err
        assert not (b / ".hpcfair" / "records" / ref["versions"][0][:2] / ref["versions"][0][2:]).exists()
    else:
        assert "is refused" in err and ("not a regular file" in err or "symbolic link" in err), err
        assert os.listdir(b / ".hpcfair" / "records") == []


@pytest.mark.parametrize("declared, message", [
    (10 ** 18, "bad object.size"),  # no real data is that large: the record is refused when read
    (5, "corrupt|declares 5 bytes"),  # smaller than the file: a local folder's is not read past that
    (1000, "its record declares 1000 bytes in 1 files, but the data the remote sent has 11 bytes"),
])
def test_a_version_record_that_lies_about_the_size_is_refused(tmp_path, cli, monkeypatch, declared, message,
                                                              remote_spec):
    a, remote = pushed(tmp_path, remote_spec)
    ref = json.loads((remote / "refs" / "artifacts" / "m.json").read_text())
    head = ref["versions"][-1]
    record = json.loads((remote / "records" / head[:2] / head[2:]).read_bytes())
    evil_id = put_record(remote, {**record, "object": {**record["object"], "size": declared}})
    evil_ref(remote, versions=[evil_id])
    b = clone(tmp_path, remote, remote_spec)
    monkeypatch.chdir(b)
    result = cli("pull", "m", code=3)
    assert re.search(message, result.stderr + result.stdout), (result.stdout, result.stderr)
    assert not (b / "models" / "m.bin").exists()


# --- model files --------------------------------------------------------------------------------

@pytest.mark.frameworks
def test_a_keras_file_with_python_code_is_refused_naming_trust_pickle(repo, cli, monkeypatch):
    pytest.importorskip("tf2onnx")
    from . import model_zoo

    model_zoo.save_keras_lambda(repo / "lam.keras")
    monkeypatch.setenv("HPCFAIR_AUTO_CONVERT", "1")
    result = cli("add", "lam.keras", "--json", code=1)
    conversion = json.loads(result.stdout)["items"][0]["conversion"]
    assert conversion["error"] == "UntrustedPickleError", conversion
    assert "holds Python code" in conversion["message"] and "--trust-pickle" in conversion["hint"]
    assert "safe_mode" not in result.stdout + result.stderr and "complete" not in conversion["hint"]
    trusted = cli.json("convert", "lam", "--trust-pickle")
    assert trusted["artifact"] == "lam.onnx" and trusted["parity"]["max_abs"] < 1e-4


def corrupt_boosters(folder: Path) -> dict[str, Path]:
    """XGBoost and LightGBM files whose C++ readers crash the process (seen: SIGSEGV, SIGABRT) or refuse."""
    from . import model_zoo

    xgb = model_zoo.save_xgboost("classifier", folder / "good.json")
    doc = json.loads(xgb.read_text())
    tree = doc["learner"]["gradient_booster"]["model"]["trees"][0]
    tree["left_children"] = [5000] * len(tree["left_children"])  # child indices out of range: SIGSEGV
    files = {"xgb_children": write(folder / "children.json", json.dumps(doc))}
    tree["left_children"] = tree["left_children"][:2]  # arrays of the wrong length: refused
    files["xgb_short"] = write(folder / "short.json", json.dumps(doc))
    text = model_zoo.save_lightgbm("classifier", folder / "good.txt").read_text()
    files["lgb_truncated"] = write(folder / "truncated.txt", text[: len(text) // 3])  # SIGSEGV
    files["lgb_leaves"] = write(folder / "leaves.txt", text.replace("num_leaves=", "num_leaves=x", 1))  # SIGABRT
    return files


@pytest.mark.frameworks
def test_corrupt_xgboost_and_lightgbm_files_are_clear_errors_not_a_crash(repo, cli, monkeypatch):
    pytest.importorskip("xgboost")
    pytest.importorskip("lightgbm")
    pytest.importorskip("onnxmltools")
    monkeypatch.setenv("HPCFAIR_AUTO_CONVERT", "1")
    files = corrupt_boosters(repo)
    for case, path in files.items():
        result = cli("add", path.name, "--json", code=1)  # hpcfair exits by itself: the reader ran in a child
        conversion = json.loads(result.stdout)["items"][0]["conversion"]
        assert conversion["error"] == "ModelLoadError" and path.name in conversion["message"], (case, conversion)
        assert "Traceback" not in result.stderr
    crashed = {case for case, path in files.items()
               if "crashed reading it" in cli.json("convert", path.stem, code=1)["message"]}
    assert crashed == {"xgb_children", "lgb_truncated", "lgb_leaves"}
    assert api_fsck_is_clean(repo)


def api_fsck_is_clean(repo: Path) -> bool:
    from hpcfair_vcs import api

    return api.fsck(repo=repo).exit_code == 0


def test_a_big_object_streamed_over_ssh_is_not_read_past_its_declared_size(tmp_path, cli, monkeypatch, servers):
    spec = RemoteSpec("ssh", servers.get("ssh"), tmp_path, unique=tmp_path.name[-30:].replace("_", "-"))
    a = new_repo(tmp_path / "a")
    write(a / "big.bin", os.urandom(17 << 20))  # streamed: BYPASS_FROM and more
    api.add(["big.bin"], repo=a)
    api.remote_add("origin", spec.url, dict(spec.options), repo=a, default=True)
    assert api.push(repo=a).exit_code == 0
    remote = spec.disk
    ref = json.loads((remote / "refs" / "artifacts" / "big.json").read_text())
    head = ref["versions"][-1]
    record = json.loads((remote / "records" / head[:2] / head[2:]).read_bytes())
    evil_id = put_record(remote, {**record, "object": {**record["object"], "size": 16 << 20}})
    (remote / "refs" / "artifacts" / "big.json").write_text(json.dumps({**ref, "versions": [evil_id]}))
    b = clone(tmp_path, remote, spec)
    monkeypatch.chdir(b)
    result = cli("pull", "big", "--json", code=3)
    assert json.loads(result.stdout)["objects_corrupt"] and stored_bytes(b) == 0


def test_a_stream_that_sends_more_than_declared_is_cut():
    import io

    from hpcfair_vcs.errors import RefusedFileError
    from hpcfair_vcs.remotes.stream import _AtMost

    bounded = _AtMost(io.BytesIO(b"x" * 100), 10, "remote:obj")
    assert bounded.read(6) == b"x" * 6
    with pytest.raises(RefusedFileError, match="more than the 10 bytes"):
        bounded.read(50)
    assert _AtMost(io.BytesIO(b"x" * 10), 10, "r").read(50) == b"x" * 10


# --- task configs: a committed file may not opt into running code -------------------------------

def test_a_task_config_file_cannot_turn_on_code_by_itself(repo, cli, tmp_path):
    mark = tmp_path / "PWNED"
    write(repo / "m.bin", b"model bytes")
    write(repo / "store.yaml", "general: {task: store}\ntask: {path: m.bin, trust_pickle: true}\n")
    write(repo / "popen.yaml", "general: {task: convert}\ntask:\n  artifact: m\n  model_class: subprocess:Popen\n"
                               f"  model_args: {{args: [touch, '{mark}']}}\n")
    write(repo / "types.yaml", "general: {task: store}\ntask: {path: m.bin, trust_types: [builtins.eval]}\n")
    for name, key in (("store.yaml", "trust_pickle"), ("popen.yaml", "model_class"), ("types.yaml", "trust_types")):
        err = cli("run", name, code=1).stderr
        assert f"task.{key}" in err and "cannot allow that by itself" in err and "--trust-pickle" in err, err
    assert not mark.exists() and not (repo / "m.bin.hpcfair").exists()
    assert cli.json("run", "store.yaml", "--trust-pickle")["items"][0]["artifact"] == "m"  # the user's own choice
    from hpcfair_vcs import HPCFair

    assert HPCFair().store({"task": {"path": "m.bin", "trust_pickle": True}}).items[0].artifact == "m"  # code's own


def save_onnx_with_external_data(path: Path, location: str) -> Path:
    """A tiny ONNX model whose weights, it says, are in the file *location*."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    weights = numpy_helper.from_array(np.zeros((4, 3), np.float32), "W")
    weights.ClearField("raw_data")
    weights.data_location = TensorProto.EXTERNAL
    for key, value in {"location": location, "offset": "0", "length": "48"}.items():
        entry = weights.external_data.add()
        entry.key, entry.value = key, value
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])], [weights])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    path.write_bytes(model.SerializeToString())
    return path


@pytest.mark.frameworks
@pytest.mark.parametrize("location", ["../../../../../etc/hostname", "/etc/hostname", "m.onnx"])
def test_an_onnx_file_naming_external_data_is_refused_without_reading_it(repo, cli, monkeypatch, location):
    pytest.importorskip("onnxruntime")
    import numpy as np

    save_onnx_with_external_data(repo / "m.onnx", location)
    np.save(repo / "x.npy", np.ones((2, 4), np.float32))
    monkeypatch.setenv("HPCFAIR_AUTO_CONVERT", "1")
    conversion = json.loads(cli("add", "m.onnx", "--json", code=1).stdout)["items"][0]["conversion"]
    assert conversion["error"] == "ModelLoadError" and "external data" in conversion["message"], conversion
    err = cli("infer", "m", "--input", "x.npy", code=1).stderr  # the stored file, run as it is
    assert "onnxruntime cannot load" in err and "unexpected" not in err, err


# --- git hooks: pointer files of pushed commits come from git, not from the work tree -------------

@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed (tests/run.sh installs it)")
def test_pre_push_reads_hostile_pointers_of_pushed_commits_without_acting_on_them(repo, cli, tmp_path):
    """A commit (a colleague's, a clone's) whose pointer files name escaping paths, other artifacts or garbage:
    pre-push pushes only artifacts this repository has, writes nothing outside, and lets git push."""
    from hpcfair_vcs.githooks.run import run

    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org"}
    sh = lambda *args: subprocess.run(args, cwd=repo, env=env, check=True, capture_output=True, text=True)  # noqa: E731
    sh("git", "init", "-q", "-b", "main")
    write(repo / "m.bin", b"real data")
    cli("add", "m.bin")
    cli("remote", "add", "store", os.fspath(tmp_path / "store"), "--default")
    write(repo / "evil.bin.hpcfair", "artifact: ../../../../tmp/escape\nkind: model\nversion: 1\npid: x\n"
                                     f"oid: {'0' * 64}\nsize: 1\nnfiles: 1\n")
    write(repo / "other.bin.hpcfair", "artifact: stranger\nkind: dataset\nversion: 1\n"
                                      f"pid: hpcfair:{'1' * 64}\noid: {'1' * 64}\nsize: 1\nnfiles: 1\n")
    write(repo / "junk.hpcfair", "!!python/object/apply:os.system [touch PWNED]\n")
    sh("git", "add", "-f", "m.bin.hpcfair", "evil.bin.hpcfair", "other.bin.hpcfair", "junk.hpcfair")
    sh("git", "commit", "-q", "-m", "hostile pointers")
    head = sh("git", "rev-parse", "HEAD").stdout.strip()
    result = run("pre-push", ("origin", "url"), repo=repo, stdin=f"refs/heads/main {head} refs/heads/main {'0' * 40}\n",
                 say=lambda line: None)
    assert result.pushed == 1  # m's object only: 'stranger' is not ours, the others do not parse
    assert not (repo / "PWNED").exists() and not Path("/tmp/escape").exists()
    assert sorted(p.name for p in (tmp_path / "store" / "refs" / "artifacts").iterdir()) == ["m.json"]
    assert api.fsck(repo=repo).exit_code == 0


def _git_env() -> dict[str, str]:
    return {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.org"}


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed (tests/run.sh installs it)")
def test_post_checkout_of_a_hostile_branch_writes_nothing_outside(repo, cli, tmp_path):
    """A branch (a colleague's, a clone's) whose pointer files stand beside a link leading out, escape, or carry
    a YAML tag: switching to it with the hooks installed writes nothing outside and runs nothing; git goes on."""
    sh = lambda *args: subprocess.run(args, cwd=repo, env=_git_env(), check=True, capture_output=True, text=True)  # noqa: E731
    outside = write(tmp_path / "outside.txt", "not the repository's\n")
    sh("git", "init", "-q", "-b", "main")
    write(repo / "m.bin", b"real data")
    cli("add", "m.bin")
    cli("hooks", "install")
    sh("git", "add", "-A")
    sh("git", "commit", "-q", "-m", "main")
    sh("git", "checkout", "-q", "-b", "evil")
    pointer = (repo / "m.bin.hpcfair").read_text()
    os.symlink(outside, repo / "out.bin")  # committed as a link, its pointer naming stored content
    write(repo / "out.bin.hpcfair", pointer)
    write(repo / "evil.bin.hpcfair", "artifact: ../../../../tmp/escape\nkind: model\nversion: 1\npid: x\n"
                                     f"oid: {'0' * 64}\nsize: 1\nnfiles: 1\n")
    write(repo / "junk.hpcfair", "!!python/object/apply:os.system [touch PWNED]\n")
    sh("git", "add", "-f", "out.bin", "out.bin.hpcfair", "evil.bin.hpcfair", "junk.hpcfair")
    sh("git", "commit", "-q", "--no-verify", "-m", "hostile")  # made elsewhere, without our hooks
    sh("git", "checkout", "-q", "main")
    switched = sh("git", "checkout", "-q", "evil")  # the hook runs; git's checkout succeeds
    assert "out.bin was not checked out" in switched.stderr
    assert outside.read_text() == "not the repository's\n" and (repo / "out.bin").is_symlink()
    assert not (repo / "PWNED").exists() and not Path("/tmp/escape").exists()
    assert api.fsck(repo=repo).exit_code == 0


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed (tests/run.sh installs it)")
@pytest.mark.parametrize("attack", ["link", "tag"])
def test_a_hostile_params_file_stops_the_commit_and_is_not_read(repo, cli, tmp_path, attack):
    """A committed params file (hyper-parameters for hook-made conversions) that is a link to a secret or
    carries a YAML tag: refused before anything reads or runs it; nothing is recorded."""
    sh = lambda *args, **kw: subprocess.run(args, cwd=repo, env=_git_env(), capture_output=True, text=True, **kw)  # noqa: E731
    secret = write(tmp_path / "secret.yaml", "token: s3cr3t-value\n")
    sh("git", "init", "-q", "-b", "main", check=True)
    write(repo / "m.bin", b"weights")
    cli("add", "m.bin", "--kind", "model", "--no-convert")
    if attack == "link":
        os.symlink(secret, repo / "m.bin.params.yaml")
    else:
        write(repo / "m.bin.params.yaml", "lr: !!python/object/apply:os.system [touch PWNED]\n")
    cli("hooks", "install")
    sh("git", "add", "-A", check=True)
    done = sh("git", "commit", "-q", "-m", "hostile params")
    assert done.returncode == 1 and "reading the hyper-parameters of m@1 failed" in done.stderr
    assert ("symbolic link" if attack == "link" else "not valid YAML") in done.stderr
    assert "s3cr3t" not in done.stderr + done.stdout and not (repo / "PWNED").exists()
    assert [p.name for p in (repo / ".hpcfair" / "refs" / "artifacts").iterdir()] == ["m.json"]  # no ONNX form
    assert sh("git", "rev-parse", "--verify", "-q", "HEAD").returncode != 0  # nothing committed


def test_a_params_file_in_a_folder_linked_outside_is_not_read(tmp_path):
    from hpcfair_vcs.errors import ConfigError
    from hpcfair_vcs.githooks.params import hyperparameters

    root, elsewhere = tmp_path / "repo", tmp_path / "elsewhere"
    write(elsewhere / "m.bin.params.yaml", "token: s3cr3t-value\n")
    root.mkdir()
    os.symlink(elsewhere, root / "models")
    with pytest.raises(ConfigError, match="outside the repository") as refused:
        hyperparameters(root, root / "models" / "m.bin")
    assert "s3cr3t" not in str(refused.value)
    write(root / "models2" / "m.bin.params.yaml", "lr: 0.1\nwhen: 2026-01-02\nbad: .nan\n")
    assert hyperparameters(root, root / "models2" / "m.bin") == {"lr": 0.1, "when": "2026-01-02", "bad": "nan"}


def test_a_git_file_that_git_does_not_confirm_does_not_lend_another_store(tmp_path):
    """A `.git` file (from an archive, say) naming the git dir of some other repository's worktree: without
    git's own record pointing back at it, the repository here keeps a store of its own."""
    from hpcfair_vcs.worktree.linked import main_control

    victim = tmp_path / "victim"
    Repo.init(victim)
    (victim / ".git" / "worktrees" / "w").mkdir(parents=True)
    write(victim / ".git" / "worktrees" / "w" / "commondir", "../..\n")
    write(victim / ".git" / "worktrees" / "w" / "gitdir", f"{tmp_path / 'real worktree' / '.git'}\n")
    here = tmp_path / "here"
    write(here / ".git", f"gitdir: {victim / '.git' / 'worktrees' / 'w'}\n")
    Repo.init(here)
    assert main_control(here) is None
    assert (here / ".hpcfair" / "files").is_dir() and Repo(here).shared == here / ".hpcfair"
    write(victim / ".git" / "worktrees" / "w" / "gitdir", f"{here / '.git'}\n")  # what `git worktree add` writes
    shutil.rmtree(here / ".hpcfair" / "files")
    assert main_control(here) == victim / ".hpcfair"
