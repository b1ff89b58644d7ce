"""What API functions return: plain dataclasses with ``to_dict()`` (the CLI's ``--json``).

A result's parts are typed too (``Part``: a conversion outcome, a signature, a
provenance, ...), read as attributes. What stays a mapping is what has no fixed
keys: user metadata, a tool's ``generated_by``, an activity's ``parameters``,
``results`` and ``checks``, a machine's ``platform`` and ``hardware``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


class Result:
    def to_dict(self) -> dict[str, Any]:
        return {f.name: plain(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


def plain(value: Any) -> Any:
    """*value* as JSON-ready data: results by their ``to_dict()``, containers copied."""
    if isinstance(value, Result):
        return value.to_dict()
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


class Part(Result):
    """A typed part of a result. ``part["key"]`` reads its ``--json`` form, as when parts were dicts."""

    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.to_dict().get(key, default)

    def __contains__(self, key: str) -> bool:
        return key in self.to_dict()


@dataclass
class TensorInfo(Part):
    name: str
    shape: list[int | str]  # "N": the batch dimension
    dtype: str


@dataclass
class SignatureInfo(Part):
    """A model's inputs and outputs."""

    inputs: list[TensorInfo] = field(default_factory=list)
    outputs: list[TensorInfo] = field(default_factory=list)

    @classmethod
    def from_dict(cls, doc: dict[str, Any] | None) -> SignatureInfo:
        doc = doc or {}
        return cls([_tensor(t) for t in doc.get("inputs", [])], [_tensor(t) for t in doc.get("outputs", [])])


def _tensor(doc: dict[str, Any]) -> TensorInfo:
    return TensorInfo(doc["name"], list(doc.get("shape", [])), doc.get("dtype", "float32"))


@dataclass
class Parity(Part):
    """The parity proof of a conversion: the largest differences over the checked inputs."""

    max_abs: float
    max_rel: float
    tolerance: float
    seed: int
    batch: int
    inputs: list[str]  # the kinds of input checked
    outputs: int  # how many outputs were compared
    constant_outputs: list[str] = field(default_factory=list)  # the same for every seeded input
    weak: bool = False  # every output constant (and no sample): the numbers prove nothing

    @classmethod
    def from_dict(cls, doc: dict[str, Any] | None) -> Parity | None:
        """The numbers a provenance record holds; None when it holds none (or not these)."""
        try:
            return cls(**doc) if doc else None
        except TypeError:  # written by another version of hpcfair: shown in show's provenance only
            return None


@dataclass
class SameContent(Part):
    """Another artifact whose current version holds the same bytes."""

    artifact: str
    pid: str


@dataclass
class DerivedForm(Part):
    """A version made from this one (its ONNX form, an optimized model)."""

    artifact: str
    version: int | None
    pid: str


@dataclass
class RuntimeInfo(Part):
    """The machine and software that made a version."""

    python: str
    platform: dict[str, str]
    packages: dict[str, str]
    hardware: dict[str, Any]  # cpu, cpus, gpus, memory, ...
    hyperparameters: dict[str, Any] = field(default_factory=dict)


@dataclass
class ProvenanceInfo(Part):
    """How a derived version was made; its sources named NAME@N (PID) where they are known."""

    activity: str  # convert | compose | optimize
    derived_from: list[str]
    source_oids: list[str]
    generated_by: dict[str, Any]  # the tool or converter, its version, the packages involved
    parameters: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)  # parity numbers, sizes, ...
    runtime: RuntimeInfo | None = None

    def to_dict(self) -> dict[str, Any]:
        doc = super().to_dict()
        if self.runtime is None:
            del doc["runtime"]
        return doc


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
    provenance: ProvenanceInfo | None = None  # how a derived version was made
    derived: list[DerivedForm] = field(default_factory=list)  # versions made from this one (ONNX forms)

    def to_dict(self) -> dict[str, Any]:
        doc = super().to_dict()
        doc["provenance"] = doc["provenance"] or {}
        return doc


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
    duplicate_of: SameContent | None = None  # another artifact with the same content
    tags: list[str] = field(default_factory=list)
    conversion: ConversionOutcome | None = None  # what was done about a model's ONNX form


