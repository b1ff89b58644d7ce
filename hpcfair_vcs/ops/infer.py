"""``hpcfair infer``, ``load_model`` and ``load_dataset``: running stored models on data.

A target is an artifact (``NAME[@VERSION]``), a PID, or a path. A model that
is not ONNX runs through its ONNX form (converted on first use, then cached);
an ``.onnx`` file outside any repository runs as it is.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import ArtifactNotFoundError, NotARepositoryError, PathNotFoundError, UsageError
from ..progress import SILENT, Progress
from ..storage.records import MetadataRecord, VersionRecord, pid_of
from ..repo import Repo, open_repo
from ..results import InferResult, OutputInfo
from ..runtime import arrays as arrays_mod
from ..runtime import onnx as ort_runtime
from ..runtime.model import Model
from ..storage.tree import is_tree
from .conversion import onnx_version
from .resolve import Resolved, require_model, resolve, stored_path


def load_model(target: str | os.PathLike, *, repo: Repo | str | None = None, device: str = "cpu",
               threads: int | None = None, progress: Progress = SILENT) -> Model:
    """The ONNX form of *target*, ready to ``run`` (its session is created once per process).

    *progress* sees the conversion's steps when the ONNX form has to be made first.

    Raises:
        ArtifactNotFoundError, UsageError (a dataset), the conversion's errors when the ONNX
        form has to be made first, DeviceUnavailableError (exit 4).
    """
    text = os.fspath(target)
    if text.endswith(".onnx") and Path(text).is_file() and not _tracked(text, repo):
        model = Model(name=Path(text).stem, pid=None, path=Path(text).resolve(), device=device, threads=threads)
    else:
        r = open_repo(repo)
        model = _stored_model(r, _resolve_source(r, text), device, threads, progress)
    model.session  # open it now: a device problem shows here, not at the first run
    return model


def infer(target: str | os.PathLike, *, input: str | os.PathLike, output: str | os.PathLike | None = None,
          repo: Repo | str | None = None, device: str = "cpu", batch_size: int | None = None,
          threads: int | None = None, progress: Progress = SILENT) -> InferResult:
    """Run *target* on the arrays in *input* (a file, or a dataset artifact); write *output* if given.

    The output format follows its suffix (.npz, .npy, .csv, .json). Nothing is
    written to *output* unless the whole run succeeds. *progress* sees the rows
    run (one phase, unit "row"), after a conversion's steps when the ONNX form is made first.

    Raises:
        InputMismatchError, InputFileError (exit 1), UsageError, DeviceUnavailableError (exit 4).
    """
    model = load_model(target, repo=repo, device=device, threads=threads, progress=progress)
    session = model.session
    arrays, source = _input_arrays(input, repo)
    checked = ort_runtime.check_inputs(session.signature, arrays, source=source)
    rows = ort_runtime.batch_count(checked, session.signature)
    result = InferResult(model=model.name, pid=model.pid, device=session.device, rows=rows,
                         batch_size=batch_size or ort_runtime.DEFAULT_BATCH, input=source)
    progress.start("infer", rows or 1, "row")
    if output is None:
        outputs = ort_runtime.run(session, checked, batch_size, on_rows=progress.advance) or []
        result.arrays = dict(zip(session.output_names, outputs))
    else:
        target_path = Path(output)
        arrays_mod.check_output_path(target_path, len(session.output_names))
        writer = arrays_mod.OutputWriter(target_path, session.output_names, rows)
        try:
            ort_runtime.run(session, checked, batch_size, sink=writer, on_rows=progress.advance)
            result.outputs = {name: OutputInfo(**doc) for name, doc in writer.described().items()}
            result.output = os.fspath(writer.commit())
        finally:
            writer.discard()
        return result
    result.outputs = {name: {"shape": list(a.shape), "dtype": str(a.dtype)} for name, a in result.arrays.items()}
    return result


def load_dataset(target: str, *, repo: Repo | str | None = None) -> Any:
    """A dataset's content: arrays for a .npy (memory-mapped), .csv or .npz (a dict) file, else its path.

    A folder is checked out first if it is not in the work tree, and its path returned.

    Raises:
        ArtifactNotFoundError, InputFileError.
    """
    r = open_repo(repo)
    source = resolve(r, target)
    record = source.record
    suffix = Path(record.path).suffix.lower()
    if not is_tree(record.oid) and suffix in (".npy", ".npz", ".csv", ".json"):
        arrays = arrays_mod.read_arrays(stored_path(r, record), fmt=suffix)
        return arrays if suffix == ".npz" else arrays[arrays_mod.UNNAMED]
    workspace = r.root / record.path
    if not workspace.exists():
        from .checkout import checkout

        checkout([f"{record.artifact}@{source.number}" if source.ref else target], repo=r)
    return workspace


# --- helpers ---------------------------------------------------------------------

def _tracked(path: str, repo: Repo | str | None) -> bool:
    try:
        r = open_repo(repo)
    except NotARepositoryError:
        return False
    from ..worktree.workspace import to_relpath

    try:
        return r.catalog.by_path(to_relpath(r.root, Path(path).resolve())) is not None
    except ValueError:
        return False


def _resolve_source(r: Repo, text: str) -> Resolved:
    try:
        return resolve(r, text)
    except ArtifactNotFoundError:
        path = Path(text)
        if not path.exists():
            raise
    from ..worktree.workspace import resolve_user_path, to_relpath

    ref = r.catalog.by_path(to_relpath(r.root, resolve_user_path(r.root, text)))
    if ref is None:
        raise UsageError(f"{text} is not tracked", hint=f"add it first: hpcfair add {text}")
    return resolve(r, ref.name)


def _stored_model(r: Repo, source: Resolved, device: str, threads: int | None, progress: Progress) -> Model:
    require_model(source, "infer runs a model", hint="pass it as --input; the model is the first argument")
    version_id = onnx_version(r, source, progress)
    version = r.records.get(version_id, VersionRecord)
    metadata = r.records.get(version.metadata, MetadataRecord).to_dict() if version.metadata else {}
    return Model(name=version.artifact, pid=pid_of(version_id), path=stored_path(r, version),
                 metadata={k: v for k, v in metadata.items() if k != "type"}, device=device, threads=threads)


def _input_arrays(value: str | os.PathLike, repo: Repo | str | None) -> tuple[dict[str, Any], str]:
    path = Path(value)
    if path.exists():
        return arrays_mod.read_arrays(path), path.name
    try:
        data = load_dataset(os.fspath(value), repo=repo)
    except (ArtifactNotFoundError, NotARepositoryError):
        raise PathNotFoundError(f"input {value} is neither a file nor a dataset artifact") from None
    if isinstance(data, Path):
        raise UsageError(f"dataset {value} is a folder or a {data.suffix or 'plain'} file: no arrays to feed",
                         hint="give a .npy, .npz, .csv or .json file or dataset")
    return (data if isinstance(data, dict) else {arrays_mod.UNNAMED: data}), os.fspath(value)
