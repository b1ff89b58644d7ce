"""Unreadable input: a clear one-line error, exit 1, and nothing stored.

Root ignores permission bits, so as root the command runs without the
CAP_DAC_* capabilities (``setpriv``), which makes the kernel check them again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from .conftest import make_dataset, write


def run_unprivileged(args, cwd):
    prefix = []
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("setpriv (util-linux) is needed to drop root's permission override")
        prefix = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]
    return subprocess.run([*prefix, sys.executable, "-m", "hpcfair_vcs", *args], cwd=cwd,
                          capture_output=True, text=True)


def stored_objects(repo):
    return [p for p in (repo / ".hpcfair" / "files").rglob("*") if p.is_file()]


def test_unreadable_file(repo):
    secret = write(repo / "secret.bin", b"top secret")
    os.chmod(secret, 0)
    proc = run_unprivileged(["add", "secret.bin"], repo)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith("hpcfair: error: cannot read") and "hint:" in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert not (repo / "secret.bin.hpcfair").exists()
    assert stored_objects(repo) == [] and os.listdir(repo / ".hpcfair" / "tmp") == []


def test_unreadable_folder_inside_a_dataset(repo):
    make_dataset(repo / "ds", files=4)
    os.chmod(repo / "ds" / "part1", 0)
    try:
        proc = run_unprivileged(["add", "ds"], repo)
    finally:
        os.chmod(repo / "ds" / "part1", 0o755)
    assert proc.returncode == 1 and "cannot list" in proc.stderr
    assert stored_objects(repo) == [] and not (repo / "ds.hpcfair").exists()


def read_only(folder):
    for path in [folder, *folder.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode & ~0o222)


def writable(folder):
    for path in [folder, *folder.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o200)


def test_a_read_only_repository_is_an_environment_error_and_reads_still_work(repo):
    write(repo / "a.bin", b"first")
    assert run_unprivileged(["add", "a.bin"], repo).returncode == 0
    write(repo / "b.bin", b"second")
    read_only(repo / ".hpcfair")
    try:
        for args in (["add", "b.bin"], ["checkout", "a", "--force"], ["gc"], ["fsck"]):  # fsck may quarantine
            proc = run_unprivileged(args, repo)
            assert proc.returncode == 4, (args, proc.stderr)
            assert proc.stderr.startswith("hpcfair: error: cannot write to") and "ls -ld .hpcfair" in proc.stderr
            assert proc.stderr.count("\n") == 1 and "unexpected" not in proc.stderr
        for args in (["status"], ["log", "a"], ["show", "a"]):
            proc = run_unprivileged(args, repo)
            assert proc.returncode == 0, (args, proc.stderr)
    finally:
        writable(repo / ".hpcfair")
    assert not (repo / "b.bin.hpcfair").exists()


def test_a_read_only_store_is_blamed_not_the_source_file(repo):
    write(repo / "b.bin", b"second")
    for folder in ("files", "tmp"):
        read_only(repo / ".hpcfair" / folder)
    try:
        proc = run_unprivileged(["add", "b.bin"], repo)
    finally:
        for folder in ("files", "tmp"):
            writable(repo / ".hpcfair" / folder)
    assert proc.returncode == 4, proc.stderr
    assert ".hpcfair/tmp" in proc.stderr and "cannot read" not in proc.stderr and "b.bin" not in proc.stderr
    assert not (repo / "b.bin.hpcfair").exists() and stored_objects(repo) == []
