"""``hpcfair log``, ``show`` and ``tag``: reading and labelling an artifact's versions."""

from __future__ import annotations


from ..errors import InvalidNameError, VersionNotFoundError
from ..storage.records import ProvenanceRecord, RuntimeRecord, VersionRecord, pid_of
from ..storage.refs import check_tag
from ..repo import Repo, open_repo
from ..results import DerivedForm, LogResult, ProvenanceInfo, RuntimeInfo, TagResult, VersionInfo
from .derived import derived_forms
from .resolve import describe, describe_id, resolve, split_spec


def log(artifact: str | None = None, *, repo: Repo | str | None = None) -> LogResult:
    """Versions of *artifact*, newest first; without one, every artifact's versions, newest first.

    Raises:
        ArtifactNotFoundError: *artifact* is unknown.
    """
    r = open_repo(repo)
    refs = [r.refs.get(artifact)] if artifact else r.refs.all()
    versions = [describe_id(r, ref, vid) for ref in refs for vid in ref.versions]
    versions.sort(key=lambda v: (v.created, v.number), reverse=True)
    return LogResult(versions)


def show(spec: str, *, repo: Repo | str | None = None) -> VersionInfo:
    """One version: ``NAME``, ``NAME@3``, ``NAME@v3``, ``NAME@TAG`` or a PID.

    Raises:
        ArtifactNotFoundError, VersionNotFoundError.
    """
    r = open_repo(repo)
    resolved = resolve(r, spec)
    info = describe(r, resolved)
    info.provenance = provenance_of(r, resolved.record)
    info.derived = [DerivedForm(ref.name, ref.number_of(vid), pid_of(vid))
                    for ref, vid in derived_forms(r, resolved.record.oid)]
    return info


def provenance_of(r: Repo, record: VersionRecord) -> ProvenanceInfo | None:
    """How a derived version was made, its sources named as NAME@N when they are known here."""
    if not record.provenance or not r.records.exists(record.provenance):
        return None
    p = r.records.get(record.provenance, ProvenanceRecord)
    runtime = None
    if p.runtime and r.records.exists(p.runtime):
        m = r.records.get(p.runtime, RuntimeRecord)
        runtime = RuntimeInfo(m.python, m.platform, m.packages, m.hardware, m.hyperparameters)
    return ProvenanceInfo(p.activity, [_label(r, vid) for vid in p.derived_from], p.source_oids, p.generated_by,
                          p.parameters, p.results, runtime)


def _label(r: Repo, version_id: str) -> str:
    if r.records.exists(version_id):
        record = r.records.get(version_id, VersionRecord)
        ref = r.refs.find(record.artifact)
        if ref and version_id in ref.versions:
            return f"{ref.name}@{ref.number_of(version_id)} ({pid_of(version_id)})"
    return pid_of(version_id)


def tag(spec: str, tag_name: str, *, repo: Repo | str | None = None, delete: bool = False) -> TagResult:
    """Put *tag_name* on a version (moving it if it labelled another), or delete it.

    Raises:
        InvalidNameError: a tag that looks like a version number.
        VersionNotFoundError: deleting a tag that does not exist.
    """
    r = open_repo(repo)
    if delete:
        _check_delete_spec(spec)
    else:
        check_tag(tag_name)
    with r.lock:
        name = split_spec(spec)[0]
        ref = r.refs.get(name) if delete else resolve(r, spec).ref
        if ref is None:
            raise InvalidNameError(f"{spec!r} is not an artifact of this repository",
                                   hint="tag artifacts by name: hpcfair tag NAME@VERSION TAG")
        if delete:
            if tag_name not in ref.tags:
                raise VersionNotFoundError(f"artifact {ref.name!r} has no tag {tag_name!r}")
            old = ref.tags.pop(tag_name)
            r.refs.write(ref, ref.head)
            return TagResult(ref.name, tag_name, ref.number_of(old), pid_of(old), deleted=True)
        version_id = resolve(r, spec).version_id
        previous = ref.tags.get(tag_name)
        ref.tags[tag_name] = version_id
        r.refs.write(ref, ref.head)
    moved = ref.number_of(previous) if previous and previous != version_id else None
    return TagResult(ref.name, tag_name, ref.number_of(version_id), pid_of(version_id), moved_from=moved)


def _check_delete_spec(spec: str) -> None:
    if "@" in spec:
        raise InvalidNameError("give only the artifact name when deleting a tag",
                               hint="hpcfair tag --delete NAME TAG")
