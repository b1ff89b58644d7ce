"""``hpcfair fetch`` (records and refs only) and ``hpcfair pull`` (objects too, then checkout)."""

from __future__ import annotations

import os
from pathlib import Path
from collections.abc import Sequence

from ..errors import HpcfairError, UsageError
from ..materialize import will_copy
from ..progress import SILENT, Progress, advance_of
from ..records import VersionRecord
from ..remotes.connect import Remote, open_remote
from ..remotes.sync import adopt_record, download, linked_records, merge_refs, objects_of, probe, read_remote_refs
from ..repo import Repo, open_repo
from ..results import MissingData, TransferSummary
from ..tree import is_tree
from ..workspace import find_pointers, to_relpath
from .checkout import checkout
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


def _fetch_into(r: Repo, rem: Remote, summary: TransferSummary, jobs: int | None, progress: Progress) -> None:
    probe(rem, create=False)
    theirs = read_remote_refs(rem)
    wanted = {v for ref in theirs for v in ref.versions} | {ref.metadata for ref in theirs if ref.metadata}
    versions = {v for ref in theirs for v in ref.versions}
    for _ in range(3):  # versions, then the metadata and provenance they name, then runtime records
        missing = {i for i in wanted if not r.records.exists(i)}
        if missing:
            progress.start("fetch", len(missing), "record")
        moved = download(r, rem, rem.records, missing, adopt_record(r, progress.advance), jobs, subdir="records")
        summary.records_transferred += len(moved.transferred)
        summary.objects_corrupt += sorted(moved.corrupt)
        summary.objects_failed += sorted(moved.failed)
        wanted = {i for v in versions if r.records.exists(v) for i in linked_records(r, v)}
    with r.lock:
        for ref in theirs:
            usable = [v for v in ref.versions if r.records.exists(v)]
            ref.versions = usable
            ref.tags = {t: v for t, v in ref.tags.items() if v in usable}
            ours = r.refs.find(ref.name)
            merged = merge_refs(ours, ref)
            if ours is None or merged.to_dict() != ours.to_dict():
                r.refs.write(merged, ours.head if ours else None)
                summary.refs_updated.append(ref.name)


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
    wanted = _wanted(r, targets)  # spec -> top object id
    if only is not None:
        wanted = _derived_forms(r, wanted, only, summary)
    adopt = r.store.adopt
    # big objects about to be checked out by copying are copied to the work tree while received
    r.store.make_spares = will_copy(r.store, list(r.config["core"]["link_types"]))
    try:
        tops = {oid for oid in wanted.values() if oid and not r.store.exists(oid)}
        progress.start("pull", None, "B")
        moved = download(r, rem, rem.objects, tops, adopt, jobs, advance_of(progress))
        _count(summary, moved)
        missing = moved.missing
        children = set()
        for oid in wanted.values():
            if oid and is_tree(oid) and r.store.exists(oid):
                children |= {c for c in r.store.read_tree(oid).values() if not r.store.exists(c)}
        moved = download(r, rem, rem.objects, children, adopt, jobs, advance_of(progress))
        _count(summary, moved)
        summary.missing_on_remote = _missing_data(r, wanted, missing | moved.missing)
        ready = [spec for spec, oid in wanted.items() if oid and _complete(r, oid)]
        if ready:
            summary.checkout = checkout(ready, repo=r, force=force, progress=progress).items
    finally:
        r.store.drop_spares()
    return summary


def _count(summary: TransferSummary, moved) -> None:
    summary.objects_transferred += len(moved.transferred)
    summary.objects_skipped += moved.skipped
    summary.objects_failed += sorted(moved.failed)
    summary.objects_corrupt += sorted(moved.corrupt)
    summary.bytes_transferred += moved.nbytes


def _missing_data(r: Repo, wanted: dict[str, str | None], missing: set[str]) -> list[MissingData]:
    """The wanted artifacts whose object, or one of whose folder's files, the remote lacks."""
    found: list[MissingData] = []
    if not missing:
        return found
    for spec, oid in wanted.items():
        if not oid:
            continue
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
    from .. import pointer as pointer_mod

    if spec.endswith(pointer_mod.SUFFIX):
        return pointer_mod.read(Path(spec)).artifact, to_relpath(r.root, Path(spec.removesuffix(pointer_mod.SUFFIX)))
    record = resolve(r, spec).record
    return record.artifact, record.path


def _wanted(r: Repo, targets: Sequence[str]) -> dict[str, str | None]:
    from .. import pointer as pointer_mod

    if not targets:
        found = {}
        for pointer_file in find_pointers(r.root):
            try:
                found[os.fspath(pointer_file)] = pointer_mod.read(pointer_file).oid
            except HpcfairError:
                continue  # status reports corrupt pointers
        return found
    return {spec: resolve(r, spec).record.oid for spec in targets}


DERIVED_KINDS = {"onnx": "convert"}  # --only value -> the activity that makes that form


def _derived_forms(r: Repo, wanted: dict[str, str | None], only: str,
                   summary: TransferSummary) -> dict[str, str | None]:
    """Replace each target by its derived form (``NAME.onnx@N``); an ONNX artifact stays itself."""
    if only not in DERIVED_KINDS:
        raise UsageError(f"--only {only!r} is not a derived kind", hint=f"use one of {', '.join(DERIVED_KINDS)}")
    forms: dict[str, str | None] = {}
    for spec, oid in wanted.items():
        found = derived_forms(r, oid, DERIVED_KINDS[only]) if oid else []
        if found:
            ref, version_id = found[0]
            forms[f"{ref.name}@{ref.number_of(version_id)}"] = r.records.get(version_id, VersionRecord).oid
        elif _is_derived(r, spec):
            forms[spec] = oid
        else:
            summary.no_derived_form.append(spec)
    return forms


def _is_derived(r: Repo, spec: str) -> bool:
    """Whether *spec* (a name, a PID, or a pointer file found by ``_wanted``) is a derived version."""
    from .. import pointer as pointer_mod

    try:
        target = pointer_mod.read(Path(spec)).pid if spec.endswith(pointer_mod.SUFFIX) else spec
        return bool(resolve(r, target).record.provenance)
    except HpcfairError:
        return False


def _complete(r: Repo, oid: str) -> bool:
    return objects_of(r, oid)[1]
