"""``hpcfair add``: store files and folders, record a version, write the pointer file.

The whole command runs under the repository lock, so concurrent adds queue up
and ``gc`` never sees a half-recorded artifact. Objects are staged (hashed
while copied, in one pass), flushed (``_io.flush_files``) and renamed into place
before any record or ref names them: a kill at any moment leaves nothing
half-visible, and running the command again completes the work.
"""

from __future__ import annotations

import os
import re
import stat as stat_mod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..metadata import schema
from ..worktree import gitignore
from ..version import __version__
from ..worktree import pointer as pointer_mod
from ..fileio.tmpfiles import remove_stale_tmp
from ..errors import NameConflictError, NestedArtifactError, UnreadableFileError, UsageError
from ..storage.records import MetadataRecord, ProvenanceRecord, VersionRecord, pid_of, utc_now
from ..storage.refs import KINDS, ArtifactRef, check_name, check_tag
from ..repo import Repo, open_repo
from ..results import AddedItem, AddResult, SameContent
from ..progress import SILENT, Advance, Progress
from ..storage.store import Staged
from ..storage.tree import tree_bytes, tree_oid
from ..storage.state import fingerprint
from ..worktree.workspace import WalkedFile, find_pointers, resolve_user_path, to_relpath, walk_folder

MODEL_SUFFIXES = {".pt", ".pth", ".pt2", ".ts", ".onnx", ".keras", ".h5", ".hdf5", ".pb",
                  ".tflite", ".pkl", ".pickle", ".joblib", ".skops", ".safetensors", ".ckpt",
                  ".gguf", ".mlmodel", ".ubj", ".lgb"}
# Otherwise a file is a model when a converter claims it: XGBoost and LightGBM by the first
# bytes of a .json or .txt, a plug-in by its own suffix (registry.detect looks at names and bytes only).


@dataclass
class _Content:
    """A path's content, staged in the store but not yet recorded."""

    path: Path
    relpath: str
    oid: str
    size: int
    nfiles: int
    staged: list[Staged]
    new_objects: int = 0


def add(paths: Sequence[str | os.PathLike], *, repo: Repo | str | None = None, name: str | None = None,
        kind: str | None = None, tags: Sequence[str] = (), description: str | None = None,
        license: str | None = None, authors: Sequence[str] = (),
        progress: Progress = SILENT,
        convert: bool | None = None, framework: str = "auto", inputs: Sequence[str] = (), outputs: Sequence[str] = (),
        model_class: str | None = None, model_args: Mapping[str, Any] | None = None,
        trust_pickle: bool = False, opset: int | None = None, params: Mapping[str, Any] | None = None,
        trust_types: Sequence[str] = (), provenance: ProvenanceRecord | None = None,
        ) -> AddResult:
    """Track *paths* (files or folders) as artifacts; one version each when content changed.

    *progress* sees a "hashing" phase (bytes read) and, for models, the
    conversion's steps. Models are then converted to
    ONNX (unless *convert* is False, or None and ``convert.auto`` is off); the
    outcome is in each item's ``conversion``: a failed conversion never undoes
    the add. The conversion options are those of ``hpcfair convert``.
    *provenance* (a job's) is recorded with each new version made.

    Raises:
        UsageError: ``name`` with several paths, or an unknown kind.
        PathNotFoundError, PathOutsideRepoError, UnreadableFileError: a bad path (nothing is stored).
        InvalidNameError, NameConflictError: a bad artifact or tag name.
        MetadataError: a description, license (SPDX) or author (ORCID) the schema refuses (nothing is stored).
    """
    r = open_repo(repo)
    if not paths:
        raise UsageError("no path given")
    if name is not None and len(paths) > 1:
        raise UsageError("--name applies to one path; add the paths one at a time")
    if kind is not None and kind not in KINDS:
        raise UsageError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    for tag in tags:
        check_tag(tag)
    description = schema.check("description", description) if description is not None else None
    license = schema.check("license", license) if license is not None else None
    authors = schema.check("authors", list(authors)) if authors else []
    targets = _resolve_all(r, paths)
    with r.lock:
        remove_stale_tmp(r.tmp_dir)  # what a killed add left behind
        plans = [_plan_name(r, path, name) for path in targets]
        _refuse_shared_names(r, targets, plans)
        walks = {path: walk_folder(path, r.root) for path in targets if path.is_dir()}
        progress.start("hashing", sum(_size_of(path, walks.get(path)) for path in targets), "B")
        contents: list[_Content] = []
        try:
            for path in targets:
                contents.append(_stage(r, path, walks.get(path), progress.advance))
            for content in contents:
                content.new_objects = sum(1 for s in content.staged if s.is_new)
                r.store.commit(content.staged)
        finally:
            for content in contents:
                r.store.discard(content.staged)
        made_by = r.records.put(provenance) if provenance is not None else None
        items = [_record(r, content, plan, kind, tags, description, license, list(authors), made_by)
                 for content, plan in zip(contents, plans)]
    r.state.flush()
    if convert if convert is not None else r.config["convert"]["auto"]:
        from .conversion import ConvertRequest, convert_added

        convert_added(r, items, ConvertRequest(
            framework=framework, inputs=inputs, outputs=outputs, model_class=model_class, model_args=model_args or {},
            trust_pickle=trust_pickle, trust_types=trust_types, opset=opset, params=params or {}), progress)
    return AddResult(items)


