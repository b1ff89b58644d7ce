"""``hpcfair fair-check``: how Findable, Accessible, Interoperable and Reusable each artifact is.

Each artifact's newest version is scored on the checks below (those that apply to
its kind); the score is the share passed, 0-100. Every failed check names the
command that fixes it. Derived artifacts (ONNX forms) are scored through their
source, so they are left out unless named. docs/fair.md explains each check.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import UsageError
from ..repo import Repo, open_repo
from ..results import FairCheck, FairResult, FairScore
from ..storage.records import MetadataRecord, ProvenanceRecord, VersionRecord, pid_of
from ..storage.refs import ArtifactRef
from ..storage.tree import is_tree
from .derived import DERIVED_ACTIVITIES, derived_index, is_derived_form
from .conversion import is_onnx
from .resolve import Resolved, resolve

OPEN_FORMATS = {".csv", ".tsv", ".json", ".jsonl", ".txt", ".npy", ".npz", ".parquet", ".h5", ".hdf5", ".nc",
                ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".wav", ".flac", ".xml", ".yaml", ".yml", ".onnx"}


class _Subject:
    """What the checks read about one artifact, looked up once."""

    def __init__(self, r: Repo, ref: ArtifactRef, conversions: dict, on_remote: set[str] | None, remote: str | None):
        self.r, self.ref, self.remote, self.on_remote = r, ref, remote, on_remote
        self.version_id = ref.head or ""
        self.version = r.records.get(self.version_id, VersionRecord)
        metadata_id = ref.metadata_of(self.version_id)
        self.meta = r.records.get(metadata_id, MetadataRecord) if metadata_id else \
            MetadataRecord(name=ref.name, kind=ref.kind)
        self.forms = conversions.get(self.version.oid, [])
        self.provenance = r.records.get(self.version.provenance, ProvenanceRecord) \
            if self.version.provenance and r.records.exists(self.version.provenance) else None

    @property
    def is_model(self) -> bool:
        return self.ref.kind == "model"

    @property
    def is_onnx(self) -> bool:
        return self.meta.framework == "onnx" or is_onnx(self.r, Resolved(self.ref, self.version_id, self.version))

    @property
    def _made_by_hpcfair(self) -> bool:
        return self.provenance is not None and self.provenance.activity in DERIVED_ACTIVITIES

    def onnx_provenance(self) -> ProvenanceRecord | None:
        if self._made_by_hpcfair:
            return self.provenance
        if not self.forms:
            return None
        form = self.r.records.get(self.forms[0][1], VersionRecord)
        return self.r.records.get(form.provenance, ProvenanceRecord) if form.provenance else None


def _set(key: str, example: str) -> Callable[[_Subject], str]:
    return lambda s: f"hpcfair meta set {s.ref.name} {key}={example}"


# (principle, check, applies to, passes, the command that fixes it)
CHECKS: list[tuple[str, str, Callable[[_Subject], bool], Callable[[_Subject], bool], Callable[[_Subject], str]]] = [
    ("findable", "pid", lambda s: True, lambda s: bool(s.version_id), lambda s: f"hpcfair add {s.version.path}"),
    ("findable", "name", lambda s: True, lambda s: bool(s.ref.name), lambda s: ""),
    ("findable", "description", lambda s: True, lambda s: bool(s.meta.description),
     _set("description", "'what it is'")),
    ("findable", "tags", lambda s: True, lambda s: bool(s.meta.tags or s.ref.tags), _set("tags", "[keyword, ...]")),
    ("accessible", "on a remote", lambda s: True,
     lambda s: s.on_remote is not None and s.version_id in s.on_remote,
     lambda s: "hpcfair push" + (f" -r {s.remote}" if s.remote else "") if s.on_remote is not None
     else "hpcfair remote add NAME URL --default && hpcfair push"),
    ("accessible", "license", lambda s: True, lambda s: bool(s.meta.license), _set("license", "MIT")),
    ("interoperable", "onnx form", lambda s: s.is_model, lambda s: s.is_onnx or bool(s.forms),
     lambda s: f"hpcfair convert {s.ref.name}"),
    ("interoperable", "signature", lambda s: s.is_model, lambda s: bool(s.meta.signature),
     lambda s: f"hpcfair convert {s.ref.name} --input NAME:SHAPE:DTYPE"),
    ("interoperable", "open format", lambda s: not s.is_model, lambda s: _open_format(s),
     lambda s: "store the data as .csv, .npy, .npz or .parquet (docs/fair.md)"),
    ("interoperable", "exportable", lambda s: True, lambda s: bool(s.meta.authors and s.meta.description),
     lambda s: f"hpcfair meta set {s.ref.name} \"authors=['Name <ORCID iD>']\" description='what it is'"),
    ("reusable", "provenance", lambda s: s.is_model,
     lambda s: s.provenance is not None or bool(s.meta.training_dataset),
     _set("training_dataset", "DATASET@VERSION")),
    ("reusable", "runtime snapshot", lambda s: s.is_model,
     lambda s: bool((p := s.onnx_provenance()) and p.runtime), lambda s: f"hpcfair convert {s.ref.name}"),
    ("reusable", "license", lambda s: True, lambda s: bool(s.meta.license), _set("license", "MIT")),
    ("reusable", "citation", lambda s: True, lambda s: bool(s.meta.citation), _set("citation", "'doi:...'")),
]


def _open_format(s: _Subject) -> bool:
    if not is_tree(s.version.oid):
        return _suffix(s.version.path) in OPEN_FORMATS
    if not s.r.store.exists(s.version.oid):
        return True  # not here to look at: not held against it
    names = s.r.store.read_tree(s.version.oid)
    return all(_suffix(name) in OPEN_FORMATS for name in names)


def _suffix(path: str) -> str:
    name = path.rsplit("/", 1)[-1].lower()
    return name[name.rfind("."):] if "." in name else ""


def fair_check(artifact: str | None = None, *, repo: Repo | str | None = None, minimum: float | None = None,
               remote: str | None = None) -> FairResult:
    """Score every source artifact (or *artifact*); *minimum* (0-100) makes a lower score exit 1.

    "On a remote" is read from *remote* (default: the default remote) once, by its refs.

    Raises:
        ArtifactNotFoundError, UsageError (a minimum outside 0-100), RemoteError (exit 4).
    """
    if minimum is not None and not 0 <= minimum <= 100:
        raise UsageError(f"--min {minimum:g} is not a score from 0 to 100")
    r = open_repo(repo)
    if artifact is not None:
        resolved: Resolved = resolve(r, artifact)
        refs = [r.refs.get(resolved.ref.name if resolved.ref else artifact)]
    else:
        refs = [ref for ref in r.refs.all() if ref.head and not _derived(r, ref)]
    name = remote or r.config["core"].get("remote")
    on_remote = _versions_on_remote(r, name) if name else None
    conversions = derived_index(r, activity="convert")
    scores = [_score(_Subject(r, ref, conversions, on_remote, name)) for ref in refs if ref.head]
    return FairResult(artifacts=scores, minimum=minimum)


def _derived(r: Repo, ref: ArtifactRef) -> bool:
    return is_derived_form(r, r.records.get(ref.head, VersionRecord))


def _versions_on_remote(r: Repo, name: str) -> set[str]:
    from ..remotes.connect import open_remote
    from ..remotes.sync import read_remote_refs

    return {v for ref in read_remote_refs(open_remote(r, name)) for v in ref.versions}


def _score(s: _Subject) -> FairScore:
    checks = []
    for principle, check, applies, passed, fix in CHECKS:
        if applies(s):
            ok = passed(s)  # some checks read records: once each
            checks.append(FairCheck(principle, check, ok, "" if ok else fix(s)))
    score = round(100 * sum(c.passed for c in checks) / len(checks), 1)
    return FairScore(artifact=s.ref.name, version=s.ref.number_of(s.version_id), pid=pid_of(s.version_id),
                     kind=s.ref.kind, score=score, checks=checks)
