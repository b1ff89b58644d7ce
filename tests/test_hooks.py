"""Git hooks with real git: install/uninstall (chaining), pre-commit, pre-push, post-checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from hpcfair_vcs import api
from hpcfair_vcs.githooks.install import HOOKS, shim

from . import model_zoo
from .conftest import write

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed (tests/run.sh installs it)")
ROOT = Path(__file__).resolve().parents[1]


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org"}
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env)
    if check:
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done


@pytest.fixture
def gitrepo(tmp_path, monkeypatch, cli):
    """A git work tree whose path has a space, an hpcfair repository in it, the hooks installed."""
    root = tmp_path / "my project"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    monkeypatch.chdir(root)
    cli("init")
    return root


def test_the_shims_in_hooks_are_the_ones_install_writes():
    for name in HOOKS:
        assert (ROOT / "hooks" / name).read_text() == shim(name, ".", ""), name  # hpcfair from PATH


def test_install_chains_a_hook_that_was_there_and_uninstall_puts_it_back(gitrepo, cli):
    old = write(gitrepo / ".git" / "hooks" / "pre-commit", "#!/bin/sh\necho earlier hook ran >&2\nexit 0\n")
    old.chmod(0o755)
    states = {h["name"]: h for h in cli.json("hooks", "install")["hooks"]}
    assert all(h["installed"] for h in states.values()) and states["pre-commit"]["chained"]
    assert "earlier hook ran" in git(gitrepo, "commit", "-q", "--allow-empty", "-m", "x").stderr
    other = write(gitrepo / ".git" / "hooks" / "pre-push", "#!/bin/sh\nexit 0\n")  # another tool's, installed later
    assert cli.json("hooks", "status")["hooks"][1]["other"]
    assert cli.json("hooks", "install")["hooks"][1]["chained"]  # chained in its turn
    write(gitrepo / ".git" / "hooks" / "pre-push", "#!/bin/sh\nexit 0\n")  # and again, over hpcfair's shim
    assert "taken already" in cli("hooks", "install", code=2).stderr  # a chained hook is never lost
    cli("hooks", "install", "--force")
    cli("hooks", "uninstall")
    assert old.read_text() == "#!/bin/sh\necho earlier hook ran >&2\nexit 0\n"
    assert other.read_text() == "#!/bin/sh\nexit 0\n"
    assert not any(p.name.endswith(".hpcfair-chained") for p in (gitrepo / ".git" / "hooks").iterdir())


def test_core_hookspath_and_a_repository_in_a_subfolder(tmp_path, monkeypatch, cli):
    top = tmp_path / "top"
    (top / "sub dir").mkdir(parents=True)
    git(top, "init", "-q", "-b", "main")
    git(top, "config", "core.hooksPath", "my hooks")
    monkeypatch.chdir(top / "sub dir")
    cli("init")
    out = cli.json("hooks", "install")
    assert out["hooks_dir"] == os.fspath(top / "my hooks")
    assert (top / "my hooks" / "pre-commit").exists() and not (top / ".git" / "hooks" / "pre-commit").exists()
    write(top / "sub dir" / "d.bin", b"data")
    cli("add", "d.bin")
    git(top, "add", "-A")
    git(top, "commit", "-q", "-m", "from the top")  # the hook finds the repository below the top
    assert git(top, "log", "--oneline").stdout.count("\n") == 1


@pytest.mark.frameworks
def test_pre_commit_records_converts_and_stages_a_changed_model(gitrepo, cli, monkeypatch):
    pytest.importorskip("skl2onnx")
    (gitrepo / "models").mkdir()
    model_zoo.save_skops(model_zoo.pipeline(), gitrepo / "models" / "clf.skops")
    cli("add", "models/clf.skops", "--no-convert")
    cli("hooks", "install")
    git(gitrepo, "add", "-A")
    done = git(gitrepo, "commit", "-q", "-m", "first")
    assert "clf@1 -> clf.onnx v1" in done.stderr and api.show("clf.onnx").provenance.runtime.python
    model_zoo.save_skops(model_zoo.forest(), gitrepo / "models" / "clf.skops")  # retrained
    write(gitrepo / "notes.md", "retrained\n")
    git(gitrepo, "add", "notes.md")
    monkeypatch.chdir(gitrepo / "models")  # from a subfolder
    done = git(gitrepo / "models", "commit", "-q", "-m", "second")
    assert "clf v2" in done.stderr and "clf@2 -> clf.onnx v2" in done.stderr
    committed = git(gitrepo, "show", "HEAD:models/clf.skops.hpcfair").stdout
    assert "version: 2" in committed and git(gitrepo, "status", "--porcelain").stdout == ""


def committed_model(gitrepo: Path, cli) -> None:
    """A converted scikit-learn model clf.skops, committed with the hooks installed."""
    pytest.importorskip("skl2onnx")
    model_zoo.save_skops(model_zoo.pipeline(), gitrepo / "clf.skops")
    cli("add", "clf.skops")
    cli("hooks", "install")
    git(gitrepo, "add", "-A")
    git(gitrepo, "commit", "-q", "-m", "first")


@pytest.mark.frameworks
def test_a_commit_whose_only_change_is_a_model_asks_for_the_commit_again(gitrepo, cli):
    committed_model(gitrepo, cli)
    model_zoo.save_skops(model_zoo.forest(), gitrepo / "clf.skops")
    again = git(gitrepo, "commit", "-q", "-a", "-m", "retrained", check=False)
    assert again.returncode == 1 and "run the same git commit again" in again.stderr
    git(gitrepo, "commit", "-q", "-a", "-m", "retrained")
    assert "version: 2" in git(gitrepo, "show", "HEAD:clf.skops.hpcfair").stdout


@pytest.mark.frameworks
def test_a_failed_conversion_stops_the_commit_and_leaves_index_and_pointers_as_they_were(gitrepo, cli):
    committed_model(gitrepo, cli)
    pointer = (gitrepo / "clf.skops.hpcfair").read_text()
    write(gitrepo / "clf.skops", b"PK\x03\x04 not a whole skops file")
    write(gitrepo / "notes.md", "broken model\n")
    git(gitrepo, "add", "notes.md")
    index = git(gitrepo, "diff", "--cached", "--name-only").stdout
    refused = git(gitrepo, "commit", "-q", "-m", "broken", check=False)
    assert refused.returncode == 1 and "converting clf@2 to ONNX failed" in refused.stderr
    assert "--no-verify" in refused.stderr and "on_failure" in refused.stderr
    assert (gitrepo / "clf.skops.hpcfair").read_text() == pointer
    assert git(gitrepo, "diff", "--cached", "--name-only").stdout == index
    write(gitrepo / ".hpcfair" / "config.local.yaml", "hooks:\n  on_failure: warn\n")
    warned = git(gitrepo, "commit", "-q", "-m", "broken, warned")
    assert "warning: converting clf@2" in warned.stderr
    assert "version: 2" in git(gitrepo, "show", "HEAD:clf.skops.hpcfair").stdout


def test_post_checkout_places_the_data_of_the_branch_and_is_quiet_otherwise(gitrepo, cli):
    write(gitrepo / "data.bin", b"version one")
    cli("add", "data.bin")
    cli("hooks", "install")
    git(gitrepo, "add", "-A")
    git(gitrepo, "commit", "-q", "-m", "one")
    git(gitrepo, "checkout", "-q", "-b", "two")
    write(gitrepo / "data.bin", b"version two")
    cli("add", "data.bin")
    git(gitrepo, "commit", "-q", "-am", "two")
    switched = git(gitrepo, "checkout", "-q", "main")
    assert (gitrepo / "data.bin").read_bytes() == b"version one" and "checked out 1 artifact" in switched.stderr
    assert git(gitrepo, "checkout", "-q", "two").stderr.count("hpcfair") == 1
    assert (gitrepo / "data.bin").read_bytes() == b"version two"
    assert "hpcfair" not in git(gitrepo, "checkout", "-q", "-b", "three").stderr  # nothing changed: silent
    git(gitrepo, "checkout", "-q", "main")
    merged = git(gitrepo, "merge", "-q", "two")  # post-merge, as post-checkout
    assert (gitrepo / "data.bin").read_bytes() == b"version two" and "checked out 1 artifact" in merged.stderr
    git(gitrepo, "reset", "-q", "--hard", "HEAD~1")
    write(gitrepo / "data.bin", b"unsaved work")
    kept = git(gitrepo, "checkout", "-q", "two")
    assert (gitrepo / "data.bin").read_bytes() == b"unsaved work" and "was not checked out" in kept.stderr


def test_pre_push_pushes_the_artifacts_of_the_pushed_commits(gitrepo, cli, tmp_path):
    git(tmp_path, "init", "-q", "--bare", "origin.git")
    git(gitrepo, "remote", "add", "origin", os.fspath(tmp_path / "origin.git"))
    write(gitrepo / "data.bin", b"shared bytes")
    cli("add", "data.bin")
    cli("hooks", "install")
    git(gitrepo, "add", "-A")
    git(gitrepo, "commit", "-q", "-m", "one")
    no_remote = git(gitrepo, "push", "-q", "origin", "main")
    assert "no hpcfair remote is configured" in no_remote.stderr
    cli("remote", "add", "store", os.fspath(tmp_path / "store"), "--default")
    git(gitrepo, "commit", "-q", "-am", "remote")
    pushed = git(gitrepo, "push", "-q", "origin", "main")
    assert "pushed 1 objects of 1 artifact(s) to store" in pushed.stderr
    oid = api.show("data").oid
    assert (tmp_path / "store" / "files" / "sha256" / oid[:2] / oid[2:]).exists()


def test_pre_push_can_require_a_remote(gitrepo, cli, tmp_path):
    git(tmp_path, "init", "-q", "--bare", "origin.git")
    git(gitrepo, "remote", "add", "origin", os.fspath(tmp_path / "origin.git"))
    write(gitrepo / ".hpcfair" / "config.local.yaml", "hooks:\n  require_remote: true\n")
    cli("hooks", "install")
    git(gitrepo, "commit", "-q", "--allow-empty", "-m", "one")
    refused = git(gitrepo, "push", "-q", "origin", "main", check=False)
    assert refused.returncode != 0 and "no hpcfair remote is configured" in refused.stderr


@pytest.mark.frameworks
def test_the_pre_commit_framework_runs_the_hooks_this_project_ships(gitrepo, cli, tmp_path, monkeypatch):
    """The real `pre-commit` tool, with .pre-commit-hooks.yaml and hooks/ as a user's config names them."""
    import sys

    pytest.importorskip("skl2onnx")
    tool = Path(sys.executable).parent / "pre-commit"
    if not tool.exists():
        pytest.skip("the pre-commit tool is not installed (it comes with the test extra)")
    hook_repo = tmp_path / "hpcfair-hooks"  # this project's hook files at a commit, as pre-commit clones them
    hook_repo.mkdir()
    shutil.copy(ROOT / ".pre-commit-hooks.yaml", hook_repo)
    shutil.copytree(ROOT / "hooks", hook_repo / "hooks")
    git(hook_repo, "init", "-q", "-b", "main")
    git(hook_repo, "add", "-A")
    git(hook_repo, "commit", "-q", "-m", "hooks")
    rev = git(hook_repo, "rev-parse", "HEAD").stdout.strip()
    write(gitrepo / ".pre-commit-config.yaml", f"repos:\n- repo: {hook_repo}\n  rev: {rev}\n  hooks:\n"
                                               "  - id: hpcfair-convert\n  - id: hpcfair-verify\n")
    monkeypatch.setenv("PRE_COMMIT_HOME", os.fspath(tmp_path / "pre-commit-home"))
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")  # hpcfair on PATH
    subprocess.run([tool, "install"], cwd=gitrepo, check=True, capture_output=True)
    model_zoo.save_skops(model_zoo.pipeline(), gitrepo / "clf.skops")
    cli("add", "clf.skops", "--no-convert")
    git(gitrepo, "add", "-A")
    done = git(gitrepo, "commit", "-q", "-m", "first", check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "hpcfair (record, convert and snapshot changed models)" in done.stdout + done.stderr
    assert api.show("clf.onnx").pid  # converted by the framework's run of the hook
    model_zoo.save_skops(model_zoo.forest(), gitrepo / "clf.skops")
    write(gitrepo / "notes.md", "retrained\n")
    git(gitrepo, "add", "notes.md")
    git(gitrepo, "commit", "-q", "-m", "retrained")  # the hook stages the pointer it rewrote: nothing unstaged
    assert "version: 2" in git(gitrepo, "show", "HEAD:clf.skops.hpcfair").stdout
    assert git(gitrepo, "status", "--porcelain").stdout == ""


def test_a_linked_worktree_shares_the_store_and_versions_of_the_main_one(gitrepo, cli, tmp_path, monkeypatch):
    write(gitrepo / "data.bin", b"version one")
    cli("add", "data.bin")
    cli("hooks", "install")
    git(gitrepo, "add", "-A")
    git(gitrepo, "commit", "-q", "-m", "one")
    other = tmp_path / "other tree"
    made = git(gitrepo, "worktree", "add", "-q", "-b", "side", os.fspath(other))
    assert (other / "data.bin").read_bytes() == b"version one" and "checked out 1 artifact" in made.stderr
    assert not (other / ".hpcfair" / "files").exists()  # no store of its own
    write(other / "data.bin", b"version two")
    monkeypatch.chdir(other)
    cli("add", "data.bin")
    git(other, "commit", "-q", "-am", "two")
    monkeypatch.chdir(gitrepo)
    assert "version: 2" in git(gitrepo, "show", "side:data.bin.hpcfair").stdout
    assert [v["number"] for v in cli.json("log", "data")["versions"]] == [2, 1]  # seen from the main work tree
    git(gitrepo, "merge", "-q", "side")
    assert (gitrepo / "data.bin").read_bytes() == b"version two"
    write(other / "data.bin", b"only the worktree names this")
    api.add([other / "data.bin"], repo=other)
    cli("remove", "data")  # no ref names the worktree's new content now; its pointer does
    assert cli.json("gc")["removed_objects"] == 2  # versions 1 and 2: nothing names them now
    assert [e.state for e in api.status(repo=other).entries] == ["in sync"]
    assert api.fsck(repo=other).exit_code == 0


def test_hooks_in_a_submodule_go_to_its_own_git_dir_and_run_there(tmp_path, cli, monkeypatch):
    lib, top = tmp_path / "lib", tmp_path / "top"
    for folder in (lib, top):
        folder.mkdir()
        git(folder, "init", "-q", "-b", "main")
        git(folder, "commit", "-q", "--allow-empty", "-m", "start")
    git(top, "-c", "protocol.file.allow=always", "submodule", "add", "-q", os.fspath(lib), "models")
    sub = top / "models"
    monkeypatch.chdir(sub)
    cli("init")
    assert cli.json("hooks", "install")["hooks_dir"] == os.fspath(top / ".git" / "modules" / "models" / "hooks")
    write(sub / "d.bin", b"in the submodule")
    cli("add", "d.bin")
    git(sub, "add", "-A")
    git(sub, "commit", "-q", "-m", "data")
    git(sub, "checkout", "-q", "-b", "empty", "HEAD~1")  # the hook runs in the submodule: its data goes
    write(sub / "d.bin", b"changed, not stored")
    kept = git(sub, "checkout", "-q", "main")
    assert "was not checked out" in kept.stderr and (sub / "d.bin").read_bytes() == b"changed, not stored"
    assert not (top / ".git" / "hooks" / "pre-commit").exists()


def test_a_worktree_that_had_its_own_store_keeps_it(tmp_path):
    main, other = tmp_path / "main", tmp_path / "other"
    main.mkdir()
    git(main, "init", "-q", "-b", "main")
    git(main, "commit", "-q", "--allow-empty", "-m", "start")
    git(main, "worktree", "add", "-q", "-b", "side", os.fspath(other))
    api.init(other)  # before the main work tree had a repository
    api.init(main)
    write(other / "w.bin", b"worktree bytes")
    oid = api.add([other / "w.bin"], repo=other).items[0].oid
    assert (other / ".hpcfair" / "files" / "sha256" / oid[:2] / oid[2:]).exists()
    assert not (main / ".hpcfair" / "files" / "sha256" / oid[:2]).exists()


def record_and_commit(gitrepo: Path, cli, content: bytes, message: str) -> None:
    write(gitrepo / "d.bin", content)
    cli("add", "d.bin")
    git(gitrepo, "add", "-A")
    git(gitrepo, "commit", "-q", "-m", message)


def both_change_d(gitrepo: Path, cli) -> None:
    """d.bin committed on main, then changed on a branch `side` (b"side") and on main (b"main"); on main."""
    cli("hooks", "install")
    record_and_commit(gitrepo, cli, b"base", "base")
    git(gitrepo, "checkout", "-q", "-b", "side")
    record_and_commit(gitrepo, cli, b"side", "side")
    git(gitrepo, "checkout", "-q", "main")
    record_and_commit(gitrepo, cli, b"main", "main")


def test_a_merge_conflict_resolved_to_the_other_side_commits_that_side(gitrepo, cli):
    both_change_d(gitrepo, cli)
    assert git(gitrepo, "merge", "-q", "side", check=False).returncode == 1  # the pointer files conflict
    assert api.status().entries[0].state == "corrupt pointer"
    git(gitrepo, "checkout", "--theirs", "d.bin.hpcfair")
    git(gitrepo, "add", "d.bin.hpcfair")
    done = git(gitrepo, "commit", "-q", "--no-edit")
    assert "now holds d v2, as its staged pointer says" in done.stderr
    assert "version: 2" in git(gitrepo, "show", "HEAD:d.bin.hpcfair").stdout  # not our data recorded again
    assert (gitrepo / "d.bin").read_bytes() == b"side"
    assert git(gitrepo, "status", "--porcelain").stdout == ""


def test_a_rebase_leaves_the_data_its_replayed_commits_name(gitrepo, cli):
    cli("hooks", "install")
    record_and_commit(gitrepo, cli, b"one", "one")
    git(gitrepo, "checkout", "-q", "-b", "feature")
    record_and_commit(gitrepo, cli, b"feature", "feature")
    git(gitrepo, "checkout", "-q", "main")
    write(gitrepo / "e.bin", b"main moves on")
    cli("add", "e.bin")
    git(gitrepo, "add", "-A")
    git(gitrepo, "commit", "-q", "-m", "main moves on")
    git(gitrepo, "checkout", "-q", "feature")
    git(gitrepo, "rebase", "-q", "main")  # checks out main first, then replays the feature's pointer
    assert (gitrepo / "d.bin").read_bytes() == b"feature"
    assert {e["state"] for e in cli.json("status")["entries"]} == {"in sync"}


def test_a_rebase_conflict_resolved_and_continued_keeps_data_and_pointers_together(gitrepo, cli, monkeypatch):
    both_change_d(gitrepo, cli)
    git(gitrepo, "checkout", "-q", "side")
    assert git(gitrepo, "rebase", "-q", "main", check=False).returncode != 0  # both moved the pointer
    git(gitrepo, "checkout", "--theirs", "d.bin.hpcfair")  # in a rebase, "theirs" is the replayed commit
    git(gitrepo, "add", "d.bin.hpcfair")
    monkeypatch.setenv("GIT_EDITOR", "true")
    git(gitrepo, "rebase", "--continue")
    assert "version: 2" in git(gitrepo, "show", "HEAD:d.bin.hpcfair").stdout
    assert (gitrepo / "d.bin").read_bytes() == b"side"
    assert {e["state"] for e in cli.json("status")["entries"]} == {"in sync"}


@pytest.mark.frameworks
def test_commit_a_and_a_commit_of_named_paths_carry_the_recorded_model(gitrepo, cli):
    committed_model(gitrepo, cli)
    write(gitrepo / "train.py", "print('v1')\n")
    git(gitrepo, "add", "train.py")
    git(gitrepo, "commit", "-q", "-m", "script")
    write(gitrepo / "train.py", "print('v2')\n")  # a tracked file changed, and the model retrained
    model_zoo.save_skops(model_zoo.forest(), gitrepo / "clf.skops")
    done = git(gitrepo, "commit", "-q", "-a", "-m", "retrained")
    assert "clf v2" in done.stderr and "version: 2" in git(gitrepo, "show", "HEAD:clf.skops.hpcfair").stdout
    assert git(gitrepo, "status", "--porcelain").stdout == ""
    write(gitrepo / "train.py", "print('v3')\n")
    model_zoo.save_skops(model_zoo.pipeline(), gitrepo / "clf.skops")
    partial = git(gitrepo, "commit", "-q", "-m", "only the script", "train.py")  # git gives a temporary index
    assert "clf.skops changed but this commit names other paths" in partial.stderr
    assert "version: 2" in git(gitrepo, "show", "HEAD:clf.skops.hpcfair").stdout
    assert git(gitrepo, "status", "--porcelain").stdout == ""  # nothing half-staged in the real index
    assert {e.path: e.state for e in api.status().entries}["clf.skops"] == "modified"  # waits for its commit
    assert "run the same git commit again" in git(gitrepo, "commit", "-q", "-a", "-m", "model", check=False).stderr
    git(gitrepo, "commit", "-q", "-a", "-m", "the model")
    assert "version: 3" in git(gitrepo, "show", "HEAD:clf.skops.hpcfair").stdout


@pytest.mark.frameworks
def test_hook_conversions_record_the_hyper_parameters_committed_with_the_model(gitrepo, cli):
    pytest.importorskip("skl2onnx")
    write(gitrepo / "params.yaml", "train:\n  lr: 0.01\n  epochs: 3\n")  # the repository's (DVC's file)
    model_zoo.save_skops(model_zoo.pipeline(), gitrepo / "clf.skops")
    cli("add", "clf.skops", "--no-convert")
    cli("hooks", "install")
    git(gitrepo, "add", "-A")
    git(gitrepo, "commit", "-q", "-m", "first")
    assert api.show("clf.onnx").provenance.runtime.hyperparameters == {"train": {"lr": 0.01, "epochs": 3}}
    write(gitrepo / "clf.skops.params.yaml", "n_estimators: 10\nstarted: 2026-12-01\n")  # beside the model: first
    model_zoo.save_skops(model_zoo.forest(), gitrepo / "clf.skops")
    git(gitrepo, "add", "clf.skops.params.yaml")
    git(gitrepo, "commit", "-q", "-m", "retrained")
    runtime = api.show("clf.onnx").provenance.runtime
    assert runtime.hyperparameters == {"n_estimators": 10, "started": "2026-12-01"} and runtime.packages
    write(gitrepo / "clf.skops.params.yaml", "- not\n- a mapping\n")
    model_zoo.save_skops(model_zoo.pipeline(), gitrepo / "clf.skops")
    pointer = (gitrepo / "clf.skops.hpcfair").read_text()
    refused = git(gitrepo, "commit", "-q", "-am", "bad params", check=False)
    assert refused.returncode == 1 and "clf.skops.params.yaml: expected a mapping, got list" in refused.stderr
    assert (gitrepo / "clf.skops.hpcfair").read_text() == pointer
