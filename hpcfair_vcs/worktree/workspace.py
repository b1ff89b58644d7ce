"""The work tree: resolving user paths safely, walking folders, finding pointer files.

Nothing here writes to the store; hashing uses the stat cache so unchanged
files are not read again.
"""

from __future__ import annotations

import hashlib
import os
import stat as stat_mod
from pathlib import Path
from typing import NamedTuple

from ..fileio.tmpfiles import TMP_MARK
from ..errors import PathNotFoundError, PathOutsideRepoError, UnreadableFileError
from .pointer import SUFFIX
from ..storage.state import StateCache, fingerprint
from ..storage.store import hash_file
from ..storage.tree import tree_bytes, tree_oid
from ..validate import is_safe_relpath

CONTROL_DIRS = {".git", ".hpcfair", ".dvc", "node_modules", "__pycache__"}


class WalkedFile(NamedTuple):
    relpath: str  # posix, relative to the walked folder
    path: str  # absolute path of the content (a symlink's target)
    stat: os.stat_result


def to_relpath(root: Path, path: Path) -> str:
    return Path(os.path.relpath(path, root)).as_posix()


def resolve_user_path(root: Path, user_path: str | os.PathLike, *, must_exist: bool = True) -> Path:
    """The absolute real path of *user_path*, which must lie (and by default exist) in the repository.

    A pointer file's path (``x.hpcfair``) stands for its data path ``x``. A relative
    path is relative to the current directory when that is inside the repository,
    else to the repository root (Python callers passing ``repo=``).

    Raises:
        PathOutsideRepoError: the path, or a symlink on the way, leads outside the repository.
        PathNotFoundError: the path does not exist.
    """
    raw = base_dir(root) / user_path
    if raw.name.endswith(SUFFIX):
        raw = raw.with_name(raw.name[: -len(SUFFIX)])
    lexical = Path(os.path.normpath(raw))
    real = Path(os.path.realpath(raw))
    if not _inside(real, root):
        via = " through a symlink" if _inside(lexical, root) else ""
        raise PathOutsideRepoError(f"{user_path} is outside the repository{via} ({root})", path=os.fspath(user_path))
    parts = Path(to_relpath(root, real)).parts
    if parts and parts[0] in (".hpcfair", ".git"):
        raise PathOutsideRepoError(f"{user_path} is inside {parts[0]}/, which hpcfair manages",
                                   hint="add your own data files, not the repository's internals",
                                   path=os.fspath(user_path))
    if must_exist and not os.path.lexists(real):
        raise PathNotFoundError(f"{user_path} does not exist", path=os.fspath(user_path))
    if parts:
        trackable(real, to_relpath(root, real))
    return real


def trackable(path: Path | str, relpath: str) -> None:
    """Raises UnreadableFileError for a name that records and manifests refuse (see tree.is_safe_relpath)."""
    if not is_safe_relpath(relpath):
        raise UnreadableFileError(f"{os.fspath(path)!r} has a name hpcfair cannot track (a control character such "
                                  "as a newline, a backslash, a .git folder, or longer than a file system allows)",
                                  hint="rename or remove it, then add again")


def base_dir(root: Path) -> Path:
    """Where relative paths start: the current directory when it is inside the repository,
    else the repository root (Python callers passing ``repo=`` from elsewhere)."""
    cwd = Path(os.path.realpath(Path.cwd()))
    return cwd if _inside(cwd, root) else root


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def walk_folder(folder: Path, repo_root: Path) -> list[WalkedFile]:
    """Every file below *folder*, sorted; symlinks are followed only inside the repository.

    Raises:
        PathOutsideRepoError: a symlink leads outside the repository.
        UnreadableFileError: a symlinked folder, a special file or an unreadable folder.
    """
    found: list[WalkedFile] = []
    stack = [(os.fspath(folder), "")]
    while stack:
        current, prefix = stack.pop()
        try:
            with os.scandir(current) as listing:
                entries = list(listing)
        except OSError as exc:
            raise UnreadableFileError(f"cannot list {current}: {exc.strerror}") from None
        for entry in entries:
            name = entry.name
            if entry.is_dir(follow_symlinks=False):
                stack.append((entry.path, prefix + name + "/"))
            elif entry.is_file(follow_symlinks=False):
                trackable(entry.path, prefix + name)
                if not name.startswith(TMP_MARK):
                    found.append(WalkedFile(prefix + name, entry.path, entry.stat(follow_symlinks=False)))
            elif entry.is_symlink():
                trackable(entry.path, prefix + name)
                found.append(_follow_link(entry, prefix + name, repo_root))
            else:
                raise UnreadableFileError(f"{entry.path} is not a regular file (a socket, pipe or device)")
    found.sort()
    return found