@dataclass
class AddResult(Result):
    items: list[AddedItem]

    @property
    def exit_code(self) -> int:
        """Non-zero when a model was stored but its conversion failed."""
        return max((i.conversion.exit_code for i in self.items if i.conversion), default=0)


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
    signature: SignatureInfo
    parity: Parity | None  # None for an ONNX source (nothing to compare with)
    cached: bool = False  # found in the conversion cache: nothing was run
    output: str | None = None  # where -o wrote a copy

    def to_dict(self) -> dict[str, Any]:
        doc = super().to_dict()
        doc["parity"] = doc["parity"] or {}
        return doc


@dataclass
class ConversionOutcome(Part):
    """What add did about a model's ONNX form; ``--json`` shows it flat, as
    ``{"status": ..., **the ConvertResult}``, ``{"status": "skipped", "reason", "hint"}`` or
    ``{"status": "failed", **the error}``."""

    status: str  # converted | validated | skipped | failed
    result: ConvertResult | None = None  # converted, validated
    message: str = ""  # skipped: why; failed: the error's message
    hint: str | None = None
    error: str | None = None  # failed: the error's class
    exit_code: int = 0  # failed: the error's exit code
    about: dict[str, Any] = field(default_factory=dict)  # failed: the error's fields (path, name, ...)

    def to_dict(self) -> dict[str, Any]:
        if self.result is not None:
            return {"status": self.status, **self.result.to_dict()}
        if self.status == "skipped":
            return {"status": self.status, "reason": self.message, "hint": self.hint}
        return {"status": self.status, "error": self.error, "message": self.message, "hint": self.hint,
                "exit_code": self.exit_code, **self.about}


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
class HookState(Result):
    name: str
    installed: bool  # hpcfair's shim is there
    chained: bool  # it runs a hook that was there before
    other: bool  # another program's hook is there instead


@dataclass
class HooksResult(Result):
    hooks_dir: str
    hooks: list[HookState]


@dataclass
class HookRunResult(Result):
    """What one hook did."""

    hook: str
    recorded: list[str] = field(default_factory=list)  # NAME@VERSION recorded by pre-commit
    converted: list[str] = field(default_factory=list)  # their ONNX forms
    pushed: int = 0  # objects pre-push sent
    restored: list[str] = field(default_factory=list)  # paths post-checkout/post-merge placed
    warnings: list[str] = field(default_factory=list)


@dataclass
class VerifyProblem(Result):
    check: str  # store | pointer | data | onnx | parity
    subject: str  # the pointer file's path, or the object id for the store
    message: str
    hint: str | None = None


@dataclass
class VerifyResult(Result):
    """What ``verify`` checked and found; any problem is exit 3."""

    objects: int = 0
    pointers: int = 0
    models: int = 0
    problems: list[VerifyProblem] = field(default_factory=list)
    on_remote: list[str] = field(default_factory=list)  # pointers whose data only the remote holds
    weak: list[str] = field(default_factory=list)  # models whose ONNX parity proof is weak

    @property
    def exit_code(self) -> int:
        return 3 if self.problems else 0


@dataclass
class MetaChange(Part):
    """One change of an artifact's (or a version's) metadata, newest first."""

    record: str  # the metadata record's PID
    changed: str | None  # when (None: the first record, made before changes were dated)
    keys: list[str]  # the keys it changed


@dataclass
class MetaResult(Result):
    """The metadata that holds for an artifact (``version`` None) or for one version."""

    artifact: str
    version: int | None
    record: str | None  # its metadata record's PID
    metadata: dict[str, Any]  # the schema's keys that hold something
    history: list[MetaChange] = field(default_factory=list)


@dataclass
class SearchResult(Result):
    """The newest version of each matching artifact, best first; ``total`` counts every match."""

    versions: list[VersionInfo]
    total: int = 0


@dataclass
class LineageNode(Part):
    id: str  # a version's PID, or hpcfair:activity-ID for the activity that made a derived version
    type: str  # entity | activity
    label: str
    attributes: dict[str, Any] = field(default_factory=dict)  # an activity's tool, parameters, runtime, ...


@dataclass
class LineageEdge(Part):
    relation: str  # wasRevisionOf | wasDerivedFrom | wasGeneratedBy | used (W3C PROV)
    source: str
    target: str
    role: str = ""  # "training" for a model's training dataset


@dataclass
class LineageResult(Result):
    root: str
    nodes: list[LineageNode]
    edges: list[LineageEdge]
    truncated: bool = False  # --depth stopped the walk before the graph ended


