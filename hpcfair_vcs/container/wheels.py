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
import os
import platform
import re
import sys
import tempfile
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


def pinned_wheels(cache: Path, python: str, pins: dict[str, str],
                  extras: dict[str, str] | None = None) -> list[Wheel]:
    """The wheels of *pins* ({package: version}) for CPython *python* ("3.11"), from *cache* or PyPI.

    *pins* are taken alone (``--no-deps``); *extras* (``image build --package``) with the dependencies
    pip resolves for them, *pins* held at their versions; the lock file then pins those too.

    Raises:
        EnvironmentMissingError: pip cannot download them (offline, no such version) (exit 4).
        CorruptObjectError: a cached wheel no longer hashes to its lock entry (exit 3).
    """
    folder = cache / "wheels" / f"cp{python.replace('.', '')}-{platform.machine()}"
    extras = {canonical(k): v for k, v in (extras or {}).items()}
    key = "-".join(f"{name}=={version}" for name, version in sorted(pins.items()))
    key += "".join(f"+{name}=={version}" for name, version in sorted(extras.items()))
    lock = folder / f"lock-{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"
    if lock.is_file():
        return _checked(folder, json.loads(lock.read_text(encoding="utf-8")))
    folder.mkdir(parents=True, exist_ok=True)
    if extras:
        pins = {**_resolved(folder, python, extras, pins), **pins}
    _download(folder, python, pins)
    wheels = [Wheel(path, hash_file(path)) for path in sorted(folder.glob("*.whl")) if _names_pin(path, pins)]
    if len(wheels) != len(pins):
        raise EnvironmentMissingError(f"pip downloaded {len(wheels)} wheels for {len(pins)} pins in {folder}",
                                      hint=f"delete {folder} and build again")
    atomic_write(lock, json.dumps({w.file.name: w.sha256 for w in wheels}, indent=1, sort_keys=True).encode())
    return wheels


def _download(folder: Path, python: str, pins: dict[str, str]) -> None:
    _pip(["download", "--no-deps", "--dest", str(folder)], python, pins, failure=(
        f"cannot download the pinned wheels {_listed(pins)} for Python {python}",
        "check that PyPI (or your index) is reachable and that these versions have wheels for this Python; on an "
        "air-gapped machine, build the image elsewhere and `hpcfair image import` it"))


def _resolved(folder: Path, python: str, extras: dict[str, str], held: dict[str, str]) -> dict[str, str]:
    """{name: version} of *extras* and everything they need, as pip resolves them with *held* fixed."""
    with tempfile.TemporaryDirectory(dir=folder) as work:
        constraints = Path(work) / "constraints.txt"
        constraints.write_text("".join(f"{n}=={v}\n" for n, v in sorted(held.items())), encoding="utf-8")
        report = Path(work) / "report.json"
        _pip(["install", "--dry-run", "--ignore-installed", "--target", os.path.join(work, "target"),
              "--report", os.fspath(report), "-c", os.fspath(constraints)], python, extras, failure=(
            f"pip cannot resolve {_listed(extras)} with {_listed(held)} for Python {python}",
            "check the versions (each needs a wheel for this Python), or pin the image's numpy to one they "
            "accept with --numpy"))
        installs = json.loads(report.read_text(encoding="utf-8")).get("install", [])
    return {canonical(item["metadata"]["name"]): item["metadata"]["version"] for item in installs}


def _pip(command: list[str], python: str, pins: dict[str, str], *, failure: tuple[str, str]) -> None:
    """``pip COMMAND`` for *pins*, wheels only, for the image's Python and machine; a failure is exit 4."""
    argv = [sys.executable, "-m", "pip", *command, "-q", "--disable-pip-version-check", "--only-binary=:all:",
            *_platform_options(python), *(f"{n}=={v}" for n, v in sorted(pins.items()))]
    try:
        proc.run(argv, timeout=900, what=f"pip {command[0]}")
    except CommandFailedError as exc:
        message, hint = failure
        raise EnvironmentMissingError(f"{message}: {exc.message}", hint=hint) from None


def _listed(pins: dict[str, str]) -> str:
    return ", ".join(f"{n}=={v}" for n, v in sorted(pins.items()))


def _platform_options(python: str) -> list[str]:
    options = ["--python-version", python, "--implementation", "cp", "--abi", f"cp{python.replace('.', '')}"]
    for tag in PLATFORMS:
        options += ["--platform", f"{tag}_{platform.machine()}"]
    return options


def canonical(name: str) -> str:
    """A distribution name as pins hold it (PEP 503): lower case, runs of -_. as one -."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _names_pin(path: Path, pins: dict[str, str]) -> bool:
    name, version = path.name.split("-")[:2]
    return pins.get(canonical(name)) == version


def _checked(folder: Path, lock: dict[str, str]) -> list[Wheel]:
    wheels = []
    for name, digest in sorted(lock.items()):
        path = folder / name
        if not path.is_file() or hash_file(path) != digest:
            raise CorruptObjectError(f"the cached wheel {path} is missing or no longer has sha256 {digest[:12]}",
                                     hint=f"delete {folder} and build again: the wheels are downloaded anew")
        wheels.append(Wheel(path, digest))
    return wheels
