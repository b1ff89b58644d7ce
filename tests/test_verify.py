"""hpcfair verify: what a CI job runs before it trusts a repository."""

from __future__ import annotations

import json
import os

import pytest

from hpcfair_vcs import api
from hpcfair_vcs.repo import Repo

from . import model_zoo
from .conftest import make_dataset, write
from .remote_fixtures import clone_pointers, new_repo


def test_a_sound_repository_verifies_and_says_what_it_checked(repo, cli):
    make_dataset(repo / "data", files=3)
    cli("add", "data")
    out = cli.json("verify")
    assert out["problems"] == [] and out["pointers"] == 1 and out["objects"] == 4 and out["models"] == 0
    assert "verified 4 objects, 1 pointers, 0 models: ok" in cli("verify").stdout


def test_a_corrupt_object_a_corrupt_pointer_and_missing_data_are_exit_3_each_named(repo, cli):
    write(repo / "a.bin", b"alpha")
    write(repo / "b.bin", b"beta")
    write(repo / "c.bin", b"gamma")
    cli("add", "a.bin", "b.bin", "c.bin")
    with Repo(repo) as r:
        path = r.store.path(api.show("a", repo=repo).oid)
        os.chmod(path, 0o644)
        path.write_bytes(b"rotten")
        os.remove(r.store.path(api.show("b", repo=repo).oid))
    (repo / "c.bin.hpcfair").write_text("artifact: c\nnot: [a pointer\n")
    result = cli("verify", "--json", code=3)
    problems = {p["check"]: p for p in json.loads(result.stdout)["problems"]}
    assert set(problems) == {"store", "data", "pointer"}, problems
    assert problems["data"]["subject"] == "b.bin.hpcfair" and "hpcfair pull" in problems["data"]["hint"]
    assert problems["pointer"]["subject"] == "c.bin.hpcfair"
    text = cli("verify", code=3)
    assert "data: b.bin.hpcfair: b v1: its data is not stored here" in text.stderr


def test_data_only_a_remote_holds_counts_with_remote(tmp_path, cli, monkeypatch):
    a = new_repo(tmp_path / "a")
    write(a / "m.bin", b"pushed bytes")
    api.add(["m.bin"], repo=a)
    api.remote_add("origin", os.fspath(tmp_path / "store"), repo=a, default=True)
    api.push(repo=a)
    b = new_repo(tmp_path / "b")
    clone_pointers(a, b)
    api.remote_add("origin", os.fspath(tmp_path / "store"), repo=b, default=True)
    api.fetch(repo=b)  # records, not the bytes: a CI clone that does not pull
    monkeypatch.chdir(b)
    assert cli.json("verify", code=3)["problems"][0]["check"] == "data"
    out = cli.json("verify", "--remote", "origin")
    assert out["problems"] == [] and out["on_remote"] == ["m.bin.hpcfair"]
    assert cli.json("verify", "--remote", "nosuch", code=1)["error"] == "RemoteNotFoundError"


@pytest.mark.frameworks
def test_every_model_needs_an_onnx_form_within_the_tolerance(repo, cli, monkeypatch):
    pytest.importorskip("skl2onnx")
    model_zoo.save_skops(model_zoo.pipeline(), repo / "pipe.skops")
    cli("add", "pipe.skops", "--no-convert")
    problem = cli.json("verify", code=3)["problems"][0]
    assert problem["check"] == "onnx" and problem["hint"] == "hpcfair convert pipe@1"
    cli("convert", "pipe")
    assert cli.json("verify")["models"] == 1
    (repo / ".hpcfair" / "config.local.yaml").write_text("convert:\n  tolerance: 1.0e-12\n")  # stricter than recorded
    problem = cli.json("verify", code=3)["problems"][0]
    assert problem["check"] == "parity" and "pipe.onnx" in problem["message"]
