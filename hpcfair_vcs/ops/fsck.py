"""``hpcfair fsck``: re-hash every object and record; quarantine what is corrupt."""

from __future__ import annotations

import hashlib
import os

from ..errors import HpcfairError
from ..storage.records import VersionRecord
from ..repo import Repo, open_repo
from ..results import FsckProblem, FsckResult
from ..storage.tree import is_tree


def fsck(*, repo: Repo | str | None = None) -> FsckResult:
    """Check every object's sha256 (never trusting sizes or modes) and every record's id.

    Corrupt objects and records move to ``.hpcfair/quarantine/`` so nothing uses
    them again; ``hpcfair pull`` or ``add`` can then store a good copy. Objects
    that versions need but the store lacks are listed as ``missing``.
    """
    r = open_repo(repo)
    problems: list[FsckProblem] = []
    with r.lock:
        oids = list(r.store.iter_oids())
        for oid in oids:
            problems.extend(_check_object(r, oid))
        record_ids = list(r.records.iter_ids())
        for record_id in record_ids:
            problems.extend(_check_record(r, record_id))
        problems.extend(_missing(r))
    return FsckResult(checked_objects=len(oids), checked_records=len(record_ids), problems=problems)


def _check_object(r: Repo, oid: str) -> list[FsckProblem]:
    if not r.store.verify(oid):
        where = r.store.quarantine(oid, r.quarantine_dir)
        return [FsckProblem(oid, "corrupt", "its bytes do not match its sha256", os.fspath(where))]
    if is_tree(oid):
        try:
            r.store.read_tree(oid)
        except HpcfairError as exc:
            where = r.store.quarantine(oid, r.quarantine_dir)
            return [FsckProblem(oid, "corrupt", exc.message, os.fspath(where))]
    if not r.store.is_read_only(oid):
        os.chmod(r.store.path(oid), 0o444)
        return [FsckProblem(oid, "writable", "was writable; made read-only again")]
    return []


def _check_record(r: Repo, record_id: str) -> list[FsckProblem]:
    path = r.records.path(record_id)
    if hashlib.sha256(path.read_bytes()).hexdigest() == record_id:
        return []
    r.quarantine_dir.mkdir(parents=True, exist_ok=True)
    dest = r.quarantine_dir / f"record-{record_id}"
    os.replace(path, dest)
    return [FsckProblem(record_id, "corrupt record", "its bytes do not match its id", os.fspath(dest))]


def _missing(r: Repo) -> list[FsckProblem]:
    """One problem per missing object, naming the first version that needs it (and how many more do)."""
    problems: list[FsckProblem] = []
    needed_by: dict[str, list[str]] = {}
    for ref in r.refs.all():
        for number, version_id in enumerate(ref.versions, start=1):
            try:
                record = r.records.get(version_id, VersionRecord)
            except HpcfairError as exc:
                problems.append(FsckProblem(version_id, "missing", f"{ref.name} v{number}: {exc.message}"))
                continue
            wanted = [record.oid]
            if is_tree(record.oid) and r.store.exists(record.oid):
                wanted += list(r.store.read_tree(record.oid).values())
            for oid in wanted:
                if not r.store.exists(oid):
                    needed_by.setdefault(oid, []).append(f"{ref.name} v{number}")
    for oid, versions in needed_by.items():
        more = f" and {len(versions) - 1} more" if len(versions) > 1 else ""
        problems.append(FsckProblem(oid, "missing", f"needed by {versions[0]}{more}"))
    return problems
