"""``hpcfair fetch`` (records and refs only) and ``hpcfair pull`` (objects too, then checkout)."""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import NamedTuple

from ..errors import CorruptRecordError, HpcfairError, UsageError
from ..worktree.materialize import will_copy
from ..progress import SILENT, Progress, advance_of
from ..storage.records import MetadataRecord, VersionRecord
from ..storage.refs import ArtifactRef
from ..storage.spares import SpareCopies
from ..remotes.connect import Remote, open_remote
from ..remotes.sync import adopt_record, download, linked_records, merge_refs, objects_of, probe, read_remote_refs
from ..repo import Repo, open_repo
from ..results import CheckoutItem, MissingData, TransferSummary
from ..storage.tree import is_tree
from ..validate import MAX_PATH_BYTES
from ..worktree.workspace import find_pointers, to_relpath
from .checkout import restore
from .derived import derived_forms
from .resolve import resolve


def fetch(*, repo: Repo | str | None = None, remote: str | None = None, jobs: int | None = None,
          accept_new_host: bool = False, progress: Progress = SILENT) -> TransferSummary:
    """Download every ref and the records they name; merge the refs into the local ones.

    Afterwards ``show``, ``log`` and ``search`` know the remote's artifacts, PIDs resolve,
    and ``pull`` can fetch their bytes. *progress* sees the records downloaded (unit "record").

    Raises:
        RemoteNotFoundError, RemoteError (exit 4), CorruptRecordError (a bad remote ref, exit 3).
    """
    r = open_repo(repo)
    rem = open_remote(r, remote, accept_new_host=accept_new_host)
    summary = TransferSummary(remote=rem.name)
    _fetch_into(r, rem, summary, jobs, progress)
    return summary


def fetch_holding(r: Repo, remote: str | None) -> set[str]:
    """``fetch``, answering which artifacts the remote holds (its refs are read once)."""
    rem = open_remote(r, remote)
    return {ref.name for ref in _fetch_into(r, rem, TransferSummary(remote=rem.name), None, SILENT)}


def _fetch_into(r: Repo, rem: Remote, summary: TransferSummary, jobs: int | None,
                progress: Progress) -> list[ArtifactRef]:
    """Fetch into *r*; the remote's refs as read (before merging)."""
    probe(rem, create=False)
    theirs = read_remote_refs(rem)
    metadata = {m for ref in theirs for m in (ref.metadata, *ref.version_metadata.values()) if m}
    wanted = {v for ref in theirs for v in ref.versions} | metadata
    versions = {v for ref in theirs for v in ref.versions}
    for round in range(MAX_ROUNDS):  # versions and metadata, the records they name, then metadata's history
        missing = {i for i in wanted if not r.records.exists(i)}
        if not missing and round >= 2:
            break
        if missing:
            progress.start("fetch", len(missing), "record")
        moved = download(r, rem, rem.records, missing, adopt_record(r, progress.advance), jobs, subdir="records")
        summary.records_transferred += len(moved.transferred)
        summary.objects_corrupt += sorted(moved.corrupt)
        summary.objects_failed += sorted(moved.failed)
        metadata = {_previous(r, m) for m in metadata} - {None}  # one step further back each round
        wanted = {i for v in versions if r.records.exists(v) for i in linked_records(r, v)} | metadata
    with r.lock:
        for ref in theirs:
            usable = [v for v in ref.versions if r.records.exists(v)]
            ref.versions = usable
            ref.tags = {t: v for t, v in ref.tags.items() if v in usable}
            ref.version_metadata = {v: m for v, m in ref.version_metadata.items()
                                    if v in usable and r.records.exists(m)}
            if ref.metadata and not r.records.exists(ref.metadata):
                ref.metadata = None
            ours = r.refs.find(ref.name)
            merged = merge_refs(ours, ref, r)
            if ours is None or merged.to_dict() != ours.to_dict():
                r.refs.write(merged, ours.head if ours else None)
                summary.refs_updated.append(ref.name)
    return theirs


def _previous(r: Repo, metadata_id: str) -> str | None:
    """The metadata record *metadata_id* replaced, when *metadata_id* is stored here."""
    if not r.records.exists(metadata_id):
        return None
    return r.records.get(metadata_id, MetadataRecord).previous


