"""Feeding chunks to workers and their outputs, in order, to a sink.

At most *per_worker* chunks for each worker up are out at once (running,
queued, or done and waiting for an earlier one), so the client holds a bounded number of outputs and the
workers a bounded number of inputs, whatever the dataset's size. Outputs reach
the sink in chunk order: ``sink(first_row, outputs)``, as onnxruntime's batches
do in a single process. If anything goes wrong — a chunk's error, a chunk whose
workers kept dying, Ctrl-C — every chunk still out is cancelled before the
error leaves.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from itertools import islice
from typing import Any

from ..errors import ChunkFailedError, SchedulerError
from .plan import Chunk, StoredObject
from .worker import ChunkDone, ChunkFailed, open_model, run_chunk

Sink = Callable[[int, list[Any]], None]
OnChunk = Callable[[Chunk], None]


def run_on_cluster(client: Any, model: StoredObject, chunks: list[Chunk], batch_size: int, threads: int | None,
                   sink: Sink, on_chunk: OnChunk, per_worker: int) -> int:
    """Run every chunk on *client*'s cluster, *per_worker* chunks out for each worker up (batch jobs that
    start late widen the window); returns the most workers seen.

    Raises:
        ChunkFailedError: naming the chunk (its shard and rows) and the worker's error.
    """
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    run_id = uuid.uuid4().hex[:12]
    waiting = iter(chunks)
    out: dict[str, tuple[Any, Chunk]] = {}
    held: dict[int, list[Any]] = {}
    queue = as_completed(loop=client.loop, with_results=True, raise_errors=False)  # results fetched as they land

    def submit(count: int) -> None:
        for chunk in islice(waiting, max(count, 0)):
            future = client.submit(run_chunk, model, chunk, batch_size, threads, pure=False,
                                   key=f"hpcfair-infer-{run_id}-{chunk.index}")
            out[future.key] = (future, chunk)
            queue.add(future)

    workers = WorkerCount(client)
    turn = 0
    try:
        submit(per_worker * workers.now())
        for future, result in queue:
            chunk = out[future.key][1]
            failure = future.exception() if future.status == "error" else None
            if isinstance(failure, KilledWorker):
                raise ChunkFailedError(f"{chunk.describe()}: every worker that ran it died (killed, or out of "
                                       "memory); nothing was stored",
                                       hint="give the workers more memory (scheduler.memory), or smaller "
                                            "chunks (--chunk-rows)")
            if future.status != "finished":
                raise ChunkFailedError(f"{chunk.describe()}: Dask lost it ({future.status}: {failure!r}); "
                                       "nothing was stored")
            del out[future.key]
            if isinstance(result, ChunkFailed):
                raise ChunkFailedError(f"{result.error} (on worker {result.worker}); nothing was stored",
                                       hint=result.hint or None)
            held[result.index] = result.outputs
            while turn in held:
                sink(chunks[turn].offset, held.pop(turn))
                on_chunk(chunks[turn])
                turn += 1
            submit(per_worker * workers.now() - len(out) - len(held))
    finally:
        if out:
            client.cancel([future for future, _ in out.values()], force=True)
    return workers.most


class WorkerCount:
    """The cluster's workers, asked of the scheduler at most once a second."""

    def __init__(self, client: Any) -> None:
        self.client, self.asked, self.count, self.most = client, 0.0, 1, 0

    def now(self) -> int:
        if time.monotonic() - self.asked >= 1.0:
            self.count = max(1, len(self.client.scheduler_info(n_workers=-1)["workers"]))
            self.most, self.asked = max(self.most, self.count), time.monotonic()
        return self.count


def prepare_workers(client: Any, model: StoredObject, threads: int | None) -> None:
    """Every worker up now opens the model once (a worker that starts later opens it at its first chunk).

    Raises:
        SchedulerError: a worker cannot open it (it does not see the store, say), naming the worker.
    """
    for worker, error in client.run(open_model, model, threads).items():
        if error:
            raise SchedulerError(f"worker {worker} cannot open the model: {error}",
                                 hint="give --remote NAME when the workers do not share this file system")


def run_in_process(model: StoredObject, chunks: list[Chunk], batch_size: int, threads: int | None,
                   sink: Sink, on_chunk: OnChunk, device: str = "cpu") -> None:
    """The same chunks, one after the other in this process (``infer`` on a folder dataset).

    Raises:
        ChunkFailedError.
    """
    for chunk in chunks:
        result = run_chunk(model, chunk, batch_size, threads, device)
        if isinstance(result, ChunkFailed):
            raise ChunkFailedError(f"{result.error}; nothing was stored",
                                   hint=result.hint or "fix or remove that file of the dataset")
        assert isinstance(result, ChunkDone)
        sink(chunk.offset, result.outputs)
        on_chunk(chunk)
