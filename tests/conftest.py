"""Shared fixtures. Every test runs with an isolated HOME and no HPCFAIR_* variables
(but HPCFAIR_AUTO_CONVERT=0: see isolated_env).

In CI (``CI=true``) a skipped test counts as a failure: every capability must
really run there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from hpcfair_vcs.cli import main
from hpcfair_vcs.repo import Repo

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which must run everything: {report.longrepr}"


def pytest_collection_modifyitems(items):
    """A test that uses the real servers is marked ``servers``; one on a local-folder remote is not."""
    for item in items:
        params = getattr(item, "callspec", None)
        local = params is not None and params.params.get("remote_spec") == "local"
        if "servers" in item.fixturenames and not local:
            item.add_marker(pytest.mark.servers)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", os.fspath(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", os.fspath(home / ".config"))
    for var in list(os.environ):
        if var.startswith("HPCFAIR_"):
            monkeypatch.delenv(var)
    # The core tests add placeholder bytes named like models; converter tests (test_convert*.py)
    # switch automatic conversion back on.
    monkeypatch.setenv("HPCFAIR_AUTO_CONVERT", "0")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.fspath(home / ".gitconfig"))
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "test@example.org")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "test@example.org")
    yield home


@pytest.fixture
def make_repo(tmp_path, monkeypatch):
    """Factory: an initialised repository in a new folder (optionally inside git); cwd moves there."""
    counter = iter(range(1000))

    def factory(git: bool = False, chdir: bool = True) -> Path:
        root = tmp_path / f"repo{next(counter)}"
        root.mkdir()
        if git:
            subprocess.run(["git", "init", "-q", os.fspath(root)], check=True)
        Repo.init(root).close()
        if chdir:
            monkeypatch.chdir(root)
        return root

    return factory


@pytest.fixture
def repo(make_repo) -> Path:
    """An initialised repository (outside git); the cwd is its root."""
    return make_repo()


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def store_file(store, path: Path):
    """Stage *path* in *store* and commit it (what add does for one file); the Staged it was."""
    staged = store.stage_file(path)
    store.commit([staged])
    return staged


def make_dataset(folder: Path, files: int = 5, size: int = 64, seed: int = 0) -> Path:
    import random

    rng = random.Random(seed)
    for i in range(files):
        write(folder / f"part{i % 3}" / f"f{i}.bin", rng.randbytes(size))
    return folder


class Cli:
    """Runs ``hpcfair`` in-process; ``.json()`` runs it with --json and parses stdout."""

    def __init__(self) -> None:
        try:
            self.runner = CliRunner(mix_stderr=False)  # click < 8.2 mixes stderr into stdout by default
        except TypeError:  # click >= 8.2 always keeps them apart
            self.runner = CliRunner()

    def __call__(self, *args: str, code: int = 0):
        result = self.runner.invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == code, (result.exit_code, result.output, result.stderr)
        return result

    def json(self, *args: str, code: int = 0):
        return json.loads(self(*args, "--json", code=code).stdout)


@pytest.fixture
def cli() -> Cli:
    return Cli()


def run_hpcfair(*args: str, cwd: Path, env: dict | None = None, check: bool = True, **kw):
    """The real console command in a subprocess (for kill, concurrency and import tests)."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "hpcfair_vcs", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, **kw)
    if check:
        assert proc.returncode == 0, (proc.returncode, proc.stdout, proc.stderr)
    return proc
