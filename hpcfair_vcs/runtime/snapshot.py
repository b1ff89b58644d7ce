"""A snapshot of the machine and software that ran a step (MLCube-style runtime record).

Reads only what the system already exposes (``platform``, ``/proc``, package
metadata); a GPU is listed when ``nvidia-smi`` answers or an imported torch
sees CUDA. Nothing here imports a framework.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
from collections.abc import Iterable
from typing import Any

from ..deps import installed_versions
from ..storage.records import RuntimeRecord


def snapshot(packages: Iterable[str], hyperparameters: dict[str, Any] | None = None) -> RuntimeRecord:
    """The runtime record for now: python, OS, the versions of *packages*, CPU/GPU, hyper-parameters."""
    return RuntimeRecord(
        python=f"{platform.python_implementation()} {platform.python_version()}",
        platform={"system": platform.system(), "release": platform.release(), "machine": platform.machine(),
                  "libc": "-".join(platform.libc_ver()).strip("-")},
        packages=installed_versions(["hpcfair", "numpy", *packages]),
        hardware=hardware(), hyperparameters=dict(hyperparameters or {}))


def hardware() -> dict[str, Any]:
    """This machine's CPU model, CPU count, memory and GPUs."""
    return {"cpu": cpu_model(), "cpus": os.cpu_count() or 0, "memory_bytes": memory_bytes(), "gpus": gpus()}


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            for line in info:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_bytes() -> int:
    try:
        with open("/proc/meminfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def gpus() -> list[str]:
    """GPU names from nvidia-smi, or from torch when it is already imported; [] on a CPU machine."""
    if shutil.which("nvidia-smi"):
        from .. import proc
        from ..errors import CommandFailedError

        try:
            listed = proc.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], timeout=10).stdout
            return [line.strip() for line in listed.splitlines() if line.strip()]
        except CommandFailedError:
            return []
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return []
