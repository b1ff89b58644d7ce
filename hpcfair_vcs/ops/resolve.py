"""Turning what a user types (``encoder``, ``encoder@3``, ``encoder@prod``, a PID) into a version."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import ArtifactNotFoundError, MissingObjectError, UsageError, VersionNotFoundError
from ..storage.records import PID_PREFIX, MetadataRecord, VersionRecord, pid_of
from ..storage.refs import ArtifactRef, check_name
from ..repo import Repo
from ..results import VersionInfo


@dataclass
class Resolved:
    ref: ArtifactRef | None  # None for a PID whose artifact is not known here
    version_id: str
    record: VersionRecord

    @property
    def number(self) -> int:
        if self.ref and self.version_id in self.ref.versions:
            return self.ref.number_of(self.version_id)
        return self.record.number


def require_model(source: Resolved, what: str, hint: str = "") -> Resolved:
    """*source*, if it is a model. Raises UsageError "NAME is a dataset; WHAT" otherwise."""
    if source.record.kind != "model":
        raise UsageError(f"{source.record.artifact} is a dataset; {what}", hint=hint or None)
    return source


def split_spec(spec: str) -> tuple[str, str | None]:
    name, _, version = spec.partition("@")
    return name, (version or None)


def resolve(repo: Repo, spec: str) -> Resolved:
    """Resolve ``NAME[@VERSION|@TAG]`` or a PID (full or an unambiguous prefix).

    Raises:
        ArtifactNotFoundError: no artifact or record matches.
        VersionNotFoundError: the artifact has no such version or tag.
    """
    name, version = split_spec(spec)
    ref = repo.refs.find(name) if not name.startswith(PID_PREFIX) else None
    if ref is None:
        record_id = repo.records.resolve_prefix(spec)
        if record_id is None:
            raise ArtifactNotFoundError(f"no artifact or PID matches {spec!r}", name=spec)
        record = repo.records.get(record_id, VersionRecord)
        return Resolved(repo.refs.find(record.artifact), record_id, record)
    version_id = _version_in_ref(repo, ref, version)
    return Resolved(ref, version_id, repo.records.get(version_id, VersionRecord))


def _version_in_ref(repo: Repo, ref: ArtifactRef, version: str | None) -> str:
    if not ref.versions:
        raise VersionNotFoundError(f"artifact {ref.name!r} has no versions", name=ref.name)
    if version is None or version == "latest":
        return ref.versions[-1]
    digits = version[1:] if version[:1] in ("v", "V") and version[1:].isdigit() else version
    if digits.isdigit():
        number = int(digits)
        if 1 <= number <= len(ref.versions):
            return ref.versions[number - 1]
        raise VersionNotFoundError(f"artifact {ref.name!r} has no version {number} "
                                   f"(it has 1 to {len(ref.versions)})", name=ref.name, version=version)
    if version in ref.tags:
        return ref.tags[version]
    record_id = repo.records.resolve_prefix(version)
    if record_id in ref.versions:
        return record_id
    check_name(version, "version or tag")
    raise VersionNotFoundError(f"artifact {ref.name!r} has no version or tag {version!r}")


def describe(repo: Repo, resolved: Resolved) -> VersionInfo:
    """The full picture of one version, for show and log."""
    record = resolved.record
    ref = resolved.ref
    metadata_id = (ref.metadata_of(resolved.version_id) if ref else None) or record.metadata
    metadata = {}
    if metadata_id and repo.records.exists(metadata_id):
        doc = repo.records.get(metadata_id, MetadataRecord).to_dict()
        metadata = {k: v for k, v in doc.items() if k not in ("type", "name", "kind", "previous", "changed") and v}
    return VersionInfo(
        artifact=record.artifact, number=resolved.number, pid=pid_of(resolved.version_id),
        kind=record.kind, oid=record.oid, size=record.object["size"],
        nfiles=record.object["nfiles"], path=ref.path if ref else record.path,
        created=record.created, parent=pid_of(record.parent) if record.parent else None,
        tags=ref.tags_of(resolved.version_id) if ref else [], metadata=metadata,
        stored=repo.store.exists(record.oid))


def describe_id(repo: Repo, ref: ArtifactRef, version_id: str) -> VersionInfo:
    return describe(repo, Resolved(ref, version_id, repo.records.get(version_id, VersionRecord)))


def stored_path(repo: Repo, version: VersionRecord) -> Path:
    """Where *version*'s bytes are in the local store.

    Raises:
        MissingObjectError: they are not here yet (a clone that pulled other things), with the pull to run.
    """
    path = repo.store.path(version.oid)
    if not path.exists():
        spec = f"{version.artifact}@{version.number}"
        raise MissingObjectError(f"the data of {spec} (object {version.oid[:12]}) is not in this repository",
                                 hint=f"run `hpcfair pull {spec}` to fetch it from a remote")
    return path
