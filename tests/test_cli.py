"""The CLI contract: --help with examples, --json, exit codes, one-line errors without tracebacks."""

from __future__ import annotations

import json

import pytest

from hpcfair_vcs.cli import main

from .conftest import make_dataset, run_hpcfair, write

COMMANDS = ["init", "add", "status", "log", "show", "checkout", "tag", "remove", "gc", "fsck", "search",
            "push", "pull", "fetch", "remote", "remote add", "remote modify", "remote list",
            "remote remove", "remote default", "remote import-dvc"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(cli, command):
    out = cli(*command.split(), "--help").stdout
    assert "Example" in out and "Usage: " in out


def test_version(cli):
    assert cli("--version").stdout.strip() == "hpcfair 0.1.0"


def test_full_round_trip_with_json(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.json("init")["root"] == str(tmp_path)
    write(tmp_path / "models" / "enc.pt", b"weights")
    make_dataset(tmp_path / "data" / "digits")
    added = cli.json("add", "models/enc.pt", "data/digits", "--tag", "mnist")
    assert [i["artifact"] for i in added["items"]] == ["enc", "digits"]
    assert all(i["tags"] == ["mnist"] for i in added["items"])
    status = cli.json("status")
    assert {e["state"] for e in status["entries"]} == {"in sync"}
    shown = cli.json("show", "enc@mnist")
    assert shown["pid"] == added["items"][0]["pid"]
    assert cli.json("log", "enc")["versions"][0]["number"] == 1
    assert cli.json("tag", "enc", "prod")["tag"] == "prod"
    assert cli.json("checkout", "enc")["items"][0]["action"] == "unchanged"
    assert cli.json("fsck")["problems"] == []
    assert cli.json("gc")["removed_objects"] == 0
    assert cli.json("remove", "digits")["artifact"] == "digits"
    human = cli("status").stdout
    assert "in sync" in human and "models/enc.pt" in human


@pytest.mark.parametrize("args, code, words", [
    (["show", "nope"], 1, "no artifact"),
    (["add", "missing.bin"], 1, "does not exist"),
    (["add", "/etc/hostname"], 1, "outside the repository"),
    (["add", "a.pt", "--kind", "banana"], 2, "banana"),
    (["frobnicate"], 2, "No such command"),
    (["checkout", "nope"], 1, "nope"),
])
def test_errors_are_one_line_with_hint_and_documented_code(cli, repo, args, code, words):
    write(repo / "a.pt", b"a")
    result = cli(*args, code=code)
    assert words in result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("hpcfair: error:")]
    assert len(error_lines) == 1
    assert "Traceback" not in result.output


def test_error_with_json_prints_a_json_object(cli, repo):
    result = cli("show", "nope", "--json", code=1)
    payload = json.loads(result.stdout)
    assert payload["error"] == "ArtifactNotFoundError" and payload["exit_code"] == 1 and payload["hint"]


def test_outside_a_repository(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("status", code=1)
    assert "hpcfair init" in result.stderr


def test_unknown_format_is_exit_4(cli, repo):
    (repo / ".hpcfair" / "FORMAT").write_text("99\n")
    result = cli("status", code=4)
    assert "format '99'" in result.stderr and "upgrade" in result.stderr


def test_bad_config_names_file_and_key(cli, repo):
    (repo / ".hpcfair" / "config.yaml").write_text("core:\n  link_typo: [copy]\n")
    result = cli("status", code=1)
    assert "config.yaml" in result.stderr and "core.link_typo" in result.stderr
    (repo / ".hpcfair" / "config.yaml").write_text("core: [\n")
    assert "line" in cli("status", code=1).stderr


def test_corrupt_pointer_status_exits_3(cli, repo):
    write(repo / "a.pt", b"a")
    cli("add", "a.pt")
    write(repo / "a.pt.hpcfair", "artifact: 5\n")
    result = cli("status", code=3)
    assert "corrupt pointer" in result.stdout


def test_fsck_exit_3_on_corruption(cli, repo):
    write(repo / "a.pt", b"a")
    oid = cli.json("add", "a.pt")["items"][0]["oid"]
    import os
    obj = repo / ".hpcfair" / "files" / "sha256" / oid[:2] / oid[2:]
    os.chmod(obj, 0o644)
    obj.write_bytes(b"bad")
    result = cli("fsck", code=3)
    assert "corrupt" in result.stderr


def test_directory_option(cli, repo, tmp_path, monkeypatch):
    write(repo / "a.pt", b"a")
    cli("add", "a.pt")
    monkeypatch.chdir(tmp_path)
    assert "a.pt" in cli("-C", str(repo), "status").stdout


def test_unexpected_error_is_one_line_and_debug_shows_traceback(repo, monkeypatch):
    import hpcfair_vcs.api

    def boom(**_):
        raise RuntimeError("kaput")

    monkeypatch.setattr(hpcfair_vcs.api, "status", boom, raising=False)
    from .conftest import Cli

    result = Cli().runner.invoke(main, ["status"])
    assert result.exit_code == 1 and "unexpected RuntimeError: kaput" in result.stderr
    assert "HPCFAIR_DEBUG=1" in result.stderr and "Traceback" not in result.stderr
    monkeypatch.setenv("HPCFAIR_DEBUG", "1")
    result = Cli().runner.invoke(main, ["status"])
    assert isinstance(result.exception, RuntimeError)


def test_real_console_command(repo):
    write(repo / "a.pt", b"a")
    proc = run_hpcfair("add", "a.pt", cwd=repo)
    assert "added a.pt as a v1" in proc.stdout
    proc = run_hpcfair("show", "zzz", cwd=repo, check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_a_json_error_names_what_it_is_about(repo, cli):
    """Scripts reading --json learn which artifact, remote or path failed, not only a message."""
    error = json.loads(cli("show", "nosuch", "--json", code=1).stdout)
    assert error["error"] == "ArtifactNotFoundError" and error["name"] == "nosuch"
    error = json.loads(cli("fetch", "-r", "nosuch", "--json", code=1).stdout)
    assert error["error"] == "RemoteNotFoundError" and error["remote"] == "nosuch"
    error = json.loads(cli("add", "../elsewhere.bin", "--json", code=1).stdout)
    assert error["error"] == "PathOutsideRepoError" and error["path"] == "../elsewhere.bin"


@pytest.mark.servers  # needs the dvc-webdav plugin, which the minimum-versions run leaves out
def test_a_json_error_names_the_remote_that_failed_without_its_secrets(repo, cli):
    cli("remote", "add", "w", "webdav://me:Secret-9@127.0.0.1:9/dav")
    error = json.loads(cli("fetch", "-r", "w", "--json", code=4).stdout)
    assert error["error"] == "RemoteError" and error["remote"] == "w"
    assert "Secret-9" not in json.dumps(error)


def test_error_fields_are_the_known_ones():
    from hpcfair_vcs.errors import FIELDS, HpcfairError

    assert HpcfairError("m", oid="abc").to_dict()["oid"] == "abc" and "oid" in FIELDS
    with pytest.raises(TypeError, match="unknown error fields"):
        HpcfairError("m", password="x")
