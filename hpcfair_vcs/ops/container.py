"""``hpcfair infer --container``: the model runs in the pinned runtime image, the rest on the host.

The host resolves the model, reads and checks the inputs against the stored
signature (no onnxruntime on the host), and writes them, cast, to a scratch
folder; the container gets the model file and that input file read-only, an
empty output folder as the only writable place, no network and a non-root
user, and runs hpcfair's runner (container/runner.py), which slices batches
exactly as the host does. Its outputs are read back as regular files only
(no links) and written in the format the output path asks for.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..container import image as image_mod
from ..container.podman import ContainerSpec, Mount, container_user_owns, run_container
from ..errors import ContainerFailedError
from ..fileio.files import open_regular
from ..fileio.tmpfiles import tmp_name
from ..onnx_io.signature import Signature
from ..progress import Progress
from ..repo import Repo
from ..results import ContainerInfo
from ..runtime.snapshot import hardware
from ..storage.records import RuntimeRecord
from ..version import __version__
from .images import container_info, container_settings, limits_for, podman_for



class Scratch:
    """A scratch folder for one container run: under the repository's tmp/ when there is one."""

    def __init__(self, r: Repo | None, stem: str) -> None:
        self.path = tmp_name(r.tmp_dir, stem) if r is not None else Path(tempfile.mkdtemp(prefix=f"hpcfair-{stem}"))

    def __enter__(self) -> Path:
        self.path.mkdir(exist_ok=True)
        return self.path

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


class ImageLookup:
    """The runtime image being looked up (one podman call, ~40 ms), while the host reads and checks the inputs.

    Raises (at once): PodmanMissingError; (from ``image()``): ImageNotFoundError.
    """

    def __init__(self, r: Repo | None, image: str | None) -> None:
        self.r = r
        self.settings = container_settings(r)
        self.podman = podman_for(self.settings)
        self._pool = ThreadPoolExecutor(1)
        self._image = self._pool.submit(image_mod.choose, self.podman, image or self.settings["image"])
        self._pool.shutdown(wait=False)

    def image(self) -> image_mod.Image:
        return self._image.result()


def infer_in_container(lookup: ImageLookup, model_path: Path, name: str, signature: Signature,
                       checked: dict[str, Any], rows: int, batch_size: int, threads: int | None, progress: Progress, *,
                       memory: str | None = None, gpus: str | None = None) -> tuple[list[Any], ContainerInfo]:
    """The outputs (in the model's order) of *model_path* on *checked* inputs, run in a container."""
    import numpy as np

    r, settings, podman = lookup.r, lookup.settings, lookup.podman
    chosen = lookup.image()
    dtypes = {t.name: np.dtype(t.dtype) for t in signature.inputs}
    with Scratch(r, "container-") as work:
        model = work / "model.onnx"
        _link_or_copy(model_path, model)
        np.savez(work / "inputs.npz", **{n: np.asarray(a, dtype=dtypes[n]) for n, a in checked.items()})
        out = work / "out"
        out.mkdir()
        container_user_owns(out)
        spec = ContainerSpec(
            image=chosen.id, what=f"inference of {name} in image {chosen.short_id}",
            command=[image_mod.PYTHON, image_mod.RUNNER_IN_IMAGE, "infer", "/in/model.onnx", "/in/inputs.npz", "/out",
                     str(batch_size), str(threads or 0)],
            mounts=[Mount(model, "/in/model.onnx"), Mount(work / "inputs.npz", "/in/inputs.npz"),
                    Mount(out, "/out", writable=True)],
            # numpy's BLAS threads start at import and are never used by the runner (onnxruntime has its own)
            env={"HOME": "/tmp", "OPENBLAS_NUM_THREADS": "1", **({"HPCFAIR_DEVICE": "cuda"} if gpus else {})},
            limits=limits_for(settings, memory, None, gpus))
        described = last_json_line(run_container(podman, spec))
        outputs = _read_outputs(out, [t.name for t in signature.outputs], np)
    progress.advance(rows or 1)
    return outputs, container_info(chosen, described)


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _read_outputs(out: Path, names: list[str], np: Any) -> list[Any]:
    """The runner's outputs, read as regular files (never through a link); checked against the model's names."""
    listed = json.loads(_read_regular(out / "outputs.json", 1 << 20).decode("utf-8", "replace") or "null")
    if listed != names:
        raise ContainerFailedError(f"the container's runner reported outputs {listed!r}, the model has {names}",
                                   hint="rebuild the runtime image: hpcfair image build")
    arrays = []
    for index in range(len(names)):
        try:
            fd, _ = open_regular(out / f"{index}.npy")
        except OSError as exc:
            raise ContainerFailedError(f"the container wrote no output {index}: {exc.strerror or exc}") from None
        with os.fdopen(fd, "rb") as stream:
            arrays.append(np.load(stream, allow_pickle=False))
    return arrays


def _read_regular(path: Path, limit: int) -> bytes:
    try:
        fd, size = open_regular(path, limit)
    except OSError as exc:
        raise ContainerFailedError(f"the container wrote no readable {path.name}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as stream:
        return stream.read(min(size, limit))


def last_json_line(stdout: str) -> dict[str, Any]:
    """The runner's report (its last stdout line), or {} when it printed none."""
    for line in reversed(stdout.strip().splitlines()):
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        return doc if isinstance(doc, dict) else {}
    return {}


def container_runtime(info: ContainerInfo, hyperparameters: dict[str, Any] | None = None) -> RuntimeRecord:
    """The runtime record of a step run in a container: the image's software, the host's hardware and kernel."""
    return RuntimeRecord(
        python=info.python,
        platform={"system": "Linux", "release": platform.release(), "machine": platform.machine(),
                  "container_engine": "podman", "container_image": info.image, "image_name": info.image_name},
        packages={"hpcfair": __version__, **info.packages}, hardware=hardware(),
        hyperparameters=dict(hyperparameters or {}))
