"""``hpcfair infer --scheduler``: a dataset's chunks run on a Dask cluster, the output stored with provenance.

The output is assembled here in chunk order (a ``.npy`` output streams to disk)
and added as a dataset version whose provenance names the model, the input,
the scheduler, the workers and the chunking (docs/scaleout.md). Nothing is
written or stored unless every chunk succeeded; Ctrl-C cancels the chunks,
closes the cluster (its batch jobs too) and removes the partial file.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

from ..config import SCHEMA
from ..errors import UsageError
from ..progress import SILENT, Progress
from ..repo import Repo
from ..results import InferResult, OutputInfo, ScaleInfo
from ..runtime import arrays as arrays_mod
from ..runtime.model import Model
from ..runtime.onnx import DEFAULT_BATCH
from ..scaleout.cluster import connect, parse_scheduler
from ..scaleout.engine import Sink, prepare_workers, run_in_process, run_on_cluster
from ..scaleout.plan import Chunk, StoredObject, chunk_size, plan
from ..storage.tree import is_tree
from .dataset_shards import dataset_shards, stored_object
from .derived import scratch_dir
from .inference_output import check_storable, store_output
from .resolve import resolve

WINDOW_PER_WORKER = 4  # chunks out per worker: one running, the rest queued or on their way back


def infer_on_cluster(r: Repo, model: Model, input_spec: str, output: Path, add_as: str | None, *, scheduler: str,
                     workers: int | None,
                     chunk_rows: int | None, batch_size: int | None, threads: int | None, remote: str | None,
                     progress: Progress = SILENT) -> InferResult:
    """Run *model* on dataset *input_spec* over the cluster *scheduler* names; add *output* as dataset *add_as*.

    Raises:
        UsageError, ChunkFailedError (exit 1), SchedulerError (exit 4), InputFileError, RemoteNotFoundError.
    """

    spec = parse_scheduler(scheduler)
    check_storable(r, output)
    if workers is not None:
        if spec.kind == "address":
            raise UsageError("workers: a cluster reached at its address has the workers it has",
                             hint="start more workers there (dask worker ADDRESS)")
        spec = replace(spec, count=spec.count or workers)
    settings = r.config["scheduler"]
    source_remote = _remote(r, remote)
    shards = dataset_shards(r, input_spec, source_remote)
    size = batch_size or DEFAULT_BATCH
    rows_per_chunk = chunk_size(chunk_rows or settings["chunk_rows"], size)
    chunks = plan(shards, rows_per_chunk)
    names = [t.name for t in model.session.signature.outputs]
    arrays_mod.check_output_path(output, len(names))
    model_object = stored_object(r, _model_oid(r, model), source_remote)
    rows = sum(c.rows for c in chunks)
    result = InferResult(model=model.name, pid=model.pid, device="cpu", rows=rows, batch_size=size,
                         input=os.fspath(input_spec))
    writer = arrays_mod.OutputWriter(output, names, rows)
    try:
        with scratch_dir(r, "dask-") as scratch, connect(spec, settings, scratch / "cluster", progress) as cluster:
            threads = threads or cluster.threads
            prepare_workers(cluster.client, model_object, threads)
            started = time.monotonic()
            on_chunk = _reporter(progress, rows, len(chunks), cluster.workers)
            workers = run_on_cluster(cluster.client, model_object, chunks, size, threads, writer, on_chunk,
                                     per_worker=WINDOW_PER_WORKER)
            result.scale = ScaleInfo(scheduler=cluster.shown, workers=max(workers, cluster.workers),
                                     chunks=len(chunks), chunk_rows=rows_per_chunk, shards=len(shards),
                                     seconds=round(time.monotonic() - started, 3))
        result.outputs = {name: OutputInfo(**doc) for name, doc in writer.described().items()}
        result.output = os.fspath(writer.commit())
    finally:
        writer.discard()
    result.added = store_output(r, result, add_as or output.stem, model.pid, os.fspath(input_spec), threads)
    return result


def folder_chunks(r: Repo | None, spec: str | os.PathLike, batch_size: int | None) -> tuple[list[Chunk], int]:
    """A folder dataset's chunks for ``infer`` without a scheduler (cut as on a cluster), and the batch size."""
    size = batch_size or DEFAULT_BATCH
    chunk_rows = r.config["scheduler"]["chunk_rows"] if r is not None else SCHEMA["scheduler"]["chunk_rows"][1]
    return plan(dataset_shards(r, spec), chunk_size(chunk_rows, size)), size


def run_folder(model: Model, chunks: list[Chunk], batch_size: int, sink: Sink, progress: Progress) -> None:
    """*chunks* one after the other in this process, their outputs to *sink* in order."""
    run_in_process(StoredObject(os.fspath(model.path)), chunks, batch_size, model.threads, sink,
                   lambda chunk: progress.advance(chunk.rows), device=model.device)


def is_folder_dataset(r: Repo | None, spec: str | os.PathLike) -> bool:
    """Whether *spec* is a folder, or a dataset artifact whose data is a folder."""
    path = Path(spec)
    if path.exists():
        return path.is_dir()
    if r is None:
        return False
    try:
        return is_tree(resolve(r, os.fspath(spec)).record.oid)
    except (KeyError, ValueError):
        return False


# --- helpers ---------------------------------------------------------------------

def _reporter(progress: Progress, rows: int, chunks: int, workers: int):
    progress.start(f"infer on {workers} worker{'s' if workers > 1 else ''}", rows or chunks, "row")
    done = 0

    def on_chunk(chunk: Chunk) -> None:
        nonlocal done
        done += 1
        progress.detail(f"chunk {done}/{chunks}")  # shown with the advance's redraw
        progress.advance(chunk.rows)
    return on_chunk


def _remote(r: Repo, name: str | None):
    if name is None:
        return None
    from ..remotes.connect import open_remote

    return open_remote(r, name)


def _model_oid(r: Repo, model: Model) -> str:
    if model.pid is None:
        raise UsageError("--scheduler runs a stored model: this .onnx file is not in the repository",
                         hint=f"add it first: hpcfair add {model.path}")
    oid = resolve(r, model.pid).record.oid
    if is_tree(oid):
        raise UsageError(f"{model.name}'s ONNX form is a folder (external data), which scale-out cannot ship yet",
                         hint="run it without --scheduler")
    return oid
