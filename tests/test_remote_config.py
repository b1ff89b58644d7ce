"""Remote configuration, host keys, missing buckets/collections, read-only remotes, import-dvc."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from hpcfair_vcs import api
from hpcfair_vcs.errors import ConfigError, RemoteError, RemoteExistsError, RemoteNotFoundError
from hpcfair_vcs.repo import Repo

from .conftest import write
from .remote_fixtures import servers  # noqa: F401 - fixture


def test_add_modify_default_remove(repo):
    result = api.remote_add("origin", "ssh://user@example.org/srv/data",
                            {"port": "2222", "password": "hunter2"})
    listed = result.remotes[0]
    assert listed["password"] == "***" and listed["port"] == 2222 and listed["default"] is False
    shared = (repo / ".hpcfair" / "config.yaml").read_text()
    assert "hunter2" not in shared and "example.org" in shared
    assert "hunter2" in (repo / ".hpcfair" / "config.local.yaml").read_text()
    with pytest.raises(RemoteExistsError):
        api.remote_add("origin", "/tmp/x")
    api.remote_add("backup", "backup-dir", local=True)
    assert "backup" not in (repo / ".hpcfair" / "config.yaml").read_text()
    assert {r["url"] for r in api.remote_list().remotes} == {"ssh://user@example.org/srv/data",
                                                            str(repo / "backup-dir")}
    api.remote_default("backup")
    assert [r["name"] for r in api.remote_list().remotes if r["default"]] == ["backup"]
    api.remote_modify("origin", {"port": "22"}, unset=["password"])
    origin = [r for r in api.remote_list().remotes if r["name"] == "origin"][0]
    assert origin["port"] == 22 and "password" not in origin
    api.remote_remove("backup")
    assert [r["name"] for r in api.remote_list().remotes] == ["origin"]
    with pytest.raises(RemoteNotFoundError):
        api.remote_remove("backup")


def test_dvc_schema_rejects_unknown_options_and_bad_values(repo):
    with pytest.raises(ConfigError, match="extra keys not allowed"):
        api.remote_add("x", "s3://bucket/path", {"colour": "blue"})
    with pytest.raises(ConfigError):
        api.remote_add("x", "ssh://host/path", {"port": "not-a-port"})
    assert api.remote_list().remotes == []


def test_missing_plugin_names_the_pip_line(repo, monkeypatch):
    api.remote_add("g", "gs://bucket/path")
    with pytest.raises(Exception) as err:
        api.push(remote="g")
    assert err.value.exit_code == 4 and "pip install" in err.value.hint


def test_no_remote_configured(repo):
    with pytest.raises(RemoteNotFoundError, match="no remote is configured"):
        api.push()


def test_import_dvc(repo):
    dvc = [sys.executable, "-m", "dvc"]
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run([*dvc, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*dvc, "remote", "add", "-d", "store", "s3://bucket/prefix"], cwd=repo, check=True)
    subprocess.run([*dvc, "remote", "modify", "--local", "store", "secret_access_key", "s3cret"], cwd=repo,
                   check=True)
    subprocess.run([*dvc, "remote", "add", "nas", "/mnt/nas/dvc"], cwd=repo, check=True)
    remotes = {r["name"]: r for r in api.remote_import_dvc().remotes}
    assert remotes["store"]["default"] and remotes["store"]["secret_access_key"] == "***"
    assert remotes["nas"]["url"] == "/mnt/nas/dvc"
    assert "s3cret" in (repo / ".hpcfair" / "config.local.yaml").read_text()
    assert "s3cret" not in (repo / ".hpcfair" / "config.yaml").read_text()


def test_import_dvc_without_dvc_config(repo):
    with pytest.raises(ConfigError, match="no DVC configuration"):
        api.remote_import_dvc()


def test_ssh_unknown_host_key_is_refused_until_accepted(repo, servers, tmp_path):
    server = servers.get("ssh")
    known = tmp_path / "known_hosts_empty"
    known.write_text("")
    options = {**server.remote_options, "known_hosts": str(known)}
    api.remote_add("origin", server.remote_url + "/hostkeys", options, default=True)
    write(repo / "m.pt", b"x")
    api.add(["m.pt"])
    with pytest.raises(RemoteError) as err:
        api.push()
    assert "host key" in err.value.message and "--accept-new-host" in err.value.hint
    assert api.push(accept_new_host=True).objects_transferred == 1
    assert f"[127.0.0.1]:{server.port} ssh-ed25519" in known.read_text()
    assert api.push().objects_skipped == 1  # trusted from now on


@pytest.mark.parametrize("kind", ["webdav", "s3"])
def test_missing_collection_or_bucket(repo, servers, kind):
    server = servers.get(kind)
    url = {"webdav": server.remote_url.replace("/dav/store", "/dav/no-such-collection"),
           "s3": "s3://no-such-bucket/x"}[kind]
    api.remote_add("origin", url, server.remote_options, default=True)
    write(repo / "m.pt", b"x")
    api.add(["m.pt"])
    with pytest.raises(RemoteError, match="does not exist") as err:
        api.push()
    assert err.value.exit_code == 4 and "create" in err.value.hint


def test_http_remote_is_read_only_but_pulls(tmp_path, servers, monkeypatch):
    """nginx serves the WebDAV folder over plain HTTP GET too: push refuses, pull works."""
    server = servers.get("webdav")
    a = tmp_path / "a"
    a.mkdir()
    Repo.init(a).close()
    write(a / "m.pt", b"served over http")
    api.add(["m.pt"], repo=a)
    api.remote_add("dav", server.remote_url + "/http", server.remote_options, repo=a, default=True)
    (server.data / "store" / "http").mkdir(parents=True, exist_ok=True)
    api.push(repo=a)
    b = tmp_path / "b"
    b.mkdir()
    Repo.init(b).close()
    http_url = server.remote_url.replace("webdav://", "http://") + "/http"
    api.remote_add("web", http_url, {"auth": "basic", **server.remote_options}, repo=b, default=True)
    with pytest.raises(RemoteError, match="read-only"):
        api.push(repo=b)
    assert api.pull([api.show("m", repo=a).pid], repo=b).exit_code == 0
    assert (b / "m.pt").read_bytes() == b"served over http"


def test_cli_push_pull_json_and_exit_codes(repo, cli, tmp_path):
    write(repo / "m.pt", b"cli")
    cli("add", "m.pt")
    cli("remote", "add", "origin", str(tmp_path / "remote"), "--default")
    out = cli.json("push")
    assert out["objects_transferred"] == 1 and out["refs_updated"] == ["m"]
    assert "pushed 0 objects" in cli("push").stdout
    os.unlink(repo / "m.pt")
    assert cli.json("pull")["checkout"][0]["action"] == "restored"
    assert cli.json("fetch")["remote"] == "origin"
    bad = cli("push", "-r", "nope", code=1)
    assert "no remote named 'nope'" in bad.stderr
    assert json.loads(cli("remote", "list", "--json").stdout)["remotes"][0]["name"] == "origin"
    cli("remote", "add", "x", "s3://b/p", "-o", "nokey", code=2)
