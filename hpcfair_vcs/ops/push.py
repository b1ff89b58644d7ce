"""``hpcfair push``: send objects, records and refs of artifacts to a remote."""

from __future__ import annotations

from collections.abc import Sequence
from ..progress import SILENT, Progress, advance_of
from ..storage.records import VersionRecord, pid_of
from ..remotes.connect import open_remote
from ..remotes.sync import (local_odb, merge_refs, objects_of, probe, read_remote_refs, records_needed,
                            upload, write_remote_index, write_remote_ref)
from ..repo import Repo, open_repo
from ..results import TransferSummary
from ..errors import RemoteError


def push(artifacts: Sequence[str] = (), *, repo: Repo | str | None = None, remote: str | None = None,
         jobs: int | None = None, progress: Progress = SILENT, accept_new_host: bool = False) -> TransferSummary:
    """Upload every version of *artifacts* (default: all) with their records and refs.

    Objects go first, then records, then refs, so a remote never names what it
    lacks. Rerunning after an interruption sends only what is missing.
    *progress* sees one phase, the object bytes sent.

    Raises:
        ArtifactNotFoundError, RemoteNotFoundError, RemoteError (exit 4).
    """
    r = open_repo(repo)
    rem = open_remote(r, remote, accept_new_host=accept_new_host)
    if rem.read_only:
        raise RemoteError(f"remote {rem.name!r} ({rem.shown_url}) is read-only", hint="push to another remote",
                          remote=rem.name)
    refs = [r.refs.get(name) for name in artifacts] if artifacts else r.refs.all()
    summary = TransferSummary(remote=rem.name)
    sizes: dict[str, int] = {}  # every object to send, by id
    unsendable: set[str] = set()
    for ref in refs:
        for number, version_id in enumerate(ref.versions, start=1):
            needed, complete = objects_of(r, r.records.get(version_id, VersionRecord).oid)
            if complete:
                sizes.update(needed)
            else:
                unsendable.add(version_id)
                summary.missing_locally.append(f"{ref.name} v{number} ({pid_of(version_id)})")
    probe(rem, create=True)
    progress.start("push", None, "B")
    moved = upload(r, rem, local_odb(r.store.root), set(sizes), sizes, jobs, advance_of(progress))
    summary.objects_transferred, summary.objects_skipped = len(moved.transferred), moved.skipped
    summary.objects_failed, summary.bytes_transferred = sorted(moved.failed), moved.nbytes
    if moved.failed:
        return summary  # refs would name objects the remote lacks; rerun to resume
    record_ids = records_needed(r, refs)
    records = upload(r, rem, local_odb(r.records.root), record_ids, {}, jobs, subdir="records")
    summary.records_transferred = len(records.transferred)
    if records.failed:
        summary.objects_failed = sorted(records.failed)
        return summary
    theirs = {ref.name: ref for ref in read_remote_refs(rem)}
    for ref in refs:
        sendable = [v for v in ref.versions if v not in unsendable]
        if not sendable and ref.name not in theirs:
            continue  # a ref naming no version the remote holds; one it has still takes our metadata
        ours = type(ref).from_dict({**ref.to_dict(), "versions": sendable,
                                    "tags": {t: v for t, v in ref.tags.items() if v in sendable}})
        merged = merge_refs(ours, theirs[ref.name], r) if ref.name in theirs else ours
        if ref.name not in theirs or merged.to_dict() != theirs[ref.name].to_dict():
            write_remote_ref(r, rem, merged)
            summary.refs_updated.append(ref.name)
    if summary.refs_updated:
        write_remote_index(r, rem, set(theirs) | set(summary.refs_updated))
    return summary


