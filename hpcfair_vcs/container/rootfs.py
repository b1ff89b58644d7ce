"""The runtime image's root file system: a Debian minbase by debootstrap, made reproducible, as one tar.

No container registry is needed: ``debootstrap --variant=minbase`` takes the
packages from a Debian mirror (the one apt uses). What varies between two runs
(logs, apt's caches and lists, the machine id, the day in /etc/shadow) is
removed or fixed, and the tree is written with ``tar --sort=name
--numeric-owner --mtime=@0``, so the same packages give the same bytes. The
base tar is cached per suite and machine with its sha256 beside it; it is a
pinned input of the image (``hpcfair image build --refresh-base`` makes it
anew). Building needs root (debootstrap and chroot).
"""

from __future__ import annotations

import os
import platform
import shutil
from pathlib import Path

from .. import proc
from ..errors import CommandFailedError, CorruptObjectError, EnvironmentMissingError
from ..fileio.files import atomic_write
from ..storage.store import hash_file

# the Debian release whose python3 is each Python version
SUITES = {"3.11": "bookworm", "3.13": "trixie"}
PACKAGES = ("python3", "python3-venv")
DEBIAN_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}
# what a package install leaves that differs run to run, or that nothing in the image needs
VOLATILE = ("var/log", "var/cache/apt", "var/lib/apt/lists", "var/cache/debconf", "var/cache/ldconfig",
            "usr/share/man", "usr/share/info", "usr/share/locale", "tmp", "run", "root/.cache")
CLEAN_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "HOME": "/root",
             "SOURCE_DATE_EPOCH": "0"}


def suite_for(python: str) -> str:
    if python not in SUITES:
        raise EnvironmentMissingError(
            f"no Debian release here has Python {python} as its python3",
            hint=f"use --python {' or '.join(SUITES)}, or --base IMAGE with an image that has it")
    return SUITES[python]


def base_tar(cache: Path, suite: str, mirror: str, refresh: bool = False) -> tuple[Path, str]:
    """(path, sha256) of the cached minbase tar of *suite*, made by debootstrap when missing or *refresh*.

    Raises:
        EnvironmentMissingError: not root, or no debootstrap, or the mirror is unreachable (exit 4).
        CorruptObjectError: the cached tar no longer matches its sha256 (exit 3).
    """
    machine = platform.machine()
    tar = cache / "rootfs" / f"{suite}-{DEBIAN_ARCH.get(machine, machine)}-minbase.tar"
    digest_file = tar.with_suffix(".tar.sha256")
    if tar.is_file() and digest_file.is_file() and not refresh:
        recorded = digest_file.read_text(encoding="utf-8").strip()
        if hash_file(tar) != recorded:
            raise CorruptObjectError(f"the cached base {tar} no longer has sha256 {recorded[:12]}",
                                     hint="build with --refresh-base to make it anew")
        return tar, recorded
    need_root("debootstrap")
    if shutil.which("debootstrap") is None:
        raise EnvironmentMissingError("debootstrap is not installed",
                                      hint="apt-get install debootstrap (or build from a registry image: --base)")
    tar.parent.mkdir(parents=True, exist_ok=True)
    work = tar.parent / f".build-{suite}-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    try:
        rootfs = work / "rootfs"
        try:
            proc.run(["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}",
                      f"--arch={DEBIAN_ARCH.get(machine, machine)}", suite, rootfs, mirror],
                     timeout=1800, env=CLEAN_ENV, what="debootstrap")
        except CommandFailedError as exc:
            raise EnvironmentMissingError(f"debootstrap of Debian {suite} from {mirror} failed: {exc.message}",
                                          hint="check that the mirror is reachable (container.mirror)") from None
        normalise(rootfs)
        pack(rootfs, work / "base.tar")
        digest = hash_file(work / "base.tar")
        os.replace(work / "base.tar", tar)
        atomic_write(digest_file, f"{digest}\n".encode())
        return tar, digest
    finally:
        shutil.rmtree(work, ignore_errors=True)


def normalise(rootfs: Path) -> None:
    """Remove or fix what differs between two installs of the same packages."""
    for relpath in VOLATILE:
        folder = rootfs / relpath
        if folder.is_dir() and not folder.is_symlink():
            for entry in folder.iterdir():
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
    for stale in (rootfs / "var/lib/dpkg").glob("*-old"):
        stale.unlink()
    docs = rootfs / "usr/share/doc"  # each package's copyright file stays (its licence)
    if docs.is_dir():
        for entry in docs.rglob("*"):
            if (entry.is_file() or entry.is_symlink()) and entry.name != "copyright":
                entry.unlink()
    machine_id = rootfs / "etc/machine-id"
    if machine_id.exists():
        machine_id.write_text("")
    shadow = rootfs / "etc/shadow"
    if shadow.is_file():  # field 3 is the day each password last changed: the install day
        lines = [line.split(":") for line in shadow.read_text(encoding="utf-8").splitlines()]
        shadow.write_text("".join(":".join(f[:2] + ["0"] + f[3:]) + "\n" for f in lines if len(f) > 3))
    for pycache in rootfs.rglob("__pycache__"):
        shutil.rmtree(pycache)


def pack(rootfs: Path, tar: Path) -> None:
    """*rootfs* as a tar whose bytes depend only on the files' contents, modes and owners."""
    proc.run(["tar", "--sort=name", "--numeric-owner", "--mtime=@0", "--format=gnu", "-C", rootfs, "-cf", tar, "."],
             timeout=600, env=CLEAN_ENV, what="tar")


def unpack(tar: Path, rootfs: Path) -> None:
    rootfs.mkdir(parents=True)
    proc.run(["tar", "--numeric-owner", "-C", rootfs, "-xpf", tar], timeout=600, env=CLEAN_ENV, what="tar")


def chroot(rootfs: Path, argv: list[str], what: str) -> None:
    proc.run(["chroot", rootfs, *argv], timeout=1800, env=CLEAN_ENV, what=what)


def need_root(step: str) -> None:
    if os.geteuid() != 0:
        raise EnvironmentMissingError(f"building the runtime image with {step} needs root",
                                      hint="run `sudo hpcfair image build`, or build from an image you have: "
                                           "hpcfair image build --base IMAGE")

