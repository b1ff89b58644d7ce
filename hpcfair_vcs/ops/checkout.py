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
from ..storage.spares import SpareCopies
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
    return restore(r, targets, force=force, link_types=list(link_types or r.config["core"]["link_types"]),
                   progress=progress)


def restore(r: Repo, targets: Sequence[str], *, force: bool, link_types: list[str], progress: Progress,
            spares: SpareCopies | None = None) -> CheckoutResult:
    """:func:`checkout` in an open repository, taking the spare copies a pull made (storage/spares.py)."""
    items: list[CheckoutItem] = []
    with r.lock:
        remove_stale_tmp(r.tmp_dir)  # what a killed checkout left where it builds new files
        progress.start("checkout", None, "file")
        run = _Run(r, WorkspaceHasher(r.root, r.state), force, link_types, spares, progress.advance)
        for target in (targets or [os.fspath(p) for p in find_pointers(r.root)]):
            try:
                items.append(_checkout_one(run, target))
            except HpcfairError as exc:
                items.append(CheckoutItem(path=target, artifact="", version=None, action="failed",
                                          error=exc.message + (f" ({exc.hint})" if exc.hint else ""),
                                          exit_code=exc.exit_code))
    r.state.flush()
    return CheckoutResult(items)


@dataclass
class _Run:
    """What stays the same for every target of one checkout."""

    r: Repo
    hasher: WorkspaceHasher
    force: bool
    links: list[str]  # link types to try, in order
    spares: SpareCopies | None  # work-tree copies a pull made while receiving
    on_file: Advance  # told of each file written

    def place(self, oid: str, dest: Path) -> str:
        return place_object(self.r.store, oid, dest, self.links, self.spares)


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


def _checkout_one(run: _Run, spec: str) -> CheckoutItem:
    r = run.r
    target = _target(r, spec)
    path, oid = target.path, target.pointer.oid
    relpath = to_relpath(r.root, path)
    item = CheckoutItem(path=relpath, artifact=target.pointer.artifact, version=target.pointer.version,
                        action="unchanged")
    check_writable(r.root, path)  # the data, its pointer file and the temporary files beside them
    _remove_stale_tmp_below(path)
    if is_tree(oid) and path.is_dir() and not path.is_symlink():
        changed = _update_folder(run, path, oid, item)
    else:
        changed = _update_file_or_replace(run, path, oid, item)
    if changed:
        item.action = "restored"
    pointer_file = pointer_mod.pointer_path(path)
    if not pointer_file.exists() or pointer_mod.read(pointer_file) != target.pointer:
        pointer_mod.write(path, target.pointer)
    return item


def _update_file_or_replace(run: _Run, path: Path, oid: str, item: CheckoutItem) -> bool:
    current = run.hasher.current_oid(path)
    if current == oid:
        return False
    if current is not None and not run.force and not run.r.store.exists(current):
        raise WorkspaceConflictError(f"{item.path} has changes that are not stored")
    if current is not None:
        remove_path(path)
    if is_tree(oid):
        _update_folder(run, path, oid, item)
    else:
        item.link_type = run.place(oid, path)
        item.files_written = 1
        run.on_file(1)
        _remember(run.r, path, oid)
    return True


def _update_folder(run: _Run, path: Path, oid: str, item: CheckoutItem) -> bool:
    """Make folder *path* hold tree *oid*; files whose bytes are not stored block it unless forced."""
    r = run.r
    manifest = r.store.read_tree(oid)
    if not os.path.lexists(path):
        return _build_folder(run, path, manifest, item)
    have = run.hasher.folder_manifest(path) if path.is_dir() else {}
    if have == manifest:
        return False
    unsaved = [rel for rel, child in have.items() if manifest.get(rel) != child and not r.store.exists(child)]
    if unsaved and not run.force:
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
        item.link_type = run.place(child, dest)
        item.files_written += 1
        run.on_file(1)
        _remember(r, dest, child)
    if item.files_removed:
        _prune_empty_dirs(path)
    return True


def _build_folder(run: _Run, path: Path, manifest: dict[str, str], item: CheckoutItem) -> bool:
    """A folder that is not there yet: built whole beside its place, then renamed in (no rename per file)."""
    r = run.r
    kind, written = build_folder(r.store, manifest, path, run.links, run.on_file, run.spares)
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
