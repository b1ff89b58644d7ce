"""``hpcfair infer ... -o OUT --add NAME``: an inference's output stored as a dataset artifact with provenance.

The provenance (activity ``infer``) names the model version and, when the input
is a stored version (a dataset artifact, or a tracked file whose bytes are a
stored version), that version; otherwise the input file's sha256. It records
the batch size, threads and device, the rows, — run in a container — the
image ID, and — run on a Dask cluster — the scheduler, the workers and the
chunking; its runtime record is the container's (the image's software) or the
host's snapshot.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import PathOutsideRepoError, UsageError
from ..repo import Repo
from ..results import AddedItem, ContainerInfo, InferResult
from ..runtime.snapshot import snapshot
from ..storage.records import ProvenanceRecord, VersionRecord
from ..storage.store import hash_file
from ..version import __version__
from ..worktree.workspace import resolve_user_path, to_relpath
from .add import add
from .container import container_runtime
from .derived import INFER
from .resolve import resolve


def store_output(r: Repo, result: InferResult, name: str, model_pid: str | None, input_spec: str,
                 threads: int | None) -> AddedItem:
    """Add *result*'s output file as version of dataset *name*, its provenance naming model and input.

    Raises:
        UsageError: no output file, or it lies outside the repository.
    """
    if result.output is None:
        raise UsageError("--add stores the output file: give --output too")
    path = Path(result.output)
    check_storable(r, path)
    used: list[tuple[str, str]] = []  # (version id, object id)
    if model_pid:
        model = resolve(r, model_pid)
        used.append((model.version_id, model.record.oid))
    input_version = _input_version(r, input_spec)
    if input_version is not None:
        used.append(input_version)
    if input_version is None and Path(input_spec).is_dir():
        raise UsageError(f"--add: the input folder {input_spec} is not a stored dataset, so the provenance "
                         "could not name it", hint=f"add it first (hpcfair add {input_spec}) and pass its name")
    container, scale = result.container, result.scale
    provenance = ProvenanceRecord(
        activity=INFER, derived_from=[vid for vid, _ in used], source_oids=[oid for _, oid in used],
        generated_by={"tool": "hpcfair", "version": __version__,
                      **({"engine": "podman", "image": container.image, "image_name": container.image_name}
                         if container else {}), **({"engine": "dask"} if scale else {})},
        parameters={"model": result.model, "input": result.input, "batch_size": result.batch_size,
                    "threads": threads, "device": result.device,
                    **({"input_sha256": hash_file(Path(input_spec))} if input_version is None else {}),
                    **({"scheduler": scale.scheduler, "workers": scale.workers, "chunks": scale.chunks,
                        "chunk_rows": scale.chunk_rows} if scale else {})},
        results={"rows": result.rows, "outputs": sorted(result.outputs)})
    provenance.runtime = r.records.put(_runtime(container))
    (item,) = add([path], repo=r, name=name, kind="dataset", convert=False, provenance=provenance).items
    return item


def check_storable(r: Repo, output: Path) -> None:
    """Refuse an output that could not be stored (outside the repository), before anything runs.

    Raises:
        UsageError.
    """
    try:
        resolve_user_path(r.root, output, must_exist=False)
    except PathOutsideRepoError:
        raise UsageError(f"the output {output} is outside the repository, so it cannot be stored",
                         hint="write it inside the repository to store it (--add, --scheduler)") from None


def _input_version(r: Repo, spec: str) -> tuple[str, str] | None:
    """The stored version *spec* is: an artifact or PID, or a tracked file whose bytes are its current version."""
    path = Path(spec)
    if not path.exists():
        resolved = resolve(r, spec)
        return resolved.version_id, resolved.record.oid
    if path.is_dir():
        return None
    try:
        ref = r.catalog.by_path(to_relpath(r.root, resolve_user_path(r.root, spec)))
    except (ValueError, OSError):
        return None
    if ref is None or not ref.head:
        return None
    head = r.records.get(ref.head, VersionRecord)
    return (ref.head, head.oid) if head.oid == hash_file(path) else None



def _runtime(container: ContainerInfo | None):
    return container_runtime(container) if container else snapshot(["onnxruntime"])

