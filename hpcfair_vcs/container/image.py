"""The runtime image: Python + numpy + onnxruntime + hpcfair's runner, built reproducibly and offline.

``build`` assembles a root file system from the cached Debian base
(rootfs.py) and the pinned wheels (wheels.py) in a chroot, byte-compiles it
with hash-checked .pyc files, packs it with sorted names and zero mtimes, and
has ``podman build --timestamp 0`` make a one-layer image ``FROM scratch``:
the same pinned inputs give the same image ID. With *base* it builds on an
image podman has (or can pull) instead. Every image carries the label
``org.hpcfair.runtime`` with what is pinned in it; ``list_images`` reads them
back. ``export``/``import_archive`` move an image as an OCI archive.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import CommandFailedError, ContainerFailedError, ImageNotFoundError, UsageError
from ..fileio.files import unlink_quietly
from ..fileio.tmpfiles import tmp_name
from ..storage.store import hash_file
from . import rootfs as rootfs_mod
from .podman import Podman
from .wheels import pinned_wheels

LABEL = "org.hpcfair.runtime"
REPOSITORY = "localhost/hpcfair-runtime"
RUNNER = Path(__file__).with_name("runner.py")
PREFIX = "/opt/hpcfair"
PYTHON = f"{PREFIX}/venv/bin/python"  # the image's interpreter
RUNNER_IN_IMAGE = f"{PREFIX}/runner.py"
ENV = {"PATH": f"{PREFIX}/venv/bin:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}
USER = "65534:65534"
DEFAULT_MIRROR = "http://deb.debian.org/debian"


@dataclass
class Image:
    """An hpcfair runtime image in podman's storage."""

    id: str  # 64 hex digits, podman's {{.Id}}
    names: list[str]
    pins: dict[str, Any]  # python, packages, base, wheels (file -> sha256), runner
    size: int
    created: str

    @property
    def short_id(self) -> str:
        return self.id[:12]


def build(podman: Podman, cache: Path, *, python: str, packages: dict[str, str], base: str | None = None,
          mirror: str = DEFAULT_MIRROR, refresh_base: bool = False, extras: dict[str, str] | None = None) -> Image:
    """Build the runtime image for CPython *python* with *packages* ({name: version}) pinned.

    *extras* ({name: version}, ``--package``) are installed too, with what pip resolves for them.

    Raises:
        EnvironmentMissingError: not root / no debootstrap (without *base*), pip or the mirror unreachable.
        CorruptObjectError: a cached input no longer matches its recorded sha256.
        CommandFailedError: podman build failed.
    """
    suite = rootfs_mod.suite_for(python) if base is None else None  # before any download
    if suite is not None:
        rootfs_mod.need_root("debootstrap and chroot")
    wheels = pinned_wheels(cache, python, packages, extras)
    pins: dict[str, Any] = {"python": python, "packages": dict(sorted(packages.items())),
                            "wheels": {w.file.name: w.sha256 for w in wheels},
                            "runner": hash_file(RUNNER)}
    if extras:
        pins["extras"] = dict(sorted(extras.items()))
    context = tmp_name(cache, ".context-")
    context.mkdir(parents=True)
    try:
        if suite is not None:
            tar, digest = rootfs_mod.base_tar(cache, suite, mirror, refresh_base)
            pins["base"] = f"debian:{suite}-minbase@sha256:{digest}"
            _assemble(tar, wheels, context)
            containerfile = "FROM scratch\nADD rootfs.tar /\n"
        else:
            base_id = _base_id(podman, base).removeprefix("sha256:")
            pins["base"] = f"{base}@{base_id}"
            (context / "wheels").mkdir()
            for wheel in wheels:
                shutil.copyfile(wheel.file, context / "wheels" / wheel.file.name)
            shutil.copyfile(RUNNER, context / "runner.py")
            containerfile = _on_base(base, python)
        containerfile += "".join(f"ENV {key}={value}\n" for key, value in ENV.items())
        containerfile += f"USER {USER}\nCMD [\"{PYTHON}\", \"{RUNNER_IN_IMAGE}\", \"describe\"]\n"
        (context / "Containerfile").write_text(containerfile, encoding="utf-8")
        tag = default_tag(pins) if base is None else f"{default_tag(pins)}-on-{base_id[:12]}"
        podman.run(["build", "--timestamp", "0", "--network=none", "--pull=never" if base is None else "--pull=missing",
                    "--layers=false", "--iidfile", context / "iid", "--label", f"{LABEL}={json.dumps(pins, sort_keys=True)}",
                    "-t", tag, "-f", context / "Containerfile", context], timeout=1800, what="podman build")
        image_id = (context / "iid").read_text().strip().removeprefix("sha256:")
    finally:
        shutil.rmtree(context, ignore_errors=True)
    return inspect(podman, image_id)


