"""``hpcfair infer``, ``load_model`` and ``load_dataset``: running stored models on data.

A target is an artifact (``NAME[@VERSION]``), a PID, or a path. A model that
is not ONNX runs through its ONNX form (converted on first use, then cached);
an ``.onnx`` file outside any repository runs as it is.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from ..errors import ArtifactNotFoundError, NotARepositoryError, PathNotFoundError, UsageError
from ..progress import SILENT, Progress
from ..storage.records import MetadataRecord, VersionRecord, pid_of
from ..repo import Repo, open_repo
from ..results import InferResult, OutputInfo
from ..runtime import arrays as arrays_mod
from ..runtime import onnx as ort_runtime
from ..onnx_io.signature import Signature
from ..runtime.model import Model
from ..storage.tree import is_tree
from . import scaled_infer
from .conversion import onnx_version
from .inference_output import check_storable, store_output
from .resolve import Resolved, require_model, resolve, stored_path


def load_model(target: str | os.PathLike, *, repo: Repo | str | None = None, device: str = "cpu",
               threads: int | None = None, progress: Progress = SILENT) -> Model:
    """The ONNX form of *target*, ready to ``run`` (its session is created once per process).

    *progress* sees the conversion's steps when the ONNX form has to be made first.

    Raises:
        ArtifactNotFoundError, UsageError (a dataset), the conversion's errors when the ONNX
        form has to be made first, DeviceUnavailableError (exit 4).
    """
    model = _model_for(target, repo, device, threads, progress)
    model.session  # open it now: a device problem shows here, not at the first run
    return model


def infer(target: str | os.PathLike, *, input: str | os.PathLike, output: str | os.PathLike | None = None,
          repo: Repo | str | None = None, device: str = "cpu", batch_size: int | None = None,
          threads: int | None = None, progress: Progress = SILENT, container: bool = False,
          image: str | None = None, memory: str | None = None, gpus: str | None = None,
          add_as: str | None = None, scheduler: str | None = None, workers: int | None = None,
          chunk_rows: int | None = None, remote: str | None = None) -> InferResult:
    """Run *target* on the arrays in *input* (a file, a folder, or a dataset artifact); write *output* if given.

    The output format follows its suffix (.npz, .npy, .csv, .json). Nothing is
    written to *output* unless the whole run succeeds. *progress* sees the rows
    run (one phase, unit "row"), after a conversion's steps when the ONNX form is made first.
    With *container*, the model runs in the runtime image (*image*, else ``container.image``,
    else the one built for this host: image.choose) under Podman, with *memory* and *gpus* (docs/containers.md).
    *add_as* stores the *output* file as a version of that dataset artifact, its provenance naming the
    model, the input and (in a container) the image.
    A folder (or a dataset whose data is one) of .npy/.npz/.csv/.parquet files runs file by file, in path order.
    With *scheduler* (``local[:N]``, ``slurm[:JOBS]``, ``pbs[:JOBS]``, ``tcp://HOST:PORT``) the input's chunks of
    *chunk_rows* rows run on a Dask cluster of *workers*, reading the store, or *remote* when the workers do not
    share its file system; the *output* is then always added as dataset *add_as* (default: its file name's
    stem) (docs/scaleout.md).

    Raises:
        InputMismatchError, InputFileError (exit 1), UsageError, DeviceUnavailableError (exit 4),
        PodmanMissingError, ImageNotFoundError (exit 4), ContainerFailedError (exit 1),
        ChunkFailedError (exit 1), SchedulerError (exit 4).
    """
    if scheduler is not None:
        return _infer_scaled(target, input, output, repo, batch_size, threads, progress, container, add_as,
                             scheduler, workers, chunk_rows, remote)
    if workers is not None or chunk_rows is not None or remote is not None:
        raise UsageError("--workers, --chunk-rows and --remote go with --scheduler", hint="add --scheduler local")
    lookup = None
    if container:
        from .container import ImageLookup

        lookup = ImageLookup(_repo_or_none(repo), image)  # podman answers while the inputs are read
    model = _model_for(target, repo, device, threads, progress)
    signature = _stored_signature(model) if container else None  # the host then needs no onnxruntime
    if signature is None:
        signature = model.session.signature
    names = [t.name for t in signature.outputs]
    target_path = Path(output) if output is not None else None
    if add_as is not None and target_path is None:
        raise UsageError("--add stores the output file: give --output too")
    if target_path is not None:
        arrays_mod.check_output_path(target_path, len(names))
    if add_as is not None:
        check_storable(open_repo(repo), target_path)
    local_repo = _repo_or_none(repo) if lookup is None else None
    if lookup is None and scaled_infer.is_folder_dataset(local_repo, input):
        chunks, size = scaled_infer.folder_chunks(local_repo, input, batch_size)
        rows = sum(chunk.rows for chunk in chunks)
        source = os.fspath(input)
        produce = partial(_run_folder, model, chunks, size, progress)
    else:
        arrays, source = _input_arrays(input, repo)
        checked = ort_runtime.check_inputs(signature, arrays, source=source)
        rows = ort_runtime.batch_count(checked, signature)
        size = batch_size or ort_runtime.DEFAULT_BATCH
        produce = partial(ort_runtime.run, model.session, checked, batch_size, on_rows=progress.advance)
    result = InferResult(model=model.name, pid=model.pid, device="container" if container else model.session.device,
                         rows=rows, batch_size=size, input=source)
    progress.start("infer", rows or 1, "row")
    if lookup is not None:
        from .container import infer_in_container

        outputs, result.container = infer_in_container(lookup, model.path, model.name, signature, checked, rows,
                                                       size, threads, progress, memory=memory, gpus=gpus)
        produce = _already(outputs)
    if target_path is None:
        result.arrays = dict(zip(names, produce() or []))
        result.outputs = {n: {"shape": list(a.shape), "dtype": str(a.dtype)} for n, a in result.arrays.items()}
        return result
    writer = arrays_mod.OutputWriter(target_path, names, rows)
    try:
        produce(sink=writer)
        result.outputs = {name: OutputInfo(**doc) for name, doc in writer.described().items()}
        result.output = os.fspath(writer.commit())
    finally:
        writer.discard()
    if add_as is not None:
        result.added = store_output(open_repo(repo), result, add_as, model.pid, os.fspath(input), threads)
    return result


def load_dataset(target: str, *, repo: Repo | str | None = None) -> Any:
    """A dataset's content: arrays for a .npy (memory-mapped), .csv, .json, .parquet or .npz (a dict) file,
    else its path.

    A folder is checked out first if it is not in the work tree, and its path returned.

    Raises:
        ArtifactNotFoundError, InputFileError.
    """
    r = open_repo(repo)
    source = resolve(r, target)
    record = source.record
    suffix = Path(record.path).suffix.lower()
    if not is_tree(record.oid) and suffix in arrays_mod.INPUT_SUFFIXES:
        arrays = arrays_mod.read_arrays(stored_path(r, record), fmt=suffix)
        return arrays if suffix == ".npz" or arrays_mod.UNNAMED not in arrays else arrays[arrays_mod.UNNAMED]
    workspace = r.root / record.path
    if not workspace.exists():
        from .checkout import checkout

        checkout([f"{record.artifact}@{source.number}" if source.ref else target], repo=r)
    return workspace


# --- helpers ---------------------------------------------------------------------

def _infer_scaled(target, input, output, repo, batch_size, threads, progress, container, add_as, scheduler,
                  workers, chunk_rows, remote) -> InferResult:
    if container:
        raise UsageError("--scheduler and --container do not go together: the workers run onnxruntime themselves",
                         hint="drop one of them")
    if output is None:
        raise UsageError("--scheduler writes the output to a file and stores it: give --output")
    r = open_repo(repo)
    model = _model_for(target, r, "cpu", threads, progress)
    return scaled_infer.infer_on_cluster(r, model, os.fspath(input), Path(output), add_as, scheduler=scheduler,
                                         workers=workers, chunk_rows=chunk_rows, batch_size=batch_size,
                                         threads=threads, remote=remote, progress=progress)


def _run_folder(model: Model, chunks: list, size: int, progress: Progress,
                sink: Callable[[int, list[Any]], None] | None = None) -> list[Any] | None:
    """``ort_runtime.run``'s shape for a folder's chunks: handed to the sink, or returned concatenated."""
    if sink is not None:
        scaled_infer.run_folder(model, chunks, size, sink, progress)
        return None
    pieces: list[list[Any]] = []
    scaled_infer.run_folder(model, chunks, size, lambda _start, outputs: pieces.append(outputs), progress)
    import numpy as np

    return [np.concatenate([p[i] for p in pieces]) for i in range(len(pieces[0]))] if pieces else []


def _model_for(target: str | os.PathLike, repo: Repo | str | None, device: str, threads: int | None,
               progress: Progress) -> Model:
    """The Model of *target*, its session not opened yet."""
    text = os.fspath(target)
    if text.endswith(".onnx") and Path(text).is_file() and not _tracked(text, repo):
        return Model(name=Path(text).stem, pid=None, path=Path(text).resolve(), device=device, threads=threads)
    r = open_repo(repo)
    return _stored_model(r, _resolve_source(r, text), device, threads, progress)


def _stored_signature(model: Model) -> Signature | None:
    """The signature the repository recorded for *model* (no onnxruntime needed), or None."""
    doc = model.metadata.get("signature")
    return Signature.from_dict(doc) if doc and doc.get("inputs") and doc.get("outputs") else None


def _already(outputs: list[Any]) -> Callable[..., list[Any] | None]:
    """``ort_runtime.run``'s shape for outputs made elsewhere: returned, or handed to the sink whole."""
    def produce(sink: Callable[[int, list[Any]], None] | None = None) -> list[Any] | None:
        if sink is None:
            return outputs
        sink(0, outputs)
        return None
    return produce


def _repo_or_none(repo: Repo | str | None) -> Repo | None:
    try:
        return open_repo(repo)
    except NotARepositoryError:
        return None


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
    if not metadata.get("signature"):  # an ONNX file added as it was: add's conversion step wrote it to the ref
        ref = r.refs.find(version.artifact)
        if ref is not None and ref.head == version_id and ref.metadata:
            metadata = {**metadata, "signature": r.records.get(ref.metadata, MetadataRecord).signature}
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
        raise UsageError(f"dataset {value} is a {data.suffix or 'plain'} file: no arrays to feed",
                         hint="give a .npy, .npz, .csv, .json or .parquet file, or a folder of them, or such a dataset")
    return (data if isinstance(data, dict) else {arrays_mod.UNNAMED: data}), os.fspath(value)
