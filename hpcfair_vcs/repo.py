"""Creating, finding and opening a repository; it owns the store, records, refs and config.

On-disk layout (pinned by tests/test_layout.py, drawn again in docs/architecture.md)::

    .hpcfair/
    ├── .gitignore          keeps all but FORMAT and config.yaml out of git (written even outside git)
    ├── FORMAT              on-disk format version
    ├── config.yaml         shareable settings
    ├── config.local.yaml   machine-local settings and secrets (mode 0600)
    ├── files/
    │   └── sha256/         objects: ab/cdef... (read-only); folders are ab/cdef....dir
    ├── records/            content-addressed version, metadata, provenance, runtime records
    ├── refs/
    │   └── artifacts/      NAME.json: versions and tags of one artifact
    ├── tmp/                staging for atomic writes and new work-tree files; a pull's spare copies
    ├── owners/             a locked file per process writing here: what owns its temporary files
    ├── state.db            stat cache (inode, size, mtime, ctime -> sha256)
    ├── catalog.db          search index (SQLite FTS5) of refs and metadata; a cache, rebuilt when missing
    └── lock                repository lock (flock)

``quarantine/`` appears when ``fsck`` moves a corrupt object aside, and
``cache/conversions/`` (one file per conversion key, naming the ONNX version
it made; a cache, safe to delete) when a model is first converted.

In a linked git worktree the repository keeps only FORMAT, config.yaml, .gitignore
and state.db; the rest is the main work tree's (``Repo.shared``, worktree/linked.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

from . import config as config_mod
from .worktree import gitignore, linked
from .fileio.files import RepoLock, atomic_write
from .errors import AlreadyARepositoryError, NotARepositoryError, UnsupportedFormatError
from .storage.catalog import Catalog
from .storage.records import RecordStore
from .storage.refs import RefStore
from .storage.state import StateCache
from .storage.store import ObjectStore
from .fileio.tmpfiles import register_repository

CONTROL_DIR = linked.CONTROL_DIR
FORMAT_VERSION = 1
SUBDIRS = ("files/sha256", "records", "refs/artifacts", "tmp", "owners")
CONFIG_HEADER = "# hpcfair settings shared with everyone who clones this repository (docs/config.md).\n"
LOCAL_CONFIG_HEADER = "# hpcfair machine-local settings and secrets: never committed.\n"


class Repo:
    """An open repository rooted at *root* (the folder that holds ``.hpcfair``).

    ``control`` is its ``.hpcfair`` (the committed files, the stat cache); ``shared`` holds
    the store, records, refs, temporary files, lock and local settings: the same folder,
    except in a linked git worktree, where it is the main work tree's.
    """

    def __init__(self, root: Path, overrides: dict[str, dict[str, Any]] | None = None) -> None:
        self.root = Path(root)
        self.control = self.root / CONTROL_DIR
        self._check_format()
        self.shared = linked.main_control(self.root) or self.control
        self._ensure_subdirs()
        self.config = config_mod.load(self.control, overrides, local_dir=self.shared)
        self.tmp_dir = self.shared / "tmp"
        self.owners_dir = self.shared / "owners"
        register_repository(self.root, self.owners_dir)
        register_repository(self.shared.parent, self.owners_dir)
        self.store = ObjectStore(self.shared / "files" / "sha256", self.tmp_dir)
        self.records = RecordStore(self.shared / "records", self.tmp_dir)
        self.refs = RefStore(self.shared / "refs", self.tmp_dir)
        self.refs.on_change = lambda name, before: self.catalog.changed(name, before)
        self.lock = RepoLock(self.shared / "lock", timeout=self.config["core"]["lock_timeout"])

    @cached_property
    def state(self) -> StateCache:
        return StateCache(self.control / "state.db")

    @cached_property
    def catalog(self) -> Catalog:
        return Catalog(self.shared / "catalog.db", self.refs, self.records)

    @property
    def quarantine_dir(self) -> Path:
        return self.shared / "quarantine"

    @cached_property
    def in_git(self) -> bool:
        return gitignore.git_work_tree(self.root) is not None

    def close(self) -> None:
        if "state" in self.__dict__:
            self.state.close()
        if "catalog" in self.__dict__:
            self.catalog.close()

    def __enter__(self) -> "Repo":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_format(self) -> None:
        try:
            text = (self.control / "FORMAT").read_text().strip()
        except FileNotFoundError:
            raise NotARepositoryError(f"{self.control} has no FORMAT file",
                                      hint="run `hpcfair init` here to repair it") from None
        if text != str(FORMAT_VERSION):
            raise UnsupportedFormatError(
                f"{self.control} has format {text!r}; this hpcfair reads format {FORMAT_VERSION}")

    def _ensure_subdirs(self) -> None:
        # A fresh git clone carries only the committed files; make the rest on first use.
        for sub in SUBDIRS:
            path = self.shared / sub
            if not path.is_dir():
                path.mkdir(parents=True, exist_ok=True)

    # --- construction -------------------------------------------------------
    @classmethod
    def init(cls, path: str | os.PathLike = ".") -> "Repo":
        """Create ``.hpcfair`` in *path*; repairs missing parts of a cloned one.

        Raises:
            AlreadyARepositoryError: a complete repository exists there.
            UnsupportedFormatError: an existing one has a format this version cannot read.
        """
        root = Path(os.path.realpath(path))
        control = root / CONTROL_DIR
        shared = linked.main_control(root) or control  # a linked worktree's store is the main work tree's
        if (control / "FORMAT").exists() and (shared / "files").is_dir():
            cls(root)  # validates FORMAT
            raise AlreadyARepositoryError(f"{control} already exists")
        control.mkdir(parents=True, exist_ok=True)
        for sub in SUBDIRS:
            (shared / sub).mkdir(parents=True, exist_ok=True)
        if not (control / "FORMAT").exists():
            atomic_write(control / "FORMAT", f"{FORMAT_VERSION}\n".encode())
        if not (control / "config.yaml").exists():
            atomic_write(control / "config.yaml", CONFIG_HEADER.encode())
        if not (shared / "config.local.yaml").exists():
            atomic_write(shared / "config.local.yaml", LOCAL_CONFIG_HEADER.encode(), mode=0o600)
        # always, not only inside git: a `git init` after `hpcfair init` must not commit the store and secrets
        atomic_write(control / ".gitignore", gitignore.CONTROL_GITIGNORE.encode())
        (shared / "lock").touch()
        repo = cls(root)
        repo.state._conn()  # create state.db now so the layout is complete
        return repo

    @classmethod
    def discover(cls, start: str | os.PathLike | None = None,
                 overrides: dict[str, dict[str, Any]] | None = None) -> "Repo":
        """Open the repository at or above *start* (default: ``HPCFAIR_REPO`` or the cwd).

        Raises:
            NotARepositoryError: none is found.
        """
        origin = Path(os.path.realpath(start or config_mod.repo_from_env() or os.getcwd()))
        for folder in (origin, *origin.parents):
            if (folder / CONTROL_DIR).is_dir():
                return cls(folder, overrides)
        raise NotARepositoryError(f"not inside an hpcfair repository: {origin}")


def open_repo(repo: "Repo | str | os.PathLike | None") -> Repo:
    """Accept a Repo, a path inside one, or None (the current directory)."""
    return repo if isinstance(repo, Repo) else Repo.discover(repo)


@contextmanager
def opened(repo: "Repo | str | os.PathLike | None") -> Iterator["Repo | str | os.PathLike | None"]:
    """What one API call works on, closed when it returns.

    A Repo passed in stays the caller's and is not closed. Otherwise the repository at or
    above *repo* (a path, or None for the current directory) is opened for the call and
    closed after it, so a long-running process (a notebook, a server, a worker) keeps no
    SQLite connection or file open. Where there is no repository, *repo* is passed on as
    it was: the verb says what it needs (``infer`` of a plain ONNX file needs none).
    """
    if isinstance(repo, Repo):
        yield repo
        return
    try:
        found = Repo.discover(repo)
    except NotARepositoryError:
        yield repo
        return
    with found:
        yield found
