"""Derived artifacts: versions made from other versions (ONNX forms, composed and optimized models).

A derived version is an ordinary version whose ``provenance`` record names the
versions it came from. Its artifact is not checked out by default (it has no
pointer file until ``hpcfair checkout NAME`` or ``pull --only onnx`` places
it); ``derived_forms`` finds the derived versions of a source by its content.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..version import __version__
from ..fileio.tmpfiles import tmp_name
from ..deps import installed_versions
from ..errors import NameConflictError
from ..storage.records import MetadataRecord, ProvenanceRecord, RuntimeRecord, VersionRecord, utc_now
from ..storage.refs import ArtifactRef, check_name
from ..repo import Repo
from ..storage.store import Staged


@dataclass
class NewVersion:
    """What to record for one derived version (its bytes are staged or stored already)."""

    name: str
    path: str  # repository-relative path it is checked out to
    staged: Staged
    provenance: ProvenanceRecord
    runtime: RuntimeRecord | None
    metadata: MetadataRecord


# The activities whose versions are forms hpcfair made of others (kept in the store, no pointer until checked
# out). A job's outputs ("job") and stored inference results ("infer") are ordinary tracked artifacts that have
# provenance too.
DERIVED_ACTIVITIES = ("convert", "compose", "optimize")
JOB = "job"
INFER = "infer"


def is_derived_form(repo: Repo, version: VersionRecord) -> bool:
    """A form hpcfair made of another version (converted, composed, optimized), not a job's or infer's output."""
    if not version.provenance:
        return False
    if not repo.records.exists(version.provenance):
        return True
    return repo.records.get(version.provenance, ProvenanceRecord).activity in DERIVED_ACTIVITIES


def derived_name(source: str, suffix: str) -> str:
    return check_name(f"{source[: 128 - len(suffix)]}{suffix}")


def derived_path(repo: Repo, source_path: str, name: str, suffix: str) -> str:
    """``models/enc.pt`` -> ``models/enc.onnx``, unless another artifact owns that path."""
    plain = PurePosixPath(source_path)
    candidates = [str(plain.with_suffix(suffix)) if plain.suffix else f"{plain}{suffix}", f"{plain}{suffix}"]
    for candidate in candidates:
        owner = repo.catalog.by_path(candidate)
        if owner is None or owner.name == name:
            return candidate
    return candidates[-1]


def path_beside(source_path: str, name: str) -> str:
    """``models/enc.onnx`` + ``autoencoder`` -> ``models/autoencoder.onnx``."""
    return str(PurePosixPath(source_path).parent / f"{name}.onnx").removeprefix("./")


def record_version(repo: Repo, new: NewVersion) -> tuple[ArtifactRef, str, bool]:
    """Store the staged bytes and the records and move the ref (call under the repository lock).

    Returns (ref, version id, whether a new version was made): when the
    artifact's head already holds these bytes, no version is added. The staged
    file is committed or, on any error, discarded.

    Raises:
        NameConflictError: *name* belongs to an artifact that is not derived (nothing is stored).
    """
    try:
        ref = repo.refs.find(new.name)
        if ref is not None and ref.head and not repo.records.get(ref.head, VersionRecord).provenance:
            raise NameConflictError(f"the name {new.name!r} belongs to an artifact that was not derived from "
                                    "another", hint="pass --name to store the result under another name")
        repo.store.commit([new.staged])
    finally:
        repo.store.discard([new.staged])
    expected = ref.head if ref else None
    ref = ref or ArtifactRef(name=new.name, kind="model", path=new.path)
    ref.metadata = repo.records.put(new.metadata)
    head = repo.records.get(ref.head, VersionRecord) if ref.head else None
    made = head is None or head.oid != new.staged.oid
    if made:
        if new.runtime is not None:
            new.provenance.runtime = repo.records.put(new.runtime)
        record = VersionRecord(
            artifact=new.name, kind="model", number=len(ref.versions) + 1,
            object={"oid": new.staged.oid, "size": new.staged.size, "nfiles": 1}, path=ref.path,
            parent=ref.head, created=utc_now(), tool={"name": "hpcfair", "version": __version__},
            metadata=ref.metadata, provenance=repo.records.put(new.provenance))
        ref.versions.append(repo.records.put(record))
    repo.refs.write(ref, expected)
    return ref, ref.versions[-1], made


def derived_forms(repo: Repo, source_oid: str, activity: str | None = None) -> list[tuple[ArtifactRef, str]]:
    """Every (ref, version id) derived from content *source_oid*, newest first per artifact."""
    return derived_index(repo, activity).get(source_oid, [])


def derived_index(repo: Repo, activity: str | None = None) -> dict[str, list[tuple[ArtifactRef, str]]]:
    """:func:`derived_forms` for every source at once (one walk of the refs): source oid -> its forms."""
    index: dict[str, list[tuple[ArtifactRef, str]]] = {}
    for ref in repo.refs.all():
        seen: set[str] = set()  # the sources this artifact's newer versions were made from
        for version_id in reversed(ref.versions):
            if not repo.records.exists(version_id):
                continue
            version = repo.records.get(version_id, VersionRecord)
            if not version.provenance or not repo.records.exists(version.provenance):
                continue
            provenance = repo.records.get(version.provenance, ProvenanceRecord)
            if activity is not None and provenance.activity != activity:
                continue
            for oid in set(provenance.source_oids) - seen:
                index.setdefault(oid, []).append((ref, version_id))
            seen.update(provenance.source_oids)
    return index


class scratch_dir:
    """A scratch folder under ``.hpcfair/tmp`` that is removed afterwards, whatever happens."""

    def __init__(self, r: Repo, prefix: str = "convert-") -> None:
        self.path = tmp_name(r.tmp_dir, prefix)

    def __enter__(self) -> Path:
        self.path.mkdir()
        return self.path

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def onnx_packages() -> dict[str, str]:
    """Versions of the ONNX packages, for the provenance of models hpcfair itself builds."""
    return installed_versions(["onnx", "onnxruntime"])
