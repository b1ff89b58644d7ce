"""Small content-addressed documents: versions and their descriptive metadata.

A record is a dataclass serialised canonically (sorted keys, fixed
separators, UTF-8), so the same content always gets the same id, the sha256
of those bytes. Records live in ``records/ab/cdef...`` (read-only) and travel
with push/pull. A version's id is its persistent identifier (PID).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import datetime, timezone
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar

from ..fileio.files import atomic_write
from ..errors import CorruptRecordError, VersionNotFoundError
from .refs import KINDS, NAME_RE, is_record_id
from .tree import is_valid_oid
from ..validate import is_count, is_str_list, is_tracked_path, refuse_bad_fields

PID_PREFIX = "hpcfair:"
_HEX = re.compile(r"[0-9a-f]+")
MIN_PREFIX = 7

T = TypeVar("T", bound="Record")


def canonical_bytes(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def utc_now() -> str:
    """The current time as ISO 8601 in UTC, to the microsecond (records' ``created``)."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def pid_of(record_id: str) -> str:
    return PID_PREFIX + record_id


@dataclass
class Record:
    TYPE = "record"

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.TYPE, **asdict(self)}

    @classmethod
    def from_dict(cls: type[T], doc: dict[str, Any]) -> T:
        """Raises ValueError or TypeError for anything but a well-formed record of this type."""
        if not isinstance(doc, dict) or doc.get("type") != cls.TYPE:
            raise ValueError(f"not a {cls.TYPE} record")
        names = {f.name for f in fields(cls)}
        record = cls(**{k: v for k, v in doc.items() if k in names})
        record.check()
        return record

    def check(self) -> None:
        """Raises ValueError for values no hpcfair writes (records arrive from remotes and clones)."""

    def record_id(self) -> str:
        return hashlib.sha256(canonical_bytes(self.to_dict())).hexdigest()


@dataclass
class VersionRecord(Record):
    """One immutable version of an artifact; its id is the PID."""

    TYPE = "version"
    artifact: str
    kind: str
    number: int
    object: dict[str, Any]  # what its bytes are: {"oid", "size" (total bytes), "nfiles"}
    path: str  # repository-relative posix path at the time it was added
    parent: str | None
    created: str  # ISO 8601, UTC
    tool: dict[str, str] = field(default_factory=dict)
    metadata: str | None = None  # id of the MetadataRecord given when it was added
    provenance: str | None = None  # id of the ProvenanceRecord of a derived version

    @property
    def oid(self) -> str:
        return self.object["oid"]

    def check(self) -> None:
        obj = self.object if isinstance(self.object, dict) else {}
        problems = [
            (not isinstance(self.artifact, str) or not NAME_RE.fullmatch(self.artifact), "artifact"),
            (self.kind not in KINDS, "kind"),
            (not is_count(self.number) or self.number < 1, "number"),
            (not isinstance(obj.get("oid"), str) or not is_valid_oid(obj["oid"]), "object.oid"),
            (not is_count(obj.get("size")) or not is_count(obj.get("nfiles")), "object.size"),
            (not is_tracked_path(self.path), "path"),
            (not all(v is None or is_record_id(v) for v in (self.parent, self.metadata, self.provenance)), "links"),
            (not isinstance(self.created, str) or not isinstance(self.tool, dict), "created"),
        ]
        refuse_bad_fields(problems)


@dataclass
class MetadataRecord(Record):
    """Descriptive metadata (the HPCFair 'Findable' part); keys and values: metadata/schema.py.

    Each change is a new record naming the one it replaced (``previous``), so metadata
    has a history that travels with push and pull. The keys added with that history are
    left out of the record's bytes while empty, so older records keep their ids.
    """

    TYPE = "metadata"
    name: str
    kind: str
    description: str = ""
    license: str = ""
    authors: list[str] = field(default_factory=list)
    framework: str = ""  # torch | tensorflow | sklearn | onnx, for models
    signature: dict[str, Any] = field(default_factory=dict)  # onnx_io.signature.Signature as a dict
    tags: list[str] = field(default_factory=list)
    task: str = ""
    domain: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)  # name -> number
    training_dataset: str = ""  # a PID
    citation: str = ""
    funding: list[str] = field(default_factory=list)
    previous: str | None = None  # the record this one replaced
    changed: str = ""  # when (ISO 8601, UTC), for a record that replaced another

    OPTIONAL = ("tags", "task", "domain", "metrics", "training_dataset", "citation", "funding", "previous", "changed")

    def to_dict(self) -> dict[str, Any]:
        doc = super().to_dict()
        return {k: v for k, v in doc.items() if k not in self.OPTIONAL or v}

    def revised(self, previous: str | None, **changes: Any) -> "MetadataRecord":
        """This metadata with *changes*, as a record that replaces the one with id *previous*; itself when
        nothing changes (so that an unchanged add or conversion writes no new record)."""
        if all(getattr(self, key) == value for key, value in changes.items()):
            return self
        return replace(self, **changes, previous=previous, changed=utc_now())

    def check(self) -> None:
        texts = (self.description, self.license, self.framework, self.task, self.domain, self.training_dataset,
                 self.citation, self.changed)
        refuse_bad_fields([
            (not isinstance(self.name, str) or not NAME_RE.fullmatch(self.name), "name"),
            (self.kind not in KINDS, "kind"),
            (not all(isinstance(v, str) for v in texts), "description"),
            (not is_str_list(self.authors) or not is_str_list(self.tags) or not is_str_list(self.funding), "authors"),
            (not _is_signature(self.signature), "signature"),
            (not isinstance(self.metrics, dict) or not all(
                isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool)
                for k, v in self.metrics.items()), "metrics"),
            (self.previous is not None and not is_record_id(self.previous), "previous"),
        ])