def _follow_link(entry: os.DirEntry, relpath: str, repo_root: Path) -> WalkedFile:
    target = Path(os.path.realpath(entry.path))
    if not _inside(target, repo_root):
        raise PathOutsideRepoError(f"{entry.path} is a symlink that leads outside the repository")
    try:
        st = target.stat()
    except OSError:
        raise PathNotFoundError(f"{entry.path} is a broken symlink") from None
    if not stat_mod.S_ISREG(st.st_mode):
        raise UnreadableFileError(f"{entry.path} is a symlink to a folder; hpcfair follows only file links",
                                  hint="add the folder it points to as its own artifact")
    return WalkedFile(relpath, os.fspath(target), st)


def find_pointers(root: Path) -> list[Path]:
    """Pointer files in the work tree, skipping control folders, venvs and tracked data."""
    found: list[Path] = []
    stack = [root]
    while stack:
        current = stack.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        names = {e.name for e in entries}
        if "pyvenv.cfg" in names:
            continue
        tracked = {n[: -len(SUFFIX)] for n in names if n.endswith(SUFFIX)}
        for entry in entries:
            if entry.name.endswith(SUFFIX) and entry.is_file(follow_symlinks=False):
                found.append(Path(entry.path))
            elif (entry.is_dir(follow_symlinks=False) and entry.name not in CONTROL_DIRS
                  and entry.name not in tracked):
                stack.append(Path(entry.path))
    return sorted(found)


class WorkspaceHasher:
    """Hashes work-tree files and folders through the stat cache (without storing them)."""

    def __init__(self, repo_root: Path, state: StateCache) -> None:
        self.root = repo_root
        self.state = state

    def file_oid(self, path: Path, relpath: str, st: os.stat_result) -> str:
        oid = self.state.get(relpath, st)
        if oid is None:
            oid = hash_file(path)
            self.state.put(relpath, st, oid)
        return oid

    def folder_manifest(self, folder: Path, files: list[WalkedFile] | None = None) -> dict[str, str]:
        """relpath-in-folder -> oid for every file below *folder*."""
        prefix = to_relpath(self.root, folder) + "/"
        cached = self.state.load_prefix(prefix)
        manifest: dict[str, str] = {}
        for item in walk_folder(folder, self.root) if files is None else files:
            key = prefix + item.relpath
            row = cached.get(key)
            if row and row[0] == fingerprint(item.stat):
                manifest[item.relpath] = row[1]
            else:
                manifest[item.relpath] = hash_file(Path(item.path))
                self.state.put(key, item.stat, manifest[item.relpath])
        return manifest

    def folder_oid(self, folder: Path) -> str:
        """The tree id of *folder*; one cache row answers when no file's stat changed."""
        relpath = to_relpath(self.root, folder)
        files = walk_folder(folder, self.root)  # stats first: a later change can only miss
        digest, newest = folder_fingerprint(files)
        oid = self.state.get_folder(relpath, digest)
        if oid is None:
            oid = tree_oid(tree_bytes(self.folder_manifest(folder, files)))
            self.state.put_folder(relpath, digest, oid, newest)
        return oid

    def current_oid(self, path: Path) -> str | None:
        """The id the data at *path* would get, or None when it is absent."""
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        if stat_mod.S_ISDIR(st.st_mode):
            return self.folder_oid(path)
        return self.file_oid(path, to_relpath(self.root, path), st)


def folder_fingerprint(files: list[WalkedFile]) -> tuple[str, int]:
    """A digest of every file's path and stat, and the newest mtime/ctime among them."""
    lines = []
    newest = 0
    for f in files:
        st = f.stat
        lines.append(f"{f.relpath}\0{st.st_ino}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\n")
        newest = max(newest, st.st_mtime_ns, st.st_ctime_ns)
    return hashlib.sha256("".join(lines).encode("utf-8", "surrogateescape")).hexdigest(), newest