@dataclass
class ExportResult(Result):
    format: str
    artifact: str
    version: int
    pid: str
    output: str  # the folder written
    files: list[str] = field(default_factory=list)  # what it holds, relative


@dataclass
class IndexResult(Result):
    artifacts: int  # how many the rebuilt catalog holds


@dataclass
class FairCheck(Part):
    principle: str  # findable | accessible | interoperable | reusable
    check: str
    passed: bool
    fix: str = ""  # the command that makes it pass


@dataclass
class FairScore(Part):
    """One artifact's FAIR completeness: the share of its checks passed, 0-100."""

    artifact: str
    version: int
    pid: str
    kind: str
    score: float
    checks: list[FairCheck] = field(default_factory=list)


@dataclass
class FairResult(Result):
    artifacts: list[FairScore]
    minimum: float | None = None

    @property
    def exit_code(self) -> int:
        """1 when an artifact scores below the minimum asked for."""
        return 1 if self.minimum is not None and any(a.score < self.minimum for a in self.artifacts) else 0


@dataclass
class RemoteListResult(Result):
    remotes: list[RemoteInfo]


@dataclass
class RemoteInfo(Part):
    """One configured remote, its secrets redacted; ``--json`` shows its options beside the name."""

    name: str
    default: bool
    url: str
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "default": self.default, "url": self.url, **plain(self.options)}


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
    signature: SignatureInfo
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
    outputs: dict[str, OutputInfo] = field(default_factory=dict)  # what was written to *output*
    arrays: dict[str, Any] = field(default_factory=dict, repr=False)  # name -> array (not in --json)
    container: ContainerInfo | None = None  # where it ran, with --container
    added: AddedItem | None = None  # the output stored as a dataset version, with --add
    scale: ScaleInfo | None = None  # the Dask cluster it ran on, with --scheduler

    def to_dict(self) -> dict[str, Any]:
        doc = super().to_dict()
        del doc["arrays"]
        for key in ("container", "added", "scale"):
            if getattr(self, key) is None:
                del doc[key]
        return doc


@dataclass
class ScaleInfo(Part):
    """How a scaled-out inference was spread: the cluster and the chunking (docs/scaleout.md)."""

    scheduler: str  # local:N, slurm:JOBS, pbs:JOBS or the tcp:// address
    workers: int  # the most Dask workers up while the chunks ran
    chunks: int
    chunk_rows: int  # rows per chunk of a .npy shard (a multiple of the batch size); other shards are one chunk
    shards: int  # files in the input dataset
    seconds: float  # from the first chunk submitted to the last one written


@dataclass
class ContainerInfo(Part):
    """The pinned image a step ran in, and what ran inside it."""

    image: str  # the image ID (64 hex digits)
    image_name: str
    python: str
    packages: dict[str, str]  # inside the image: numpy, onnxruntime, the runner


@dataclass
class ImageInfo(Part):
    """An hpcfair runtime image in podman's storage."""

    id: str
    names: list[str]
    pins: dict[str, Any]  # python, packages, base, wheels (file -> sha256), runner
    size: int
    created: str


@dataclass
class ImageResult(Result):
    """``image build`` / ``export`` / ``import``: the image and what was done with it."""

    action: str  # built | exported | imported
    image: ImageInfo
    seconds: float
    archive: str | None = None


@dataclass
class ImageListResult(Result):
    images: list[ImageInfo] = field(default_factory=list)


@dataclass
class JobResult(Result):
    """A job run in a container, and the versions its outputs became."""

    command: list[str]
    container: ContainerInfo
    seconds: float
    inputs: list[str]  # NAME@N (PID) of each mounted artifact
    outputs: list[AddedItem] = field(default_factory=list)
    log: str = ""  # the tail of the job's stdout


@dataclass
class OutputInfo(Part):
    """One output written by infer."""

    shape: list[int | None]
    dtype: str


@dataclass
class CollaborateResult(Result):
    """A composed model and, when the config gave an input, what it produced."""

    composed: DerivedResult
    inference: InferResult | None = None



@dataclass
class LoadedResult(Result):
    """load_model / load_dataset in a config: the object, and a description of it for --json."""

    task: str
    name: str
    value: Any = field(repr=False)
    description: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "name": self.name, **self.description}