def _resolve_all(r: Repo, paths: Sequence[str | os.PathLike]) -> list[Path]:
    targets: list[Path] = []
    for user_path in paths:
        path = resolve_user_path(r.root, user_path)
        if path == r.root:
            raise UsageError("cannot add the repository root itself; add folders or files inside it")
        st = path.stat()
        if not (stat_mod.S_ISREG(st.st_mode) or stat_mod.S_ISDIR(st.st_mode)):
            raise UnreadableFileError(f"{user_path} is not a regular file or folder")
        if path not in targets:
            targets.append(path)
    for path in targets:
        nested = [other for other in targets if path in other.parents]
        if nested:
            raise UsageError(f"{nested[0]} lies inside {path}; add one or the other")
        _refuse_nested_artifacts(r, path)
    return targets


def _refuse_nested_artifacts(r: Repo, path: Path) -> None:
    """An artifact may neither lie inside a tracked folder nor contain a tracked path."""
    for parent in path.parents:
        if parent == r.root:
            break
        if pointer_mod.pointer_path(parent).exists():
            relpath = to_relpath(r.root, parent)
            raise NestedArtifactError(f"{to_relpath(r.root, path)} lies inside the tracked folder {relpath}",
                                      hint=f"add the whole folder again: hpcfair add {relpath}")
    if path.is_dir():
        inner = next((p for p in find_pointers(path) if p.is_file()), None)
        if inner is not None:
            raise NestedArtifactError(
                f"{to_relpath(r.root, path)} contains the tracked artifact {to_relpath(r.root, inner)}",
                hint="`hpcfair remove` the inner artifact first, or add sibling folders separately")


def _size_of(path: Path, files: list[WalkedFile] | None) -> int:
    """The bytes *path* holds (*files*: its walk when it is a folder)."""
    return path.stat().st_size if files is None else sum(item.stat.st_size for item in files)


def default_name(path: Path) -> str:
    base = path.name if path.is_dir() else Path(path.name).stem or path.name
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip("-.") or "artifact"
    return check_name(cleaned[:128])


def _plan_name(r: Repo, path: Path, name: str | None) -> tuple[str, ArtifactRef | None, pointer_mod.Pointer | None]:
    """Decide the artifact name before anything is written."""
    relpath = to_relpath(r.root, path)
    tracking = r.catalog.by_path(relpath)
    old_pointer = _read_pointer(path)
    if name is not None:
        check_name(name)
    if tracking and name and name != tracking.name:
        raise NameConflictError(f"{relpath} is already tracked as {tracking.name!r}",
                                hint=f"drop --name, or `hpcfair remove {tracking.name}` first")
    chosen = name or (tracking.name if tracking else None) or (old_pointer.artifact if old_pointer else None) \
        or default_name(path)
    ref = tracking or r.refs.find(chosen)
    if ref and ref.path != relpath:
        raise NameConflictError(f"the name {chosen!r} already belongs to {ref.path}",
                                hint=f"choose another name: hpcfair add {relpath} --name NAME")
    return chosen, ref, old_pointer


def _refuse_shared_names(r: Repo, targets: list[Path], plans: list[tuple[str, Any, Any]]) -> None:
    """Two paths of one add would become the same artifact (``data/x.npy`` and ``data/x.csv``)."""
    owner: dict[str, Path] = {}
    for path, (chosen, _, _) in zip(targets, plans):
        if chosen in owner:
            first, second = to_relpath(r.root, owner[chosen]), to_relpath(r.root, path)
            raise NameConflictError(f"{first} and {second} would both be named {chosen!r}",
                                    hint=f"add them one at a time, one with --name: hpcfair add {second} --name NAME")
        owner[chosen] = path


def _read_pointer(path: Path) -> pointer_mod.Pointer | None:
    pointer_file = pointer_mod.pointer_path(path)
    return pointer_mod.read(pointer_file) if pointer_file.exists() else None


def _stage(r: Repo, path: Path, files: list[WalkedFile] | None, report: Advance) -> _Content:
    """Stage a file, or a folder whose walk is *files*."""
    relpath = to_relpath(r.root, path)
    if files is not None:
        return _stage_folder(r, path, relpath, files, report)
    st = path.stat()
    staged = _stage_one(r, path, relpath, st, r.state.get(relpath, st), report)
    return _Content(path, relpath, staged.oid, staged.size, 1, [staged])


