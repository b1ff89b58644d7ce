"""``hpcfair verify``: what CI asks of a repository before it trusts it.

Three checks, each problem named with the path or artifact it is about:

- the store: ``fsck`` (every object and record re-hashed; corrupt ones quarantined;
  versions whose data was never pulled here are not a problem by themselves);
- every pointer file in the work tree parses and names content that is stored
  whole here, or, with a remote, that the remote holds;
- every model a pointer names has an ONNX form (or is ONNX) whose recorded
  parity is within the configured tolerance; a weak proof is reported, not failed.
"""

from __future__ import annotations

from ..errors import HpcfairError
from ..repo import Repo, open_repo
from ..results import VerifyProblem, VerifyResult
from ..storage.records import MetadataRecord, ProvenanceRecord, VersionRecord
from ..storage.refs import ArtifactRef
from ..remotes.sync import objects_of
from ..worktree import pointer as pointer_mod
from ..worktree.workspace import find_pointers, to_relpath
from .derived import derived_index
from .fsck import fsck


def verify(*, repo: Repo | str | None = None, remote: str | None = None) -> VerifyResult:
    """Check the store, the pointers and the models' ONNX forms; see the module's text.

    With *remote*, content that is not stored here counts when that remote has it.

    Raises:
        RemoteNotFoundError, RemoteError (exit 4): *remote* cannot be used.
    """
    r = open_repo(repo)
    result = VerifyResult()
    checked = fsck(repo=r)
    result.objects = checked.checked_objects
    result.problems += [VerifyProblem("store", p.oid, f"{p.problem}: {p.detail}".rstrip(": "),
                                      hint="hpcfair pull (or add) brings a good copy back")
                        for p in checked.corrupt]  # missing objects: the pointers' check below says which matter
    pointers = []
    for pointer_file in find_pointers(r.root):
        shown = to_relpath(r.root, pointer_file)
        try:
            pointers.append((shown, pointer_mod.read(pointer_file)))
        except HpcfairError as exc:
            result.problems.append(VerifyProblem("pointer", shown, exc.message, hint=exc.hint))
    result.pointers = len(pointers)
    absent = {shown: p for shown, p in pointers if not _stored_whole(r, p.oid)}
    elsewhere = _on_remote(r, remote, {p.oid for p in absent.values()}) if remote and absent else set()
    for shown, p in absent.items():
        if p.oid in elsewhere:
            result.on_remote.append(shown)
        else:
            result.problems.append(VerifyProblem(
                "data", shown, f"{p.artifact} v{p.version}: its data is not stored here"
                + (f" nor on remote {remote!r}" if remote else ""),
                hint="hpcfair pull (or verify --remote NAME to accept what a remote holds)"))
    tolerance = float(r.config["convert"]["tolerance"])
    models = [(shown, p) for shown, p in pointers if p.kind == "model"]
    conversions = derived_index(r, activity="convert") if models else {}
    for shown, p in models:
        result.models += 1
        result.problems += _check_onnx_form(r, shown, p, conversions.get(p.oid, []), tolerance, result)
    return result


def _stored_whole(r: Repo, oid: str) -> bool:
    try:
        return objects_of(r, oid)[1]
    except HpcfairError:  # a tree that does not parse: its files cannot be known
        return False


def _on_remote(r: Repo, name: str, oids: set[str]) -> set[str]:
    """Those of *oids* the remote *name* holds."""
    from ..remotes.connect import explain, open_remote

    remote = open_remote(r, name)
    try:
        return {oid for oid in oids if remote.fs.exists(remote.path("files", "sha256", oid[:2], oid[2:]))}
    except Exception as exc:  # noqa: BLE001 - each library raises its own types (remotes/failures.py)
        raise explain(remote, exc) from None


def _check_onnx_form(r: Repo, shown: str, p: pointer_mod.Pointer, forms: list[tuple[ArtifactRef, str]],
                     tolerance: float, result: VerifyResult) -> list[VerifyProblem]:
    ref = r.refs.find(p.artifact)
    metadata = r.records.get(ref.metadata, MetadataRecord) if ref and ref.metadata else None
    if metadata is not None and metadata.framework == "onnx":
        return []  # the model is ONNX already
    if not forms:
        return [VerifyProblem("onnx", shown, f"{p.artifact} v{p.version} has no ONNX form",
                              hint=f"hpcfair convert {p.artifact}@{p.version}")]
    form_ref, version_id = forms[0]
    version = r.records.get(version_id, VersionRecord)
    parity = r.records.get(version.provenance, ProvenanceRecord).results.get("parity") or {}
    max_rel = parity.get("max_rel")
    if not isinstance(max_rel, (int, float)) or max_rel > tolerance:
        return [VerifyProblem("parity", shown, f"{form_ref.name} (the ONNX form of {p.artifact} v{p.version}) "
                              f"records max rel {max_rel} against the tolerance {tolerance:g}",
                              hint=f"hpcfair convert {p.artifact}@{p.version} --tolerance ... or fix the model")]
    if parity.get("weak"):
        result.weak.append(shown)
    return []
