"""The Dask cluster an inference runs on: started here (local, Slurm, PBS) or reached (tcp://, tls://).

A cluster hpcfair starts speaks TLS with credentials made for it alone
(``Security.temporary()``): Dask's messages are pickles, so a scheduler that
anyone on the machine could reach would run anyone's code as you. Slurm and PBS
jobs come from dask-jobqueue, their batch-script values checked by config.py;
the credentials the jobs read sit in a private (0700) folder removed with the cluster.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import debug_enabled
from ..deps import need
from ..errors import SchedulerError, UsageError, describe
from ..progress import SILENT, Progress

KINDS = ("local", "slurm", "pbs")
BATCH_SYSTEMS = {"slurm": ("SLURMCluster", ["sinfo", "-h"]), "pbs": ("PBSCluster", ["qstat", "-B"])}
MAX_LOCAL_WORKERS = 8
CONNECT_TIMEOUT = 10  # seconds to reach a tcp:// scheduler
QUIET_LOGGERS = ("distributed", "dask_jobqueue", "tornado")
QUIET_WORKER = {"DASK_LOGGING__DISTRIBUTED": "critical"}  # a local worker's lines would reach the terminal
_SPEC = re.compile(r"(local|slurm|pbs)(?::([1-9][0-9]{0,3}))?")


@dataclass(frozen=True)
class SchedulerSpec:
    kind: str  # local, slurm, pbs, or address
    count: int | None = None  # local workers, or batch jobs
    address: str | None = None

    def shown(self, count: int) -> str:
        return self.address if self.address else f"{self.kind}:{count}"


def parse_scheduler(text: str) -> SchedulerSpec:
    """``local[:WORKERS]``, ``slurm[:JOBS]``, ``pbs[:JOBS]`` or a ``tcp://HOST:PORT`` / ``tls://`` address.

    Raises:
        UsageError.
    """
    match = _SPEC.fullmatch(text.strip())
    if match:
        return SchedulerSpec(match.group(1), int(match.group(2)) if match.group(2) else None)
    if re.fullmatch(r"(tcp|tls)://[A-Za-z0-9.\[\]:-]+:[0-9]{1,5}", text.strip()):
        return SchedulerSpec("address", address=text.strip())
    raise UsageError(f"--scheduler {text!r}: not a scheduler",
                     hint="use local[:WORKERS], slurm[:JOBS], pbs[:JOBS] or tcp://HOST:PORT")


@dataclass
class Cluster:
    client: Any  # a distributed.Client
    shown: str  # what provenance and --json call it
    workers: int
    threads: int | None  # onnxruntime threads per worker when hpcfair chose them


@contextmanager
def connect(spec: SchedulerSpec, settings: dict[str, Any], scratch: Path,
            progress: Progress = SILENT) -> Iterator[Cluster]:
    """The cluster of *spec*, closed (its jobs cancelled) when the block ends, however it ends.

    *settings* is the ``scheduler`` config section; *scratch* a private folder for credentials and job logs.

    Raises:
        SchedulerError: it cannot be started or reached, or no worker came up within ``scheduler.wait`` seconds.
        MissingDependencyError: dask is not installed.
    """
    need("distributed", "scale")
    _quiet()
    if spec.kind == "address":
        with _reached(spec, settings, progress) as cluster:
            yield cluster
        return
    with _started(spec, settings, scratch, progress) as cluster:
        yield cluster


@contextmanager
def _reached(spec: SchedulerSpec, settings: dict[str, Any], progress: Progress) -> Iterator[Cluster]:
    from distributed import Client

    try:
        client = Client(spec.address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise SchedulerError(f"cannot reach the Dask scheduler at {spec.address}: {describe(exc)}",
                             hint="start it (dask scheduler; dask worker ADDRESS), or use --scheduler local") from None
    try:
        workers = _wait_for_workers(client, 1, settings, progress, spec.address)
        yield Cluster(client, spec.address, workers, None)
    finally:
        client.close()


@contextmanager
def _started(spec: SchedulerSpec, settings: dict[str, Any], scratch: Path, progress: Progress) -> Iterator[Cluster]:
    from distributed import Client

    progress.start(f"starting a {spec.kind} Dask cluster", None, "step")
    cluster, count, threads = _local(spec, settings) if spec.kind == "local" else _batch(spec, settings, scratch)
    try:
        client = Client(cluster, security=cluster.security, set_as_default=False)
        try:
            if spec.kind != "local":
                cluster.scale(jobs=count)
            workers = _wait_for_workers(client, count if spec.kind == "local" else 1, settings, progress,
                                        f"{spec.kind} cluster")
            yield Cluster(client, spec.shown(count), workers, threads)
        finally:
            client.close()
    finally:
        cluster.close()


def _local(spec: SchedulerSpec, settings: dict[str, Any]) -> tuple[Any, int, int]:
    from distributed import LocalCluster
    from distributed.security import Security

    cores = os.cpu_count() or 1
    count = spec.count or settings.get("workers") or min(cores, MAX_LOCAL_WORKERS)
    try:
        cluster = LocalCluster(n_workers=count, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None, protocol="tls", security=Security.temporary(),
                               memory_limit=_memory_bytes(settings.get("memory")) or "auto",
                               env={} if debug_enabled() else QUIET_WORKER)
    except (OSError, RuntimeError, TimeoutError) as exc:
        raise SchedulerError(f"cannot start a local Dask cluster of {count} workers: {describe(exc)}") from None
    return cluster, count, max(1, cores // count)


def _batch(spec: SchedulerSpec, settings: dict[str, Any], scratch: Path,
           probe: bool = True) -> tuple[Any, int, int]:
    """A dask-jobqueue cluster: one worker per batch job, *cores* onnxruntime threads each."""
    class_name, command = BATCH_SYSTEMS[spec.kind]
    if probe:
        _check_batch_system(spec.kind, command)
    dask_jobqueue = need("dask_jobqueue", "scale")

    cores = settings.get("cores") or 1
    options: dict[str, Any] = {
        "cores": 1, "processes": 1, "job_cpu": cores,  # one Dask thread; onnxruntime uses the job's cores
        "memory": settings.get("memory") or "4GB", "walltime": settings.get("walltime") or "01:00:00",
        "queue": settings.get("queue"), "account": settings.get("account"),
        "security": _credential_files(scratch), "log_directory": str(scratch / "logs"),
        "scheduler_options": {"dashboard_address": None,
                              **({"host": settings["host"]} if settings.get("host") else {})},
        "job_name": "hpcfair",
    }
    if spec.kind == "pbs":
        options.pop("job_cpu")
        options["resource_spec"] = f"select=1:ncpus={cores}:mem={settings.get('memory') or '4GB'}"
    try:
        cluster = getattr(dask_jobqueue, class_name)(**options)
    except (OSError, RuntimeError, ValueError, TimeoutError) as exc:
        raise SchedulerError(f"cannot start the Dask scheduler for {spec.kind}: {describe(exc)}") from None
    return cluster, spec.count or settings.get("jobs") or 1, cores


def _credential_files(scratch: Path) -> Any:
    """Temporary TLS credentials written to files in the private *scratch* folder, for the jobs to read."""
    from distributed.security import Security

    scratch.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(scratch, 0o700)
    made = Security.temporary()
    files = {}
    for name, text in (("ca.pem", made.tls_ca_file), ("cert.pem", made.tls_worker_cert),
                       ("key.pem", made.tls_worker_key)):
        path = scratch / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(text)
        files[name] = os.fspath(path)
    cert, key = files["cert.pem"], files["key.pem"]
    return Security(require_encryption=True, tls_ca_file=files["ca.pem"], tls_client_cert=cert, tls_client_key=key,
                    tls_scheduler_cert=cert, tls_scheduler_key=key, tls_worker_cert=cert, tls_worker_key=key)


def job_script(kind: str, settings: dict[str, Any], scratch: Path) -> str:
    """The batch script each job of *kind* would run with *settings* (nothing is submitted)."""
    _quiet()
    cluster, _, _ = _batch(SchedulerSpec(kind), settings, scratch, probe=False)
    try:
        return cluster.job_script()
    finally:
        cluster.close()


def _check_batch_system(kind: str, probe: list[str]) -> None:
    """Fail fast, with the batch system's own words, when it is not installed or not answering."""
    if shutil.which(probe[0]) is None:
        raise SchedulerError(f"--scheduler {kind}: {probe[0]} is not installed here",
                             hint=f"run hpcfair on a {kind} login node, or use --scheduler local")
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=30, check=False)
    except subprocess.TimeoutExpired:
        raise SchedulerError(f"--scheduler {kind}: {' '.join(probe)} did not answer within 30 s") from None
    if done.returncode != 0:
        line = next((l for l in done.stderr.splitlines() if l.strip()), f"exit {done.returncode}")
        raise SchedulerError(f"--scheduler {kind}: {' '.join(probe)} failed: {line.strip()[:200]}",
                             hint=f"is the {kind} controller up? ask your cluster's admins")