def metadata_history(records: "RecordStore", record_id: str | None, limit: int = 100_000) -> list[str]:
    """*record_id* and the metadata records it replaced, newest first, as far as they are stored here."""
    chain: dict[str, None] = {}
    while record_id and record_id not in chain and len(chain) < limit and records.exists(record_id):
        chain[record_id] = None
        record_id = records.get(record_id, MetadataRecord).previous
    return list(chain)


def _is_signature(value: Any) -> bool:
    """A signature as onnx_io.signature writes it: {"inputs"/"outputs": [{"name", "shape", "dtype"}]}."""
    if not isinstance(value, dict) or not set(value) <= {"inputs", "outputs"}:
        return False
    for tensors in value.values():
        if not isinstance(tensors, list) or not all(
                isinstance(t, dict) and set(t) <= {"name", "shape", "dtype"} and isinstance(t.get("name"), str)
                and isinstance(t.get("dtype", ""), str)
                and isinstance(t.get("shape", []), list)
                and all(isinstance(d, (int, str)) and not isinstance(d, bool) for d in t.get("shape", []))
                for t in tensors):
            return False
    return True


@dataclass
class ProvenanceRecord(Record):
    """How a derived version was made: from which versions, by which tool, with what result."""

    TYPE = "provenance"
    activity: str  # convert | compose | optimize
    derived_from: list[str]  # version ids (PIDs without the prefix)
    source_oids: list[str]  # the object ids those versions had
    generated_by: dict[str, Any]  # tool, its version, the framework packages involved
    parameters: dict[str, Any] = field(default_factory=dict)  # opset, inputs, model class, ...
    results: dict[str, Any] = field(default_factory=dict)  # parity numbers, sizes, ...
    runtime: str | None = None  # id of the RuntimeRecord of the machine that made it

    def check(self) -> None:
        refuse_bad_fields([
            (not isinstance(self.activity, str), "activity"),
            (not isinstance(self.derived_from, list) or not all(is_record_id(v) for v in self.derived_from),
             "derived_from"),
            (not isinstance(self.source_oids, list) or not all(isinstance(o, str) and is_valid_oid(o)
                                                               for o in self.source_oids), "source_oids"),
            (not all(isinstance(v, dict) for v in (self.generated_by, self.parameters, self.results)), "parameters"),
            (self.runtime is not None and not is_record_id(self.runtime), "runtime"),
        ])


@dataclass
class RuntimeRecord(Record):
    """A snapshot of the machine and software that ran a step (MLCube-style)."""

    TYPE = "runtime"
    python: str
    platform: dict[str, str]
    packages: dict[str, str]
    hardware: dict[str, Any]
    hyperparameters: dict[str, Any] = field(default_factory=dict)

    def check(self) -> None:
        refuse_bad_fields([
            (not isinstance(self.python, str), "python"),
            (not all(isinstance(v, dict) for v in (self.platform, self.packages, self.hardware,
                                                    self.hyperparameters)), "platform"),
        ])


RECORD_TYPES = {cls.TYPE: cls for cls in (VersionRecord, MetadataRecord, ProvenanceRecord, RuntimeRecord)}


class RecordStore:
    """Records under *root* (``.hpcfair/records``)."""

    def __init__(self, root: Path, tmp_dir: Path) -> None:
        self.root = Path(root)
        self.tmp_dir = Path(tmp_dir)

    def path(self, record_id: str) -> Path:
        return self.root / record_id[:2] / record_id[2:]

    def put(self, record: Record) -> str:
        """Store *record* (idempotent); return its id."""
        return self.put_bytes(canonical_bytes(record.to_dict()))

    def put_bytes(self, data: bytes) -> str:
        """Store bytes already in canonical form (from a remote, after checking); return the id."""
        record_id = hashlib.sha256(data).hexdigest()
        path = self.path(record_id)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, data, 0o444, tmp_dir=self.tmp_dir)
        return record_id

    def get(self, record_id: str, cls: type[T]) -> T:
        """Load and check a record.

        Raises:
            VersionNotFoundError: no such record here.
            CorruptRecordError: its bytes do not hash to its id or do not parse.
        """
        try:
            data = self.path(record_id).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            raise VersionNotFoundError(f"no record {pid_of(record_id)} in this repository") from None
        if hashlib.sha256(data).hexdigest() != record_id:
            raise CorruptRecordError(f"record {record_id} does not match its hash")
        try:
            return cls.from_dict(json.loads(data))
        except (ValueError, TypeError) as exc:
            raise CorruptRecordError(f"record {record_id} is unreadable: {exc}") from None

    def exists(self, record_id: str) -> bool:
        return self.path(record_id).exists()

    def iter_ids(self):
        if not self.root.is_dir():
            return
        for shard in os.scandir(self.root):
            if len(shard.name) == 2 and shard.is_dir():
                for entry in os.scandir(shard.path):
                    yield shard.name + entry.name

    def resolve_prefix(self, text: str) -> str | None:
        """A full record id for a PID or an unambiguous hex prefix (>= 7 digits), else None.

        Raises:
            VersionNotFoundError: the prefix matches more than one record.
        """
        text = text[len(PID_PREFIX):] if text.startswith(PID_PREFIX) else text
        if len(text) < MIN_PREFIX or not _HEX.fullmatch(text):
            return None
        shard = self.root / text[:2]
        try:
            matches = [text[:2] + name for name in os.listdir(shard) if name.startswith(text[2:])]
        except FileNotFoundError:
            return None
        if len(matches) > 1:
            raise VersionNotFoundError(f"{text} is ambiguous: it matches {len(matches)} records",
                                       hint="give more digits of the PID")
        return matches[0] if matches else None
