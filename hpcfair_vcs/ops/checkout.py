"""``hpcfair checkout``: restore tracked data from the store, or switch it to another version.

Work that is not stored is never overwritten without ``--force``: if the data
at a path differs from what is checked out and its bytes are not in the store,
checkout stops with a hint to ``add`` them first.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..worktree import pointer as pointer_mod
from ..fileio.tmpfiles import remove_stale_tmp
from ..errors import HpcfairError, WorkspaceConflictError
from ..worktree.materialize import build_folder, place_object, remove_path
from ..progress import SILENT, Advance, Progress
from ..storage.records import PID_PREFIX, pid_of
from ..repo import Repo, open_repo
from ..results import CheckoutItem, CheckoutResult
from ..worktree.safepath import check_writable
from ..storage.tree import is_tree
from ..worktree.workspace import WorkspaceHasher, base_dir, find_pointers, resolve_user_path, to_relpath
from .resolve import resolve


def checkout(targets: Sequence[str] = (), *, repo: Repo | str | None = None, force: bool = False,
             link_types: Sequence[str] | None = None, progress: Progress = SILENT) -> CheckoutResult:
    """Restore each target (``NAME[@VERSION|@TAG]``, a PID, or a path); none means every pointer.

    Failures are reported per item (``action == "failed"``) and do not stop the rest.
    *progress* sees one phase, the files written (unit "file").
    """
    r = open_repo(repo)
    links = list(link_types or r.config["core"]["link_types"])
    hasher = WorkspaceHasher(r.root, r.state)
    items: list[CheckoutItem] = []
    with r.lock:
        remove_stale_tmp(r.tmp_dir)  # what a killed checkout left where it builds new files
        progress.start("checkout", None, "file")
        for target in (targets or [os.fspath(p) for p in find_pointers(r.root)]):
            try:
                items.append(_checkout_one(r, hasher, target, force, links, progress.advance))
            except HpcfairError as exc:
                items.append(CheckoutItem(path=target, artifact="", version=None, action="failed",
                                          error=exc.message + (f" ({exc.hint})" if exc.hint else ""),
                                          exit_code=exc.exit_code))
    r.state.flush()
    return CheckoutResult(items)


@dataclass
class _Target:
    path: Path
    pointer: pointer_mod.Pointer  # what the pointer file must say afterwards

    @property
    def version_id(self) -> str:
        return self.pointer.pid.removeprefix(PID_PREFIX)


def _target(r: Repo, target: str) -> _Target:
    base = base_dir(r.root)
    looks_like_path = target.endswith(pointer_mod.SUFFIX) or os.sep in target or \
        os.path.lexists(base / target) or os.path.lexists(base / (target + pointer_mod.SUFFIX))
    if looks_like_path and "@" not in target:
        path = _pointer_target(r, target)
        return _Target(path, pointer_mod.read(pointer_mod.pointer_path(path)))
    found = resolve(r, target)
    record = found.record
    relpath = found.ref.path if found.ref else record.path
    return _Target(r.root / relpath, pointer_mod.Pointer(
        artifact=record.artifact, kind=record.kind, version=found.number,
        pid=pid_of(found.version_id), oid=record.oid, size=record.object["size"],
        nfiles=record.object["nfiles"]))


def _pointer_target(r: Repo, target: str) -> Path:
    return resolve_user_path(r.root, target, must_exist=False)


def _checkout_one(r: Repo, hasher: WorkspaceHasher, spec: str, force: bool, links: list[str],
                  on_file: Advance) -> CheckoutItem:
    target = _target(r, spec)
    path, oid = target.path, target.pointer.oid
    relpath = to_relpath(r.root, path)
    item = CheckoutItem(path=relpath, artifact=target.pointer.artifact, version=target.pointer.version,
                        action="unchanged")
    check_writable(r.root, path)  # the data, its pointer file and the temporary files beside them
    _remove_stale_tmp_below(path)
    if is_tree(oid) and path.is_dir() and not path.is_symlink():
        changed = _update_folder(r, hasher, path, oid, links, item, force, on_file)
    else:
        changed = _update_file_or_replace(r, hasher, path, oid, links, item, force, on_file)
    if changed:
        item.action = "restored"
    pointer_file = pointer_mod.pointer_path(path)
    if not pointer_file.exists() or pointer_mod.read(pointer_file) != target.pointer:
        pointer_mod.write(path, target.pointer)
    return item


def _update_file_or_replace(r: Repo, hasher: WorkspaceHasher, path: Path, oid: str, links: list[str],
                            item: CheckoutItem, force: bool, on_file: Advance) -> bool:
    current = hasher.current_oid(path)
    if current == oid:
        return False
    if current is not None and not force and not r.store.exists(current):
        raise WorkspaceConflictError(f"{item.path} has changes that are not stored")
    if current is not None:
        remove_path(path)
    if is_tree(oid):
        _update_folder(r, hasher, path, oid, links, item, force, on_file)
    else:
        item.link_type = place_object(r.store, oid, path, links)
        item.files_written = 1
        on_file(1)
        _remember(r, path, oid)
    return True


def _update_folder(r: Repo, hasher: WorkspaceHasher, path: Path, oid: str, links: list[str],
                   item: CheckoutItem, force: bool, on_file: Advance) -> bool:
    """Make folder *path* hold tree *oid*; files whose bytes are not stored block it unless forced."""
    manifest = r.store.read_tree(oid)
    if not os.path.lexists(path):
        return _build_folder(r, path, manifest, links, item, on_file)
    have = hasher.folder_manifest(path) if path.is_dir() else {}
    if have == manifest:
        return False
    unsaved = [rel for rel, child in have.items() if manifest.get(rel) != child and not r.store.exists(child)]
    if unsaved and not force:
        more = f" and {len(unsaved) - 1} more" if len(unsaved) > 1 else ""
        raise WorkspaceConflictError(f"{item.path}/{unsaved[0]}{more} has changes that are not stored")
    for relpath in sorted(set(have) - set(manifest)):
        remove_path(check_writable(r.root, path / relpath))
        item.files_removed += 1
    for relpath, child in manifest.items():
        if have.get(relpath) == child:
            continue
        dest = check_writable(r.root, path / relpath)
        if dest.is_dir() and not dest.is_symlink():
            remove_path(dest)
        item.link_type = place_object(r.store, child, dest, links)
        item.files_written += 1
        on_file(1)
        _remember(r, dest, child)
    if item.files_removed:
        _prune_empty_dirs(path)
    return True


def _build_folder(r: Repo, path: Path, manifest: dict[str, str], links: list[str], item: CheckoutItem,
                  on_file: Advance) -> bool:
    """A folder that is not there yet: built whole beside its place, then renamed in (no rename per file)."""
    kind, written = build_folder(r.store, manifest, path, links, on_file)
    item.link_type = kind or item.link_type
    item.files_written += len(written)
    prefix = to_relpath(r.root, path) + "/"
    now_ns = time.time_ns()
    for relpath, st, oid in written:
        r.state.put(prefix + relpath, st, oid, now_ns)
    return True


def _remove_stale_tmp_below(path: Path) -> None:
    """Drop temporary files a killed checkout left beside or inside *path*."""
    remove_stale_tmp(path.parent)
    if path.is_dir() and not path.is_symlink():
        for current, _, _ in os.walk(path):
            remove_stale_tmp(Path(current))


def _prune_empty_dirs(folder: Path) -> None:
    for current, dirs, files in os.walk(folder, topdown=False):
        if current != os.fspath(folder) and not dirs and not files:
            try:
                os.rmdir(current)
            except OSError:
                pass


def _remember(r: Repo, path: Path, oid: str) -> None:
    r.state.put(to_relpath(r.root, path), path.stat(), oid)
