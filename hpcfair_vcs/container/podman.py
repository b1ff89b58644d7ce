"""Podman, the way hpcfair runs it: found or explained, its settings fitted to this host, containers locked down.

Every podman command goes through :class:`Podman`, which points ``CONTAINERS_CONF``
at the containers.conf hpcfair ships (runc, cgroupfs, ulimits within the hard
limits; docs/containers.md) unless ``container.containers_conf`` is ``system``.
:func:`run_container` is the one place a container starts: no network, no
capabilities, no new privileges, a read-only root file system, a non-root user,
memory/CPU/process limits, and only the mounts the caller names (read-only
unless marked writable).
"""

from __future__ import annotations

import os
import resource
import secrets
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import config as config_mod
from .. import proc
from ..errors import CommandFailedError, ContainerFailedError, DeviceUnavailableError, PodmanMissingError
from ..fileio.files import atomic_write

CONF_TEMPLATE = Path(__file__).with_name("containers.conf")
CDI_DIRS = (Path("/etc/cdi"), Path("/var/run/cdi"))
STDERR_LINES = 20  # lines of a failed container's stderr an error shows
NOBODY = "65534:65534"


@dataclass
class Podman:
    """The podman program and the environment its commands run with."""

    program: str
    env: dict[str, str]

    def run(self, args: Sequence[str | os.PathLike], *, timeout: float | None = None,
            what: str = "podman") -> subprocess.CompletedProcess[str]:
        """``podman ARGS``; raises CommandFailedError with podman's last stderr line."""
        return proc.run([self.program, *args], timeout=timeout, env=self.env, what=what)

    def version(self) -> str:
        return self.run(["version", "--format", "{{.Client.Version}}"], timeout=30).stdout.strip()


def find_podman(settings: dict[str, Any]) -> Podman:
    """The podman to use, from the ``container`` config section.

    Raises:
        PodmanMissingError: no podman program (exit 4, with the install line).
    """
    program = shutil.which(settings.get("podman") or "podman")
    if program is None:
        raise PodmanMissingError(f"podman is not installed (looked for {settings.get('podman') or 'podman'!r} "
                                 "on PATH)")
    extra = {} if settings.get("containers_conf") == "system" else {"CONTAINERS_CONF": os.fspath(shipped_conf())}
    return Podman(program, config_mod.child_env(extra))


def shipped_conf() -> Path:
    """hpcfair's containers.conf with ulimits fitted to this user's hard limits, in the user cache."""
    text = CONF_TEMPLATE.read_text(encoding="utf-8")
    text = text.replace("@NOFILE@", str(_within_hard_limit(resource.RLIMIT_NOFILE, 20000)))
    text = text.replace("@NPROC@", str(_within_hard_limit(resource.RLIMIT_NPROC, 4096)))
    path = config_mod.cache_dir() / "containers.conf"
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, text.encode())
    return path


def _within_hard_limit(which: int, wanted: int) -> int:
    hard = resource.getrlimit(which)[1]
    return wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)


@dataclass
class Mount:
    """A host path seen inside the container at *target*; read-only unless *writable*."""

    source: Path
    target: str
    writable: bool = False

    def option(self) -> str:
        if "," in os.fspath(self.source) or ":" in os.fspath(self.source):
            raise ValueError(f"a mount source may not hold ',' or ':': {self.source}")
        return f"type=bind,source={self.source},target={self.target}" + ("" if self.writable else ",readonly")


@dataclass
class Limits:
    memory: str = "4g"
    cpus: float | None = None
    pids: int = 4096
    gpus: str | None = None  # "all", or device indexes "0,1" (CDI)


@dataclass
class ContainerSpec:
    """One locked-down container run."""

    image: str  # an image ID
    command: list[str]
    mounts: list[Mount] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    limits: Limits = field(default_factory=Limits)
    timeout: float | None = None
    what: str = "the container"
    name: str = field(default_factory=lambda: f"hpcfair-{os.getpid()}-{secrets.token_hex(4)}")


def run_argv(podman: Podman, spec: ContainerSpec) -> list[str]:
    """The ``podman run`` command line for *spec* (the security settings are not optional)."""
    argv = [podman.program, "run", "--rm", f"--name={spec.name}", "--pull=never", "--network=none", "--cap-drop=all",
            "--security-opt=no-new-privileges", "--read-only", "--tmpfs=/tmp:rw,nosuid,nodev,size=512m",
            f"--memory={spec.limits.memory}", f"--memory-swap={spec.limits.memory}",
            f"--pids-limit={spec.limits.pids}", f"--workdir={spec.workdir}", *_user_options()]
    if spec.limits.cpus:
        argv.append(f"--cpus={spec.limits.cpus:g}")
    argv += [f"--device={device}" for device in gpu_devices(spec.limits.gpus)]
    for mount in spec.mounts:
        argv.append(f"--mount={mount.option()}")
    for key, value in sorted(spec.env.items()):
        argv.append(f"--env={key}={value}")
    return [*argv, spec.image, *spec.command]


