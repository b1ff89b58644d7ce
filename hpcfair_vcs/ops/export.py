"""``hpcfair export``: one version as an RO-Crate, a Croissant description, a model card or DataCite JSON.

The folder is built beside the output path and renamed into place, so a failed
export leaves nothing. RO-Crate, Croissant and the model card carry the data (and
a model's ONNX form) next to their description, copied from the store (reflinked
where the file system can; never hard-linked, so editing the export cannot touch
the store); DataCite JSON is the description alone, so it needs no data here. The formats themselves are
in hpcfair_vcs/exports/.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from ..errors import UsageError
from ..exports import DataFile, Subject
from ..fileio.tmpfiles import tmp_name
from ..repo import Repo, open_repo
from ..results import ExportResult
from ..storage.records import MetadataRecord, VersionRecord, pid_of
from ..storage.tree import is_tree
from ..worktree.materialize import place_object
from .conversion import onnx_form
from .meta import shown
from .resolve import Resolved, resolve, stored_path

FORMATS = ("ro-crate", "croissant", "model-card", "datacite")
LINKS = ["reflink", "copy"]


def export(target: str, *, format: str, output: str | os.PathLike, repo: Repo | str | None = None) -> ExportResult:
    """Write *target*'s version (``NAME[@VERSION]`` or a PID) in *format* into the folder *output*.

    Raises:
        UsageError (exit 2): an unknown format, an output that exists and is not empty, Croissant of a model.
        MissingObjectError (exit 3): the data is not in this repository (the hint is the pull).
        ArtifactNotFoundError, VersionNotFoundError.
    """
    if format not in FORMATS:
        raise UsageError(f"unknown export format {format!r}", hint=f"one of {', '.join(FORMATS)}")
    r = open_repo(repo)
    resolved = resolve(r, target)
    out = Path(output).absolute()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"{out} exists and is not an empty folder", hint="give a new folder with -o")
    if format == "croissant" and resolved.record.kind != "dataset":
        raise UsageError("Croissant describes datasets", hint="export a model as ro-crate or model-card")
    out.parent.mkdir(parents=True, exist_ok=True)
    building = tmp_name(out.parent, f".{out.name}-")
    building.mkdir()
    try:
        subject = _subject(r, resolved, building if format != "datacite" else None)
        for name, text in _documents(format, subject, building).items():
            (building / name).write_text(text, encoding="utf-8")
        if out.exists():
            out.rmdir()
        os.rename(building, out)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    return ExportResult(format=format, artifact=resolved.record.artifact, version=resolved.number,
                        pid=pid_of(resolved.version_id), output=os.fspath(out), files=files)


def _documents(format: str, subject: Subject, folder: Path) -> dict[str, str]:
    if format == "ro-crate":
        from ..exports.rocrate import crate

        return {"ro-crate-metadata.json": json.dumps(crate(subject), indent=2, ensure_ascii=False) + "\n"}
    if format == "croissant":
        from ..exports.croissant import croissant

        return {"croissant.json": json.dumps(croissant(subject, folder), indent=2, ensure_ascii=False) + "\n"}
    if format == "model-card":
        from ..exports.modelcard import model_card

        return {"README.md": model_card(subject)}
    from ..exports.datacite import datacite

    return {"datacite.json": json.dumps(datacite(subject), indent=2, ensure_ascii=False) + "\n"}


def _subject(r: Repo, resolved: Resolved, folder: Path | None) -> Subject:
    """What the formats need; with *folder*, the data (and a model's ONNX form) are placed there."""
    record = resolved.record
    ref = resolved.ref
    metadata_id = ref.metadata_of(resolved.version_id) if ref else record.metadata
    meta = r.records.get(metadata_id, MetadataRecord) if metadata_id else MetadataRecord(name=record.artifact,
                                                                                         kind=record.kind)
    subject = Subject(name=record.artifact, kind=record.kind, version=resolved.number,
                      pid=pid_of(resolved.version_id), created=record.created, metadata=shown(meta))
    base = Path(record.path).name
    if folder is None and not r.store.exists(record.oid):  # a description alone needs no data
        subject.files = [DataFile(base, record.object["size"], record.oid)]
        return subject
    stored_path(r, record)  # the data must be here
    if is_tree(record.oid):
        tree = r.store.read_tree(record.oid)
        sizes = r.store.sizes(tree.values())
        subject.folder = base
        subject.files = [DataFile(f"{base}/{rel}", sizes.get(oid, 0), oid) for rel, oid in sorted(tree.items())]
    else:
        subject.files = [DataFile(base, record.object["size"], record.oid)]
    if folder is not None:
        for item in subject.files:  # a folder's files one by one (its manifest object is not the folder)
            dest = folder / item.path
            dest.parent.mkdir(parents=True, exist_ok=True)
            place_object(r.store, item.sha256, dest, LINKS)
    form = onnx_form(r, resolved) if record.kind == "model" and not base.endswith(".onnx") else None
    if form is not None:
        form_record = r.records.get(form[1], VersionRecord)
        if r.store.exists(form_record.oid):
            name = Path(form_record.path).name
            subject.onnx = DataFile(name, form_record.object["size"], form_record.oid)
            subject.onnx_pid = pid_of(form[1])
            if folder is not None:
                place_object(r.store, form_record.oid, folder / name, LINKS)
    return subject