def _assemble(base: Path, wheels: list[Any], context: Path) -> None:
    """The image's root file system as *context*/rootfs.tar: the base, a venv with the wheels, the runner."""
    rootfs_mod.need_root("chroot")
    root = context / "rootfs"
    rootfs_mod.unpack(base, root)
    staged = root / "tmp" / "wheels"
    staged.mkdir(parents=True)
    for wheel in wheels:
        shutil.copyfile(wheel.file, staged / wheel.file.name)
    rootfs_mod.chroot(root, ["/usr/bin/python3", "-m", "venv", f"{PREFIX}/venv"], what="python3 -m venv")
    rootfs_mod.chroot(root, [PYTHON, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile",
                             "--disable-pip-version-check", *(f"/tmp/wheels/{w.file.name}" for w in wheels)],
                      what="pip install")
    rootfs_mod.chroot(root, [PYTHON, "-m", "pip", "uninstall", "-q", "-y", "pip", "setuptools"], what="pip uninstall")
    shutil.copyfile(RUNNER, root / RUNNER_IN_IMAGE.lstrip("/"))
    os.chmod(root / RUNNER_IN_IMAGE.lstrip("/"), 0o644)
    rootfs_mod.normalise(root)
    stdlib = [f"/{p.relative_to(root)}" for p in sorted((root / "usr" / "lib").glob("python3*")) if p.is_dir()]
    rootfs_mod.chroot(root, [PYTHON, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash",
                             PREFIX, *stdlib], what="compileall")  # the standard library's .pyc too: the root is
    # read-only, so what is not compiled here is compiled again at every import
    rootfs_mod.pack(root, context / "rootfs.tar")
    shutil.rmtree(root)


def _on_base(base: str, python: str) -> str:
    wheels = f"{PREFIX}/wheels"
    return (f"FROM {base}\nUSER 0:0\nCOPY wheels/ {wheels}/\nCOPY runner.py {RUNNER_IN_IMAGE}\n"
            f"RUN python{python} -m venv --clear {PREFIX}/venv && {PYTHON} -m pip install -q --no-index --no-deps "
            f"--no-compile {wheels}/*.whl && rm -rf {wheels} /root/.cache && "
            f"{PYTHON} -m compileall -q --invalidation-mode unchecked-hash {PREFIX}\n")


def _base_id(podman: Podman, base: str) -> str:
    try:
        return podman.run(["image", "inspect", "--format", "{{.Id}}", base], timeout=60).stdout.strip()
    except CommandFailedError:
        try:
            podman.run(["pull", "-q", base], timeout=1800, what="podman pull")
        except CommandFailedError as exc:
            raise ImageNotFoundError(f"the base image {base} is not here and cannot be pulled: {exc.message}",
                                     hint="no registry reachable? build without --base (debootstrap), or "
                                          "`podman load` the base first") from None
        return podman.run(["image", "inspect", "--format", "{{.Id}}", base], timeout=60).stdout.strip()


def inspect(podman: Podman, image: str) -> Image:
    """The hpcfair image named *image* (an ID, a prefix of one, or a name:tag).

    Raises:
        ImageNotFoundError: podman has no such image, or it is not one hpcfair built (exit 4).
    """
    try:
        out = podman.run(["image", "inspect", "--format", "json", image], timeout=60).stdout
    except CommandFailedError:
        raise ImageNotFoundError(f"podman has no image {image!r}") from None
    doc = json.loads(out)[0]
    labels = (doc.get("Config") or {}).get("Labels") or doc.get("Labels") or {}
    if LABEL not in labels:
        raise ImageNotFoundError(f"image {image!r} is not an hpcfair runtime image (it has no {LABEL} label)",
                                 hint="build one with `hpcfair image build`, or build on it: "
                                      f"hpcfair image build --base {image}")
    return Image(id=doc["Id"], names=list(doc.get("RepoTags") or []), pins=_pins(labels[LABEL]),
                 size=int(doc.get("Size") or 0), created=str(doc.get("Created") or ""))


