"""``hpcfair gc``: delete objects that no version and no pointer file references."""

from __future__ import annotations

from pathlib import Path

from ..worktree import pointer as pointer_mod
from ..fileio.tmpfiles import remove_dead_owners, remove_stale_tmp
from ..errors import HpcfairError
from ..storage.records import VersionRecord
from ..repo import Repo, open_repo
from ..results import GcResult
from ..storage.tree import is_tree
from ..worktree.linked import work_trees
from ..worktree.workspace import find_pointers


def referenced_oids(r: Repo) -> set[str]:
    """Objects that some version of some artifact, or a pointer in a work tree sharing the store
    (this one, and the main and linked git worktrees), needs.

    Raises:
        HpcfairError: a ref, record or tree cannot be read (gc then deletes nothing).
    """
    tops = {r.records.get(vid, VersionRecord).oid for ref in r.refs.all() for vid in ref.versions}
    for root in work_trees(r.shared, r.root):
        for pointer_file in find_pointers(root):
            tops.add(pointer_mod.read(pointer_file).oid)
    needed = set(tops)
    for oid in tops:
        if is_tree(oid) and r.store.exists(oid):
            needed.update(r.store.read_tree(oid).values())
    return needed


def gc(*, repo: Repo | str | None = None, dry_run: bool = False) -> GcResult:
    """Remove unreferenced objects and the temporary files of dead processes.

    Raises:
        HpcfairError: anything unreadable while computing what is referenced; nothing is deleted then.
    """
    r = open_repo(repo)
    with r.lock:
        try:
            needed = referenced_oids(r)
        except HpcfairError as exc:
            exc.hint = "gc deleted nothing; fix this first (`hpcfair fsck`, `hpcfair status`)"
            raise
        removed = freed = kept = 0
        for oid in list(r.store.iter_oids()):
            if oid in needed:
                kept += 1
                continue
            removed += 1
            freed += r.store.path(oid).stat().st_size if dry_run else r.store.remove(oid)
        if not dry_run:
            remove_dead_owners(r.owners_dir)
        removed_tmp = 0 if dry_run else remove_stale_tmp(Path(r.tmp_dir))
    return GcResult(removed_objects=removed, freed_bytes=freed, kept_objects=kept,
                    removed_tmp=removed_tmp, dry_run=dry_run)
