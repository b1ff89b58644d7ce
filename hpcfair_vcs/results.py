"""What API functions return: plain dataclasses with ``to_dict()`` (the CLI's ``--json``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


class Result:
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]


@dataclass
class InitResult(Result):
    root: str
    control: str
    in_git: bool


@dataclass
class VersionInfo(Result):
    """One version of an artifact, as show and log describe it."""

    artifact: str
    number: int
    pid: str
    kind: str
    oid: str
    size: int
    nfiles: int
    path: str
    created: str
    parent: str | None  # the parent version's PID
    tags: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    stored: bool = True  # the object is in the local store
    provenance: dict[str, Any] = field(default_factory=dict)  # how a derived version was made
    derived: list[dict[str, Any]] = field(default_factory=list)  # versions made from this one (ONNX forms)


@dataclass
class AddedItem(Result):
    path: str
    artifact: str
    kind: str
    version: int
    pid: str
    oid: str
    size: int
    nfiles: int
    pointer: str
    new_version: bool  # False: the content equals the current version
    new_objects: int  # objects written to the store (0 when everything was stored already)
    duplicate_of: dict[str, str] | None = None  # another artifact with the same content
    tags: list[str] = field(default_factory=list)
    conversion: dict[str, Any] | None = None  # {"status": converted|validated|skipped|failed, ...}


@dataclass
class AddResult(Result):
    items: list[AddedItem]

    @property
    def exit_code(self) -> int:
        """Non-zero when a model was stored but its conversion failed."""
        return max((i.conversion.get("exit_code", 0) for i in self.items if i.conversion), default=0)


@dataclass
class ConvertResult(Result):
    """A model's ONNX form: which artifact version holds it and how close it is to the source."""

    source: str  # NAME@VERSION of the source model (or its path when nothing was stored)
    source_pid: str | None
    framework: str  # the source's framework
    converter: str
    converter_version: str
    artifact: str | None  # the derived artifact (the source itself for an ONNX source)
    version: int | None
    pid: str | None
    oid: str
    size: int
    signature: dict[str, Any]
    parity: dict[str, Any]
    cached: bool = False  # found in the conversion cache: nothing was run
    output: str | None = None  # where -o wrote a copy


@dataclass
class StatusEntry(Result):
    path: str
    artifact: str
    state: str  # in sync | modified | missing | not stored | no pointer | corrupt pointer | derived
    version: int | None = None
    pid: str | None = None
    detail: str = ""


@dataclass
class StatusResult(Result):
    entries: list[StatusEntry]

    @property
    def clean(self) -> bool:
        return all(e.state == "in sync" for e in self.entries)


@dataclass
class LogResult(Result):
    versions: list[VersionInfo]


@dataclass
class CheckoutItem(Result):
    path: str
    artifact: str
    version: int | None
    action: str  # restored | unchanged | failed
    files_written: int = 0
    files_removed: int = 0
    link_type: str | None = None
    error: str | None = None
    exit_code: int = 0


@dataclass
class CheckoutResult(Result):
    items: list[CheckoutItem]

    @property
    def exit_code(self) -> int:
        return max((i.exit_code for i in self.items), default=0)


@dataclass
class TagResult(Result):
    artifact: str
    tag: str
    version: int | None
    pid: str | None
    moved_from: int | None = None
    deleted: bool = False


@dataclass
class RemoveResult(Result):
    artifact: str
    path: str
    pointer_removed: bool
    versions: int


@dataclass
class GcResult(Result):
    removed_objects: int
    freed_bytes: int
    kept_objects: int
    removed_tmp: int
    dry_run: bool = False


@dataclass
class FsckProblem(Result):
    oid: str
    problem: str  # corrupt | missing | writable | corrupt record
    detail: str = ""
    quarantined_to: str | None = None


@dataclass
class FsckResult(Result):
    checked_objects: int
    checked_records: int
    problems: list[FsckProblem]

    @property
    def corrupt(self) -> list[FsckProblem]:
        return [p for p in self.problems if p.problem in ("corrupt", "corrupt record")]

    @property
    def exit_code(self) -> int:
        return 3 if self.corrupt else 0


@dataclass
class RemoteListResult(Result):
    remotes: list[dict[str, Any]]


@dataclass
class MissingData(Result):
    """An artifact whose bytes a pull wanted and the remote does not have (never pushed there)."""

    artifact: str
    path: str
    oid: str  # the first object it lacks


@dataclass
class TransferSummary(Result):
    """What push, fetch or pull moved, per kind of thing."""

    remote: str
    objects_transferred: int = 0
    objects_skipped: int = 0  # already on the other side
    objects_failed: list[str] = field(default_factory=list)
    objects_corrupt: list[str] = field(default_factory=list)  # downloaded, failed the sha256 check
    bytes_transferred: int = 0
    records_transferred: int = 0
    refs_updated: list[str] = field(default_factory=list)
    missing_locally: list[str] = field(default_factory=list)  # versions push could not send
    no_derived_form: list[str] = field(default_factory=list)  # pull --only: targets without that form
    missing_on_remote: list[MissingData] = field(default_factory=list)  # pull: data never pushed there
    checkout: list[CheckoutItem] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.objects_corrupt or any(i.exit_code == 3 for i in self.checkout):
            return 3
        if self.objects_failed:
            return 4
        codes = [i.exit_code for i in self.checkout] + ([1] if self.missing_on_remote else [])
        return max(codes, default=0)


@dataclass
class DerivedResult(Result):
    """A model made from others (composed, optimized): where it is stored and how it was checked."""

    artifact: str
    version: int
    pid: str
    oid: str
    size: int
    sources: list[str]  # PIDs of the versions it was made from
    signature: dict[str, Any]
    checks: dict[str, Any] = field(default_factory=dict)  # differences measured against the sources


@dataclass
class InferResult(Result):
    """What a model produced: output shapes and dtypes, and where they were written."""

    model: str
    pid: str | None
    device: str
    rows: int  # along the batch dimension (0: the model has none)
    batch_size: int
    input: str
    output: str | None = None
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {"shape", "dtype"}
    arrays: dict[str, Any] = field(default_factory=dict, repr=False)  # name -> array (not in --json)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "arrays"}


@dataclass
class CollaborateResult(Result):
    """A composed model and, when the config gave an input, what it produced."""

    composed: DerivedResult
    inference: InferResult | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"composed": self.composed.to_dict(),
                "inference": self.inference.to_dict() if self.inference else None}


@dataclass
class LoadedResult(Result):
    """load_model / load_dataset in a config: the object, and a description of it for --json."""

    task: str
    name: str
    value: Any = field(repr=False)
    description: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "name": self.name, **self.description}
