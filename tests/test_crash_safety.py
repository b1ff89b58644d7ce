"""kill -9 at any moment of add, checkout or gc leaves a consistent repository, and a
rerun completes; concurrent adds queue on the lock and both land."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from hpcfair_vcs import api
from hpcfair_vcs.repo import Repo

from .conftest import make_dataset, run_hpcfair

pytestmark = pytest.mark.slow


def start(args, cwd):
    return subprocess.Popen([sys.executable, "-m", "hpcfair_vcs", *args], cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def kill_after(proc, delay):
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def assert_consistent(root):
    """Every visible object hashes right; every ref names records and objects that exist."""
    result = api.fsck(repo=root)
    assert result.exit_code == 0, result.problems
    with Repo(root) as r:
        for ref in r.refs.all():
            for vid in ref.versions:
                assert r.records.exists(vid)
    assert [p for p in result.problems if p.problem == "missing"] == []


def big_file(path, mib):
    block = os.urandom(1 << 20)
    with open(path, "wb") as fobj:
        for i in range(mib):
            fobj.write(block[:-4] + i.to_bytes(4, "big"))


@pytest.mark.parametrize("delay", [0.05, 0.15, 0.3, 0.5])
def test_kill_during_add_of_a_large_file(repo, delay):
    big_file(repo / "big.bin", 192)
    kill_after(start(["add", "big.bin"], repo), delay)
    assert_consistent(repo)
    states = {e.state for e in api.status(repo=repo).entries}
    assert states <= {"in sync"}  # either not recorded at all, or completely
    run_hpcfair("add", "big.bin", cwd=repo)
    assert_consistent(repo)
    assert [e.state for e in api.status(repo=repo).entries] == ["in sync"]
    assert os.listdir(repo / ".hpcfair" / "tmp") == []


@pytest.mark.parametrize("delay", [0.2, 0.5, 0.9])
def test_kill_during_add_of_a_large_folder(repo, delay):
    make_dataset(repo / "ds", files=3000, size=256)
    kill_after(start(["add", "ds"], repo), delay)
    assert_consistent(repo)
    run_hpcfair("add", "ds", cwd=repo)
    assert_consistent(repo)
    assert [e.state for e in api.status(repo=repo).entries] == ["in sync"]
    with Repo(repo) as r:
        assert len(r.store.read_tree(api.show("ds", repo=repo).oid)) == 3000


@pytest.mark.parametrize("delay", [0.2, 0.5])
def test_kill_during_checkout(repo, delay):
    make_dataset(repo / "ds", files=3000, size=256)
    expected = {p.relative_to(repo): p.read_bytes() for p in (repo / "ds").rglob("*") if p.is_file()}
    run_hpcfair("add", "ds", cwd=repo)
    import shutil

    shutil.rmtree(repo / "ds")
    kill_after(start(["checkout", "ds"], repo), delay)
    assert_consistent(repo)
    run_hpcfair("checkout", "ds", cwd=repo)
    got = {p.relative_to(repo): p.read_bytes() for p in (repo / "ds").rglob("*") if p.is_file()}
    assert got == expected  # no half-written file, no leftover temporary file
    assert [p for p in os.listdir(repo) if p.startswith(".hpcfair-tmp-")] == []  # nor a half-built folder
    assert [e.state for e in api.status(repo=repo).entries] == ["in sync"]


def wait_for(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_killed_checkout_that_lingers_as_a_zombie_leaves_nothing_git_sees(make_repo):
    """Killed by a scheduler's timeout and never reaped (its pid still answers kill(pid, 0)): its
    half-built folder was never in the work tree, and the next checkout removes it all the same."""
    repo = make_repo(git=True)
    make_dataset(repo / "ds", files=3000, size=256)
    expected = {p.relative_to(repo): p.read_bytes() for p in (repo / "ds").rglob("*") if p.is_file()}
    run_hpcfair("add", "ds", cwd=repo)
    import shutil

    shutil.rmtree(repo / "ds")
    tmp = repo / ".hpcfair" / "tmp"
    proc = start(["checkout", "ds"], repo)
    try:
        wait_for(lambda: any(p.is_dir() for p in tmp.iterdir()))  # building the folder
        proc.send_signal(signal.SIGKILL)  # and nobody reaps it
        wait_for(lambda: open(f"/proc/{proc.pid}/stat").read().split(") ")[1][0] == "Z")
        os.kill(proc.pid, 0)  # a pid check would think it alive
        untracked = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=repo,
                                   capture_output=True, text=True, check=True).stdout
        assert "ds/" not in untracked and ".hpcfair-tmp" not in untracked, untracked
        assert any(p.is_dir() for p in tmp.iterdir())  # the leftover, out of git's view
        run_hpcfair("checkout", "ds", "--force", cwd=repo)
    finally:
        proc.wait()
    got = {p.relative_to(repo): p.read_bytes() for p in (repo / "ds").rglob("*") if p.is_file()}
    assert got == expected
    assert not any(p.is_dir() for p in tmp.iterdir())
    assert [p for p in repo.rglob(".hpcfair-tmp-*") if ".hpcfair/" not in os.fspath(p)] == []


def test_kill_during_gc(repo):
    make_dataset(repo / "ds", files=3000, size=64)
    make_dataset(repo / "keep", files=10, size=64, seed=9)
    run_hpcfair("add", "ds", "keep", cwd=repo)
    api.remove("ds", repo=repo)
    kill_after(start(["gc"], repo), 0.25)
    assert_consistent(repo)
    run_hpcfair("gc", cwd=repo)
    with Repo(repo) as r:
        assert len(list(r.store.iter_oids())) == 11
    assert_consistent(repo)
    assert [e.state for e in api.status(repo=repo).entries] == ["in sync"]


def test_two_concurrent_adds_both_land(repo):
    big_file(repo / "a.bin", 64)
    big_file(repo / "b.bin", 64)
    make_dataset(repo / "ds", files=500)
    procs = [start(["add", "a.bin", "ds"], repo), start(["add", "b.bin"], repo),
             start(["add", "a.bin"], repo)]
    for proc in procs:
        assert proc.wait(timeout=120) == 0, proc.stderr.read()
    assert_consistent(repo)
    assert {v.artifact for v in api.log(repo=repo).versions} == {"a", "b", "ds"}
    assert len(api.log("a", repo=repo).versions) == 1


def test_concurrent_versions_of_one_artifact_chain_correctly(repo):
    paths = []
    for i in range(4):
        (repo / f"v{i}").mkdir()
        paths.append(repo / f"v{i}")
    (repo / "m.bin").write_bytes(b"0")
    run_hpcfair("add", "m.bin", cwd=repo)
    procs = []
    for i in range(1, 4):
        (repo / "m.bin").write_bytes(str(i).encode() * 1000)
        procs.append(start(["add", "m.bin"], repo))
        procs[-1].wait(timeout=60)
    versions = api.log("m", repo=repo).versions
    assert [v.number for v in versions] == [4, 3, 2, 1]
    for newer, older in zip(versions, versions[1:]):
        assert newer.parent == older.pid
