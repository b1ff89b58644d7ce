"""Real servers for remote tests (one of each per test session) and repository helpers."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from hpcfair_vcs.repo import Repo
from remotes.servers import S3Server, SSHServer, WebDAVServer

KINDS = ["local", "ssh", "webdav", "s3"]
NEEDS = {"ssh": ["/usr/sbin/sshd", "ssh-keygen"], "webdav": ["nginx", "htpasswd"], "s3": ["rclone"]}
CLASSES = {"ssh": SSHServer, "webdav": WebDAVServer, "s3": S3Server}


def _missing(kind: str) -> list[str]:
    bin_dir = Path(sys.executable).parent
    return [tool for tool in NEEDS.get(kind, [])
            if not (shutil.which(tool) or (bin_dir / tool).exists() or os.path.exists(tool))]


class Servers:
    """Starts each kind of server on first use; all stop at the end of the session."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.running: dict[str, object] = {}

    def get(self, kind: str):
        if kind == "local":
            return None
        missing = _missing(kind)
        if missing:
            pytest.skip(f"{kind} server needs {', '.join(missing)} (bash tests/run.sh installs them)")
        if kind == "ssh" and os.geteuid() != 0:
            pytest.skip("sshd on loopback needs root here")
        if kind not in self.running or self.running[kind].proc is None:
            self.running[kind] = CLASSES[kind](self.base / kind).start()
        return self.running[kind]

    def stop_all(self) -> None:
        for server in self.running.values():
            server.stop()


@pytest.fixture(scope="session")
def servers(tmp_path_factory):
    pool = Servers(tmp_path_factory.mktemp("servers"))
    yield pool
    pool.stop_all()


def new_repo(root: Path) -> Path:
    """An initialised repository in a new folder."""
    root.mkdir(parents=True)
    Repo.init(root).close()
    return root


def clone_pointers(a: Path, b: Path) -> None:
    """What `git clone` brings from repository *a* to *b*: the pointer files and the .gitignore files beside them."""
    for pointer in [*a.rglob("*.hpcfair"), *a.rglob(".gitignore")]:
        if pointer.is_file() and ".hpcfair" not in pointer.relative_to(a).parts:
            dest = b / pointer.relative_to(a)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(pointer, dest)


class RemoteSpec:
    """How to reach one remote: URL and options, plus where its bytes live on disk."""

    def __init__(self, kind: str, server, tmp_path: Path, unique: str) -> None:
        self.kind = kind
        self.server = server
        if kind == "local":
            self.url, self.options, self.disk = os.fspath(tmp_path / "remote"), {}, tmp_path / "remote"
        else:
            sub = f"/{unique}"
            self.url = server.remote_url + sub
            self.options = dict(server.remote_options)
            roots = {"ssh": lambda: server.data, "webdav": lambda: server.data / "store",
                     "s3": lambda: server.data / server.bucket / "store"}
            self.disk = roots[kind]() / unique
            if kind == "webdav":
                self.disk.mkdir(parents=True, exist_ok=True)  # the collection must exist

    def objects_on_disk(self) -> list[Path]:
        root = self.disk / "files" / "sha256"
        return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture(params=KINDS)
def remote_spec(request, servers, tmp_path):
    server = servers.get(request.param)
    return RemoteSpec(request.param, server, tmp_path, unique=tmp_path.name[-30:].replace("_", "-"))


@pytest.fixture(params=["ssh", "webdav", "s3"])
def server_spec(request, servers, tmp_path):
    """Like remote_spec, for the kinds that have a server (credentials, outages)."""
    server = servers.get(request.param)
    return RemoteSpec(request.param, server, tmp_path, unique=tmp_path.name[-30:].replace("_", "-"))
