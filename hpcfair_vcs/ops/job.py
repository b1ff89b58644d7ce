"""``hpcfair run job.yaml``: an MLCube-style job in the pinned runtime image, its outputs stored with provenance.

A job names a command, the artifacts it reads (mounted read-only at
``/in/NAME/``, by name or PID), its code (a file or folder of the work tree,
read-only at ``/job``), parameters (``/in/parameters.json``, and ``{key}`` in
the command), environment variables, and the files it writes under ``/out``
that become artifact versions. The container has no network, no capabilities,
a read-only root, a non-root user and memory/CPU/process limits; ``/out`` is
its only writable folder. Nothing is stored unless the job exits 0 and every
declared output is there as plain files (no links, no devices); each output
version's provenance names the job's inputs, command, parameters and image,
and its runtime record the image's software.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..container import image as image_mod
from ..container.podman import ContainerSpec, Mount, container_user_owns, run_container
from ..errors import ContainerFailedError, UsageError, WorkspaceConflictError
from ..repo import Repo, open_repo
from ..results import JobResult
from ..storage.records import ProvenanceRecord
from ..storage.refs import check_name
from ..storage.tree import is_tree
from ..validate import is_safe_relpath
from ..version import __version__
from ..worktree.materialize import build_folder, place_object
from ..worktree.safepath import check_writable
from ..worktree.workspace import resolve_user_path, to_relpath
from .add import add
from .derived import JOB
from .container import Scratch, container_runtime
from .images import container_info, container_settings, limits_for, podman_for
from .resolve import resolve, stored_path

LOG_LINES = 50
LINKS = ["hardlink", "copy"]  # how input objects reach the mounted folders
MAX_OUTPUT_FILES = 100_000


@dataclass
class JobOutput:
    """A file or folder the job writes under /out, stored as a version of *artifact*."""

    artifact: str
    path: str  # relative to /out; also where it is placed in the work tree, under the job's output folder
    kind: str | None = None


@dataclass
class Job:
    command: list[str]
    inputs: dict[str, str] = field(default_factory=dict)  # mount name -> NAME[@V] or PID
    code: str | None = None  # a path in the work tree, mounted at /job
    parameters: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    outputs: list[JobOutput] = field(default_factory=list)
    output_dir: str = "."  # work-tree folder the outputs are placed in
    timeout: float | None = None


def run_job(job: Job, *, repo: Repo | str | None = None, image: str | None = None, memory: str | None = None,
            cpus: float | None = None, gpus: str | None = None) -> JobResult:
    """Run *job* in a container and store its outputs as new versions.

    Raises:
        UsageError: a bad mount name, output path or command placeholder; ArtifactNotFoundError;
        MissingObjectError (exit 3): an input's data is not here; PodmanMissingError, ImageNotFoundError (exit 4);
        ContainerFailedError (exit 1): the job failed, or left an output missing or unsafe (nothing stored).
    """
    r = open_repo(repo)
    settings = container_settings(r)
    podman = podman_for(settings)
    chosen = image_mod.choose(podman, image or settings["image"])
    command = _command(job)
    for output in job.outputs:
        check_name(output.artifact)
    destinations = [_destination(r, job, output) for output in job.outputs]
    with Scratch(r, "job-") as work:
        mounts, used = _input_mounts(r, job, work)
        if job.code is not None:
            code = resolve_user_path(r.root, job.code)
            mounts.append(Mount(code, "/job" if code.is_dir() else f"/job/{code.name}"))
        params = work / "parameters.json"
        params.write_text(json.dumps(job.parameters, sort_keys=True), encoding="utf-8")
        out = work / "out"
        out.mkdir()
        container_user_owns(out)
        mounts += [Mount(params, "/in/parameters.json"), Mount(out, "/out", writable=True)]
        env = {"HOME": "/tmp", "HPCFAIR_PARAMETERS": "/in/parameters.json", "HPCFAIR_OUT": "/out",
               **job.environment}
        start = time.monotonic()
        stdout = run_container(podman, ContainerSpec(
            image=chosen.id, command=command, mounts=mounts, env=env, workdir="/out", timeout=job.timeout,
            limits=limits_for(settings, memory, cpus, gpus), what=f"the job ({' '.join(command)[:80]})"))
        seconds = round(time.monotonic() - start, 2)
        info = container_info(chosen, {})  # the image's pins: a job's own stdout is not trusted to say
        produced = [_checked_output(out, output) for output in job.outputs]
        provenance = ProvenanceRecord(
            activity=JOB, derived_from=[vid for vid, _, _ in used], source_oids=[oid for _, oid, _ in used],
            generated_by={"tool": "hpcfair", "version": __version__, "engine": "podman", "image": chosen.id,
                          "image_name": info.image_name},
            parameters={"command": command, "parameters": job.parameters, "environment": sorted(job.environment),
                        **({"code": _code_record(r, job.code)} if job.code else {})},
            results={"exit_code": 0, "seconds": seconds})
        provenance.runtime = r.records.put(container_runtime(info, job.parameters))
        items = []
        for output, source, destination in zip(job.outputs, produced, destinations):
            _place(r.root, source, destination)
            items += add([destination], repo=r, name=output.artifact, kind=output.kind, convert=False,
                         provenance=provenance).items
    return JobResult(command=command, container=info, seconds=seconds, inputs=[label for _, _, label in used],
                     outputs=items, log="\n".join(stdout.splitlines()[-LOG_LINES:]))


PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


def _command(job: Job) -> list[str]:
    """The command with each ``{name}`` replaced by that parameter (plain names only: no attribute access)."""
    if not job.command:
        raise UsageError("the job has no command", hint="task.command: [python, /job/train.py, --steps, '{steps}']")

    def fill(match: re.Match) -> str:
        if match.group(0) in ("{{", "}}"):
            return match.group(0)[0]
        name = match.group(1)
        if not name.isidentifier() or name not in job.parameters:
            raise UsageError(f"the command names {match.group(0)!r}, which task.parameters does not have",
                             hint="add it to task.parameters ({name} takes a parameter's value), or write {{ and "
                                  "}} for literal braces")
        return str(job.parameters[name])
    return [PLACEHOLDER.sub(fill, part) for part in job.command]


def _input_mounts(r: Repo, job: Job, work: Path) -> tuple[list[Mount], list[tuple[str, str, str]]]:
    """Each input artifact linked (read-only store objects) into *work*/in/NAME and mounted at /in/NAME."""
    mounts, used = [], []
    for mount_name, spec in sorted(job.inputs.items()):
        if not mount_name.replace("-", "").replace("_", "").replace(".", "").isalnum() or mount_name.startswith("."):
            raise UsageError(f"input name {mount_name!r}: use letters, digits, '-', '_' and '.' (it is a folder name)")
        source = resolve(r, spec)
        record = source.record
        folder = work / "in" / mount_name
        stored_path(r, record)  # not here: the pull to run
        if is_tree(record.oid):  # the manifest's hash checked, its objects linked (read-only) or copied
            build_folder(r.store, r.store.read_tree(record.oid), folder, LINKS)
        else:
            folder.mkdir(parents=True)
            place_object(r.store, record.oid, folder / Path(record.path).name, LINKS)
        mounts.append(Mount(folder, f"/in/{mount_name}"))
        used.append((source.version_id, record.oid, f"{record.artifact}@{source.number} (hpcfair:{source.version_id})"))
    return mounts, used


def _destination(r: Repo, job: Job, output: JobOutput) -> Path:
    """Where *output* goes in the work tree: inside the repository, and not a path another artifact (or
    nobody) owns — a job replaces only its own previous output.

    Raises:
        UsageError: a path that is not relative; PathOutsideRepoError; WorkspaceConflictError.
    """
    relpath = output.path
    if not is_safe_relpath(relpath):
        raise UsageError(f"output {output.artifact}: {relpath!r} is not a relative path inside /out",
                         hint="name a file or folder the job writes, e.g. model.onnx or results/")
    folder = resolve_user_path(r.root, job.output_dir, must_exist=False)
    destination = check_writable(r.root, folder / relpath)
    if destination.exists() or destination.is_symlink():
        owner = r.catalog.by_path(to_relpath(r.root, destination))
        if owner is None or owner.name != output.artifact:
            raise WorkspaceConflictError(
                f"{to_relpath(r.root, destination)} exists and is "
                + (f"artifact {owner.name}'s" if owner else "not tracked") + f", so output {output.artifact} "
                "would overwrite it", hint="choose another output.path, or move it away first")
    return destination


def _checked_output(out: Path, output: JobOutput) -> Path:
    """The job's output as it left it: a regular file, or a folder of only regular files and folders."""
    path = out / output.path
    try:
        st = os.lstat(path)
    except OSError:
        raise ContainerFailedError(f"the job exited 0 but wrote no {output.path} (output {output.artifact}); "
                                   "nothing was stored", hint="write it under /out (HPCFAIR_OUT)") from None
    if stat.S_ISREG(st.st_mode):
        return path
    if not stat.S_ISDIR(st.st_mode):
        raise ContainerFailedError(f"the job's output {output.path} is a link or special file; nothing was stored")
    count = 0
    for folder, dirs, files in os.walk(path):
        for name in dirs + files:
            count += 1
            mode = os.lstat(os.path.join(folder, name)).st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise ContainerFailedError(f"the job's output {output.path} holds a link or special file {name}; "
                                           "nothing was stored")
            if count > MAX_OUTPUT_FILES:
                raise ContainerFailedError(f"the job's output {output.path} holds more than {MAX_OUTPUT_FILES} "
                                           "files; nothing was stored", hint="pack them (a .npz, a .tar)")
    return path


def _place(root: Path, source: Path, destination: Path) -> None:
    """Copy a checked output into the work tree (replacing the previous run's), its folder checked again."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    check_writable(root, destination)
    staged = destination.with_name(f".{destination.name}.job-{os.getpid()}")
    if source.is_dir():
        shutil.copytree(source, staged, symlinks=True)
    else:
        shutil.copyfile(source, staged)
    if destination.is_dir() and not destination.is_symlink():
        shutil.rmtree(destination)  # a folder is not replaced by a rename
    elif source.is_dir() and (destination.exists() or destination.is_symlink()):
        destination.unlink()
    os.replace(staged, destination)


def _code_record(r: Repo, code: str) -> dict[str, Any]:
    """The job's code: its path and the sha256 of its bytes (a folder: of its sorted files)."""
    import hashlib

    path = resolve_user_path(r.root, code)
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        digest.update(to_relpath(path if path.is_dir() else path.parent, file).encode() + b"\0")
        digest.update(file.read_bytes())
    return {"path": to_relpath(r.root, path), "sha256": digest.hexdigest()}