def run_container(podman: Podman, spec: ContainerSpec) -> str:
    """Run *spec* to the end and return its stdout.

    Raises:
        ContainerFailedError: it exited non-zero, was killed (out of memory or a signal) or timed out;
            the message has the exit code and the tail of its stderr.
    """
    argv = run_argv(podman, spec)
    try:
        done = subprocess.run(argv, capture_output=True, text=True, errors="replace", env=podman.env,
                              timeout=spec.timeout, check=False)
    except subprocess.TimeoutExpired:
        _remove(podman, spec.name)
        raise ContainerFailedError(f"{spec.what} did not finish within {spec.timeout:g} s and was stopped",
                                   hint="raise the timeout, or give it less work") from None
    except BaseException:  # Ctrl-C: the podman client is gone, the container must go too
        _remove(podman, spec.name)
        raise
    if done.returncode != 0:
        raise _failure(spec, done.returncode, done.stderr)
    return done.stdout


def _remove(podman: Podman, name: str) -> None:
    subprocess.run([podman.program, "rm", "-f", "-t", "0", name], capture_output=True, env=podman.env, timeout=60,
                   check=False)


def _failure(spec: ContainerSpec, code: int, stderr: str) -> ContainerFailedError:
    tail = "\n".join(stderr.strip().splitlines()[-STDERR_LINES:])
    if code == 137:
        reason = (f"was killed (SIGKILL, exit 137): out of memory at its limit of {spec.limits.memory}, "
                  "or stopped from outside")
        hint = "raise the memory limit (device.memory in a task config, or container.memory)"
    elif code == 125:
        reason = "could not be started by podman (exit 125)"
        hint = ("hpcfair's containers.conf needs runc (apt-get install runc) and the cgroupfs manager; "
                "`container.containers_conf: system` uses podman's own settings instead (docs/containers.md)")
    elif code in (126, 127):
        reason = {126: "has a command that cannot run",
                  127: "has a command that was not found in the image"}[code] + f" (exit {code})"
        hint = "check the command and the image (`hpcfair image list`)"
    elif code > 128:
        reason, hint = f"was killed by signal {code - 128} (exit {code})", "see its stderr above"
    else:
        reason, hint = f"failed with exit code {code}", "see its stderr above"
    last = tail.splitlines()[-1] if tail else "no stderr"
    error = ContainerFailedError(f"{spec.what} {reason}: {last}", hint=hint)
    error.returncode, error.details = code, tail
    return error


def _user_options() -> list[str]:
    """A non-root user inside: nobody when podman runs as root, the caller's own id when rootless."""
    if os.geteuid() == 0:
        return [f"--user={NOBODY}"]
    return ["--userns=keep-id", f"--user={os.getuid()}:{os.getgid()}"]


def container_user_owns(path: Path) -> None:
    """Let the container's user write *path* (a folder made for its outputs)."""
    if os.geteuid() == 0:
        uid, gid = (int(n) for n in NOBODY.split(":"))
        os.chown(path, uid, gid)


def gpu_devices(gpus: str | None) -> list[str]:
    """CDI device names for *gpus* ("all" or "0,1").

    Raises:
        DeviceUnavailableError: GPUs asked for but no NVIDIA CDI specification on this host (exit 4).
    """
    if not gpus:
        return []
    specs = [p for d in CDI_DIRS if d.is_dir() for p in sorted(d.iterdir())
             if p.suffix in (".yaml", ".yml", ".json") and "nvidia.com/gpu" in _read_small(p)]
    if not specs:
        raise DeviceUnavailableError(
            f"--gpus {gpus}: this host has no NVIDIA CDI specification (looked in "
            f"{', '.join(map(str, CDI_DIRS))})",
            hint="on a host with NVIDIA GPUs: nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml "
                 "(NVIDIA Container Toolkit); or leave out --gpus")
    indexes = ["all"] if gpus == "all" else [g.strip() for g in gpus.split(",") if g.strip()]
    return [f"nvidia.com/gpu={index}" for index in indexes]


def _read_small(path: Path) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as spec:
            return spec.read(1 << 20)
    except OSError:
        return ""


__all__ = ["CommandFailedError", "ContainerSpec", "Limits", "Mount", "Podman", "container_user_owns",
           "find_podman", "run_container", "run_argv", "shipped_conf"]
