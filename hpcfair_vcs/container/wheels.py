"""Pinned wheels for the runtime image, downloaded once on the host and checked by sha256 on every build.

``pip download --only-binary=:all: --no-deps`` fetches exactly the pinned
versions for the image's Python and machine (no source builds, nothing
resolved at build time); the first download writes a lock file naming each
wheel and its sha256, and later builds use the cached files only when they
still hash to what the lock says.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

from .. import proc
from ..errors import CommandFailedError, CorruptObjectError, EnvironmentMissingError
from ..fileio.files import atomic_write
from ..storage.store import hash_file

# manylinux tags a Debian image's glibc (2.36 and newer) runs
PLATFORMS = ("manylinux_2_28", "manylinux_2_27", "manylinux_2_17", "manylinux2014")


@dataclass
class Wheel:
    file: Path
    sha256: str


def pinned_wheels(cache: Path, python: str, pins: dict[str, str]) -> list[Wheel]:
    """The wheels of *pins* ({package: version}) for CPython *python* ("3.11"), from *cache* or PyPI.

    Raises:
        EnvironmentMissingError: pip cannot download them (offline, no such version) (exit 4).
        CorruptObjectError: a cached wheel no longer hashes to its lock entry (exit 3).
    """
    folder = cache / "wheels" / f"cp{python.replace('.', '')}-{platform.machine()}"
    key = "-".join(f"{name}=={version}" for name, version in sorted(pins.items()))
    lock = folder / f"lock-{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"
    if lock.is_file():
        return _checked(folder, json.loads(lock.read_text(encoding="utf-8")))
    folder.mkdir(parents=True, exist_ok=True)
    _download(folder, python, pins)
    wheels = [Wheel(path, hash_file(path)) for path in sorted(folder.glob("*.whl")) if _names_pin(path, pins)]
    if len(wheels) != len(pins):
        raise EnvironmentMissingError(f"pip downloaded {len(wheels)} wheels for {len(pins)} pins in {folder}",
                                      hint=f"delete {folder} and build again")
    atomic_write(lock, json.dumps({w.file.name: w.sha256 for w in wheels}, indent=1, sort_keys=True).encode())
    return wheels


def _download(folder: Path, python: str, pins: dict[str, str]) -> None:
    machine = platform.machine()
    argv = [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--only-binary=:all:",
            "--no-deps", "--dest", str(folder), "--python-version", python, "--implementation", "cp",
            "--abi", f"cp{python.replace('.', '')}"]
    for tag in PLATFORMS:
        argv += ["--platform", f"{tag}_{machine}"]
    argv += [f"{name}=={version}" for name, version in sorted(pins.items())]
    try:
        proc.run(argv, timeout=900, what="pip download")
    except CommandFailedError as exc:
        raise EnvironmentMissingError(
            f"cannot download the pinned wheels {', '.join(f'{n}=={v}' for n, v in sorted(pins.items()))} "
            f"for Python {python}: {exc.message}",
            hint="check that PyPI (or your index) is reachable and that these versions have wheels for this "
                 "Python; on an air-gapped machine, build the image elsewhere and `hpcfair image import` it") from None


def _names_pin(path: Path, pins: dict[str, str]) -> bool:
    name, version = path.name.split("-")[:2]
    return pins.get(name.replace("_", "-").lower()) == version


def _checked(folder: Path, lock: dict[str, str]) -> list[Wheel]:
    wheels = []
    for name, digest in sorted(lock.items()):
        path = folder / name
        if not path.is_file() or hash_file(path) != digest:
            raise CorruptObjectError(f"the cached wheel {path} is missing or no longer has sha256 {digest[:12]}",
                                     hint=f"delete {folder} and build again: the wheels are downloaded anew")
        wheels.append(Wheel(path, digest))
    return wheels
