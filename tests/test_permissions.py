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