def pull(targets: Sequence[str] = (), *, repo: Repo | str | None = None, remote: str | None = None,
         jobs: int | None = None, force: bool = False, progress: Progress = SILENT,
         accept_new_host: bool = False, only: str | None = None) -> TransferSummary:
    """Fetch, download the objects *targets* need (default: every pointer file), check them out.

    Targets are ``NAME[@VERSION|@TAG]``, PIDs or paths. Each object is verified by its
    sha256 before it enters the store; a corrupt one is reported (exit 3) and its
    target is not checked out, while the others still are. ``only="onnx"`` pulls
    and checks out each target's ONNX form instead of the target itself (targets
    without one are listed in ``no_derived_form``). *progress* sees three phases: the records
    fetched, the object bytes downloaded and the files checked out.

    Raises:
        RemoteNotFoundError, RemoteError (exit 4), UsageError (an unknown *only*).
    """
    r = open_repo(repo)
    rem = open_remote(r, remote, accept_new_host=accept_new_host)
    summary = TransferSummary(remote=rem.name)
    _fetch_into(r, rem, summary, jobs, progress)
    wanted = _wanted(r, targets)
    if only is not None:
        wanted = _derived_forms(r, wanted, only, summary)
    links = list(r.config["core"]["link_types"])
    # big objects about to be checked out by copying are copied to the work tree while received
    with SpareCopies(r.tmp_dir) if will_copy(r.store, links) else nullcontext() as spares:
        adopt = functools.partial(r.store.adopt, spares=spares)
        tops = {want.oid for want in wanted.values() if not r.store.exists(want.oid)}
        progress.start("pull", None, "B")
        moved = download(r, rem, rem.objects, tops, adopt, jobs, advance_of(progress), limits=_top_limits(wanted),
                         spares=spares)
        _count(summary, moved)
        missing = moved.missing
        children: dict[str, int] = {}  # id -> the most bytes its folder's record allows
        for want in wanted.values():
            if is_tree(want.oid) and r.store.exists(want.oid):
                for child in r.store.read_tree(want.oid).values():
                    if not r.store.exists(child):
                        children[child] = max(children.get(child, 0), want.size)
        moved = download(r, rem, rem.objects, set(children), adopt, jobs, advance_of(progress), limits=children,
                         spares=spares)
        _count(summary, moved)
        summary.missing_on_remote = _missing_data(r, wanted, missing | moved.missing)
        ready = [spec for spec, want in wanted.items() if _complete(r, want.oid)]
        lies = {spec: item for spec in ready if (item := _size_lie(r, spec, wanted[spec]))}
        summary.checkout = list(lies.values())
        ready = [spec for spec in ready if spec not in lies]
        if ready:
            summary.checkout += restore(r, ready, force=force, link_types=links, progress=progress,
                                        spares=spares).items
    return summary


class Want(NamedTuple):
    """What a pull target's record (or pointer file) says its data is: the top object, bytes and files."""

    oid: str
    size: int
    nfiles: int


MAX_ROUNDS = 1000  # record downloads per fetch: metadata history deeper than this stays on the remote
MANIFEST_BYTES_PER_FILE = MAX_PATH_BYTES + 100  # a manifest line: the path, the id and JSON around them


def _top_limits(wanted: dict[str, Want]) -> dict[str, int]:
    """How many bytes each top object may hold: a file's declared size, a manifest's bound for its files."""
    limits: dict[str, int] = {}
    for want in wanted.values():
        bound = 2 + want.nfiles * MANIFEST_BYTES_PER_FILE if is_tree(want.oid) else want.size
        limits[want.oid] = max(limits.get(want.oid, 0), bound)
    return limits