def _stage_one(r: Repo, path: Path, key: str, st: os.stat_result, cached: str | None,
               report: Advance) -> Staged:
    """Stage one file unless the stat cache already knows it is stored."""
    if cached is not None and r.store.exists(cached):
        report(st.st_size)
        return Staged(cached, st.st_size, None, existed=True)
    staged = r.store.stage_file(path, report, size_hint=st.st_size)
    after = os.stat(path)
    if after.st_mtime_ns == st.st_mtime_ns and after.st_size == staged.size:
        r.state.put(key, st, staged.oid)
    return staged


def _stage_folder(r: Repo, path: Path, relpath: str, files: list[WalkedFile], report: Advance) -> _Content:
    prefix = relpath + "/"
    rows = r.state.load_prefix(prefix)

    staged: list[Staged] = []
    try:
        for item in files:
            row = rows.get(prefix + item.relpath)
            cached = row[1] if row and row[0] == fingerprint(item.stat) else None
            staged.append(_stage_one(r, Path(item.path), prefix + item.relpath, item.stat, cached, report))
        data = tree_bytes({item.relpath: one.oid for item, one in zip(files, staged)})
        oid = tree_oid(data)
        staged.append(r.store.stage_bytes(data, oid))
    except BaseException:
        r.store.discard(staged)
        raise
    size = sum(item.stat.st_size for item in files)
    return _Content(path, relpath, oid, size, len(files), staged)


def _record(r: Repo, content: _Content, plan: tuple[str, ArtifactRef | None, pointer_mod.Pointer | None],
            kind: str | None, tags: Sequence[str], description: str | None, license: str | None,
            authors: list[str], provenance: str | None = None) -> AddedItem:
    """Write the version record, the ref (compare-and-swap), the pointer and .gitignore."""
    name, ref, old_pointer = plan
    ref = r.refs.find(name) if ref is None else ref
    expected_head = ref.head if ref else None
    chosen_kind = kind or (ref.kind if ref else None) or _guess_kind(content.path)
    duplicate = _find_duplicate(r, content.oid, name)
    if ref is None:
        ref = ArtifactRef(name=name, kind=chosen_kind, path=content.relpath)
    ref.kind = chosen_kind
    ref.metadata = _metadata(r, ref, name, chosen_kind, description, license, authors)
    head = r.records.get(ref.head, VersionRecord) if ref.head else None
    parent_id = ref.head or (old_pointer.pid.removeprefix("hpcfair:") if old_pointer else None)
    new_version = head is None or head.oid != content.oid
    if new_version:
        number = len(ref.versions) + 1 if ref.versions else (old_pointer.version + 1 if old_pointer else 1)
        record = VersionRecord(
            artifact=name, kind=chosen_kind, number=number,
            object={"oid": content.oid, "size": content.size, "nfiles": content.nfiles},
            path=content.relpath, parent=parent_id, created=utc_now(),
            tool={"name": "hpcfair", "version": __version__}, metadata=ref.metadata, provenance=provenance)
        ref.versions.append(r.records.put(record))
    version_id = ref.versions[-1]
    for tag in tags:
        ref.tags[tag] = version_id
    r.refs.write(ref, expected_head)
    number = len(ref.versions)
    pointer_file = pointer_mod.write(content.path, pointer_mod.Pointer(
        artifact=name, kind=chosen_kind, version=number, pid=pid_of(version_id),
        oid=content.oid, size=content.size, nfiles=content.nfiles))
    gitignore.ignore(content.path)  # outside git too: a later `git init` must not commit the data
    return AddedItem(path=content.relpath, artifact=name, kind=chosen_kind, version=number,
                     pid=pid_of(version_id), oid=content.oid, size=content.size,
                     nfiles=content.nfiles, pointer=to_relpath(r.root, pointer_file),
                     new_version=new_version, new_objects=content.new_objects, duplicate_of=duplicate,
                     tags=ref.tags_of(version_id))


def _guess_kind(path: Path) -> str:
    if path.is_dir():
        return "model" if (path / "saved_model.pb").is_file() else "dataset"
    suffix = path.suffix.lower()
    if suffix in MODEL_SUFFIXES:
        return "model"
    from ..convert import registry

    return "model" if registry.detect(path) is not None else "dataset"


def _metadata(r: Repo, ref: ArtifactRef, name: str, kind: str, description: str | None,
              license: str | None, authors: list[str]) -> str:
    """Merge what was given now over the artifact's current metadata; return its record id.

    What was not given is kept, the framework and signature too: a retrained model's
    conversion reuses the inputs the last one was told.
    """
    current = r.records.get(ref.metadata, MetadataRecord) if ref.metadata else MetadataRecord(name=name, kind=kind)
    given = {"description": description, "license": license, "authors": authors or None}
    changes = {key: value for key, value in given.items() if value is not None}  # checked by add()
    return r.records.put(current.revised(ref.metadata, name=name, kind=kind, **changes))


def _find_duplicate(r: Repo, oid: str, name: str) -> SameContent | None:
    """Another artifact whose current version has the same content (the catalog knows)."""
    for other in r.catalog.holding(oid):
        ref = r.refs.find(other)
        if other != name and ref is not None and ref.head:
            return SameContent(other, pid_of(ref.head))
    return None