def list_images(podman: Podman) -> list[Image]:
    """Every hpcfair runtime image, tagged ones first, by name."""
    out = podman.run(["images", "--filter", f"label={LABEL}", "--format", "json", "--no-trunc"], timeout=60).stdout
    images = []
    for doc in json.loads(out or "[]"):
        labels = doc.get("Labels") or {}
        images.append(Image(id=doc["Id"].removeprefix("sha256:"), names=list(doc.get("Names") or []),
                            pins=_pins(labels.get(LABEL, "{}")), size=int(doc.get("Size") or 0),
                            created=str(doc.get("CreatedAt") or doc.get("Created") or "")))
    return sorted(images, key=lambda i: (not i.names, i.names, i.id))


def choose(podman: Podman, wanted: str | None) -> Image:
    """The image to run in: *wanted* (``--image`` or ``container.image``), else the one built for this host.

    Built images all carry the creation time 0 (reproducibility), so "newest" means nothing: the default is
    the image whose pinned numpy and onnxruntime are the host's (outputs then equal the host's) and that holds
    its default tag (``image build`` moves it to the image it made; a ``--base`` build has a tag of its own);
    with no such image, the only hpcfair image there is.

    Raises:
        ImageNotFoundError: none, or several that fit equally (exit 4: the error lists them).
    """
    if wanted:
        return inspect(podman, wanted)
    images = list_images(podman)
    if not images:
        raise ImageNotFoundError("there is no hpcfair runtime image in podman's storage")
    host = runtime_packages()
    matching = [i for i in images if (i.pins.get("packages") or {}) == host and not i.pins.get("extras")] or images
    tagged = [i for i in matching if default_tag(i.pins) in i.names] or matching
    if len(tagged) == 1:
        return tagged[0]
    listed = ", ".join(f"{i.short_id} ({', '.join(i.names) or 'untagged'})" for i in tagged)
    raise ImageNotFoundError(f"several hpcfair runtime images fit: {listed}",
                             hint="pick one: --image ID (or device.image), or pin it in the config: "
                                  "container.image: ID")


def export(podman: Podman, image: str, archive: Path, force: bool = False) -> Image:
    """Write *image* to *archive* as an OCI archive (atomically: a temporary file renamed in)."""
    chosen = inspect(podman, image)
    if archive.exists() and not force:
        raise UsageError(f"{archive} exists", hint="choose another file, or pass --force to replace it")
    partial = archive.with_name(f".{archive.name}.partial-{os.getpid()}")
    try:
        podman.run(["save", "--format", "oci-archive", "-o", partial, chosen.names[0] if chosen.names else chosen.id],
                   timeout=1800, what="podman save")
        os.replace(partial, archive)
    finally:
        unlink_quietly(partial)
    return chosen


def import_archive(podman: Podman, archive: Path) -> Image:
    """Load an OCI (or docker) archive made by ``export``; it must be an hpcfair runtime image.

    Raises:
        PathNotFoundError-like UsageError: no such file; ImageNotFoundError: it holds no hpcfair image.
    """
    if not archive.is_file():
        raise UsageError(f"{archive} is not a file", hint="give the archive `hpcfair image export` wrote")
    try:
        out = podman.run(["load", "-i", archive], timeout=1800, what="podman load").stdout
    except CommandFailedError as exc:
        raise ContainerFailedError(f"podman cannot load {archive}: {exc.message}",
                                   hint="is it an OCI archive written by `hpcfair image export`?") from None
    loaded = [line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Loaded image")]
    if not loaded:
        raise ContainerFailedError(f"podman loaded nothing from {archive}")
    image = inspect(podman, loaded[-1].split(",")[0].strip())
    if not image.names:  # an archive of an ID only: name it as build does
        podman.run(["tag", image.id, default_tag(image.pins)], timeout=60)
        image = inspect(podman, image.id)
    return image


def default_tag(pins: dict[str, Any]) -> str:
    """``localhost/hpcfair-runtime:py3.11-ort1.32.0``, and ``-plus-HASH`` when extra packages are in it."""
    tag = f"{REPOSITORY}:py{pins.get('python', '?')}-ort{(pins.get('packages') or {}).get('onnxruntime', 'none')}"
    if pins.get("extras"):
        tag += "-plus-" + hashlib.sha256(json.dumps(pins["extras"], sort_keys=True).encode()).hexdigest()[:8]
    return tag


def runtime_packages() -> dict[str, str]:
    """The host's numpy and onnxruntime versions: what an image pins by default, so outputs match the host's."""
    from ..deps import installed_versions

    return installed_versions(["numpy", "onnxruntime"])


def _pins(label: str) -> dict[str, Any]:
    try:
        pins = json.loads(label)
    except ValueError:
        return {}
    return pins if isinstance(pins, dict) else {}


