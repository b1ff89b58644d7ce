"""``hpcfair status``: how each tracked path compares with its pointer and the store."""

from __future__ import annotations

from pathlib import Path

from .derived import is_derived_form
from ..worktree import pointer as pointer_mod
from ..errors import HpcfairError
from ..storage.records import VersionRecord
from ..storage.refs import ArtifactRef
from ..repo import Repo, open_repo
from ..results import StatusEntry, StatusResult
from ..worktree.workspace import WorkspaceHasher, find_pointers, to_relpath

IN_SYNC, MODIFIED, MISSING, NOT_STORED = "in sync", "modified", "missing", "not stored"
NO_POINTER, CORRUPT_POINTER, DERIVED = "no pointer", "corrupt pointer", "derived"


def status(*, repo: Repo | str | None = None) -> StatusResult:
    """One entry per pointer file in the work tree, plus artifacts whose pointer is gone.

    States: ``in sync``; ``modified`` (the data differs from the pointer);
    ``missing`` (the data is absent but stored: ``checkout`` restores it);
    ``not stored`` (the pointer's object is not in the local store: ``pull``);
    ``no pointer`` (a known artifact whose pointer file was deleted);
    ``corrupt pointer`` (the pointer file does not parse); ``derived`` (an
    artifact made from another, such as an ONNX form, that is not checked out:
    it lives in the store until ``checkout NAME`` places it).
    """
    r = open_repo(repo)
    hasher = WorkspaceHasher(r.root, r.state)
    entries = [_entry_for(r, hasher, path) for path in find_pointers(r.root)]
    seen = {e.path for e in entries}
    for ref in r.refs.all():
        if ref.path not in seen:
            entries.append(_without_pointer(r, ref))
    r.state.flush()
    return StatusResult(sorted(entries, key=lambda e: e.path))


def _without_pointer(r: Repo, ref: ArtifactRef) -> StatusEntry:
    derived = bool(ref.head and r.records.exists(ref.head)
                   and is_derived_form(r, r.records.get(ref.head, VersionRecord)))
    return StatusEntry(path=ref.path, artifact=ref.name, state=DERIVED if derived else NO_POINTER,
                       version=len(ref.versions) or None,
                       detail=f"`hpcfair checkout {ref.name}` " + ("places it" if derived else "writes it again"))


def _entry_for(r: Repo, hasher: WorkspaceHasher, pointer_file: Path) -> StatusEntry:
    data = pointer_mod.data_path(pointer_file)
    relpath = to_relpath(r.root, data)
    try:
        ptr = pointer_mod.read(pointer_file)
    except HpcfairError as exc:
        return StatusEntry(path=relpath, artifact="?", state=CORRUPT_POINTER, detail=exc.message)
    try:
        current = hasher.current_oid(data)
    except HpcfairError as exc:
        return StatusEntry(path=relpath, artifact=ptr.artifact, state=MODIFIED,
                           version=ptr.version, pid=ptr.pid, detail=exc.message)
    stored = r.store.exists(ptr.oid)
    if current is None:
        state = MISSING if stored else NOT_STORED
    elif current != ptr.oid:
        state = MODIFIED
    else:
        state = IN_SYNC if stored else NOT_STORED
    return StatusEntry(path=relpath, artifact=ptr.artifact, state=state, version=ptr.version, pid=ptr.pid)