def _wait_for_workers(client: Any, count: int, settings: dict[str, Any], progress: Progress, what: str) -> int:
    """The number of workers once *count* are up; SchedulerError after ``scheduler.wait`` seconds."""
    wait = settings.get("wait") or 600
    progress.start(f"waiting for {count} Dask worker{'s' if count > 1 else ''}", None, "step")
    deadline = time.monotonic() + wait
    while True:
        try:
            client.wait_for_workers(count, timeout=min(5, max(1, deadline - time.monotonic())))
            return len(client.scheduler_info(n_workers=-1)["workers"])
        except TimeoutError:
            if time.monotonic() >= deadline:
                raise SchedulerError(f"no Dask worker of the {what} came up within {wait:g} s",
                                     hint="the jobs may still be queued (squeue / qstat); raise scheduler.wait") \
                    from None


def _memory_bytes(text: str | None) -> int | None:
    if not text:
        return None
    from dask.utils import parse_bytes

    return parse_bytes(text)


def _quiet() -> None:
    """Dask's own log lines (a worker restarted, keys rescheduled after Ctrl-C) are not for the terminal: hpcfair
    reports what matters itself. Dask's logging config gives its modules' loggers levels of their own, so each
    logger there is set."""
    if debug_enabled():
        return
    names = [name for name in logging.root.manager.loggerDict if name.split(".")[0] in QUIET_LOGGERS]
    for name in {*QUIET_LOGGERS, *names}:
        logging.getLogger(name).setLevel(logging.CRITICAL)