def _size_lie(r: Repo, spec: str, want: Want) -> CheckoutItem | None:
    """A failed item when the stored data's size or file count is not what its record declares."""
    sizes, _ = objects_of(r, want.oid)
    if is_tree(want.oid):
        files = r.store.read_tree(want.oid)
        size, nfiles = sum(sizes[child] for child in files.values()), len(files)
    else:
        size, nfiles = sizes[want.oid], 1
    if (size, nfiles) == (want.size, want.nfiles):
        return None
    artifact, path = _artifact_and_path(r, spec)
    return CheckoutItem(path=path, artifact=artifact, version=None, action="failed", exit_code=3,
                        error=f"its record declares {want.size} bytes in {want.nfiles} files, but the data the "
                              f"remote sent has {size} bytes in {nfiles} ({CorruptRecordError.default_hint})")


def _count(summary: TransferSummary, moved) -> None:
    summary.objects_transferred += len(moved.transferred)
    summary.objects_skipped += moved.skipped
    summary.objects_failed += sorted(moved.failed)
    summary.objects_corrupt += sorted(moved.corrupt)
    summary.bytes_transferred += moved.nbytes


def _missing_data(r: Repo, wanted: dict[str, Want], missing: set[str]) -> list[MissingData]:
    """The wanted artifacts whose object, or one of whose folder's files, the remote lacks."""
    found: list[MissingData] = []
    if not missing:
        return found
    for spec, want in wanted.items():
        oid = want.oid
        needed = {oid}
        if is_tree(oid) and r.store.exists(oid):
            needed |= set(r.store.read_tree(oid).values())
        lacking = sorted(missing & needed)
        if lacking:
            artifact, path = _artifact_and_path(r, spec)
            found.append(MissingData(artifact=artifact, path=path, oid=lacking[0]))
    return found


def _artifact_and_path(r: Repo, spec: str) -> tuple[str, str]:
    """The artifact and work-tree path a pull target (a pointer file found by ``_wanted``, a name or PID) names."""
    from ..worktree import pointer as pointer_mod

    if spec.endswith(pointer_mod.SUFFIX):
        return pointer_mod.read(Path(spec)).artifact, to_relpath(r.root, Path(spec.removesuffix(pointer_mod.SUFFIX)))
    record = resolve(r, spec).record
    return record.artifact, record.path


def _wanted(r: Repo, targets: Sequence[str]) -> dict[str, Want]:
    """Each target (none: every pointer file) -> what its data is said to be."""
    from ..worktree import pointer as pointer_mod

    if not targets:
        found = {}
        for pointer_file in find_pointers(r.root):
            try:
                pointer = pointer_mod.read(pointer_file)
            except HpcfairError:
                continue  # status reports corrupt pointers
            found[os.fspath(pointer_file)] = Want(pointer.oid, pointer.size, pointer.nfiles)
        return found
    return {spec: _want_of(resolve(r, spec).record) for spec in targets}


def _want_of(record: VersionRecord) -> Want:
    return Want(record.oid, record.object["size"], record.object["nfiles"])


DERIVED_KINDS = {"onnx": "convert"}  # --only value -> the activity that makes that form


def _derived_forms(r: Repo, wanted: dict[str, Want], only: str, summary: TransferSummary) -> dict[str, Want]:
    """Replace each target by its derived form (``NAME.onnx@N``); an ONNX artifact stays itself."""
    if only not in DERIVED_KINDS:
        raise UsageError(f"--only {only!r} is not a derived kind", hint=f"use one of {', '.join(DERIVED_KINDS)}")
    forms: dict[str, Want] = {}
    for spec, want in wanted.items():
        found = derived_forms(r, want.oid, DERIVED_KINDS[only])
        if found:
            ref, version_id = found[0]
            forms[f"{ref.name}@{ref.number_of(version_id)}"] = _want_of(r.records.get(version_id, VersionRecord))
        elif _is_derived(r, spec):
            forms[spec] = want
        else:
            summary.no_derived_form.append(spec)
    return forms


def _is_derived(r: Repo, spec: str) -> bool:
    """Whether *spec* (a name, a PID, or a pointer file found by ``_wanted``) is a derived version."""
    from ..worktree import pointer as pointer_mod

    try:
        target = pointer_mod.read(Path(spec)).pid if spec.endswith(pointer_mod.SUFFIX) else spec
        return bool(resolve(r, target).record.provenance)
    except HpcfairError:
        return False


def _complete(r: Repo, oid: str) -> bool:
    return objects_of(r, oid)[1]
