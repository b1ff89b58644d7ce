"""``hpcfair image build|list|export|import``: the runtime images containers run in (docs/containers.md).

Images live in podman's storage, not in the repository; their pinned inputs
(the Debian base, the wheels) in the user cache (``HPCFAIR_CACHE_DIR``). These
verbs work inside or outside a repository: inside, its config applies.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import config as config_mod
from ..container import image as image_mod
from ..container.podman import Limits, Podman, find_podman
from ..errors import NotARepositoryError, UsageError
from ..repo import Repo, open_repo
from ..results import ContainerInfo, ImageInfo, ImageListResult, ImageResult


def container_settings(repo: Repo | str | None) -> dict[str, Any]:
    """The ``container`` config section: the repository's when there is one, else the user's."""
    try:
        return dict(open_repo(repo).config["container"])
    except NotARepositoryError:
        if repo is not None:
            raise
        return dict(config_mod.load(None)["container"])


def podman_for(settings: dict[str, Any]) -> Podman:
    return find_podman(settings)


def limits_for(settings: dict[str, Any], memory: str | None = None, cpus: float | None = None,
               gpus: str | None = None) -> Limits:
    return Limits(memory=memory or settings["memory"], cpus=cpus or settings["cpus"], pids=settings["pids_limit"],
                  gpus=gpus)


def image_build(*, onnxruntime: str | None = None, numpy: str | None = None, python: str = "3.11",
                base: str | None = None, refresh_base: bool = False, extra_packages: Sequence[str] = (),
                repo: Repo | str | None = None) -> ImageResult:
    """Build the runtime image: CPython *python*, numpy and onnxruntime (default: the host's versions).

    *extra_packages* (``NAME==VERSION`` each) go in too, with their dependencies, for jobs that need them.

    Raises:
        EnvironmentMissingError (exit 4): no podman, not root (without *base*), PyPI or the mirror unreachable.
        CorruptObjectError (exit 3): a cached input changed.
    """
    settings = container_settings(repo)
    host = image_mod.runtime_packages()
    packages = {"numpy": numpy or host.get("numpy"), "onnxruntime": onnxruntime or host.get("onnxruntime")}
    missing = [name for name, version in packages.items() if not version]
    if missing:
        raise UsageError(f"{' and '.join(missing)} not installed here, so there is no version to pin by default",
                         hint="give the versions: --onnxruntime 1.32.0 --numpy 2.4.6")
    extras = {}
    for spec in extra_packages:
        name, sep, version = spec.partition("==")
        if not sep or not name.strip() or not version.strip() or any(c in version for c in "<>=!~*,; "):
            raise UsageError(f"--package {spec!r}: give an exact version, NAME==VERSION",
                             hint="the image pins every package: e.g. --package scikit-learn==1.9.0")
        extras[name.strip()] = version.strip()
    start = time.monotonic()
    built = image_mod.build(podman_for(settings), config_mod.cache_dir(), python=python,
                            packages={k: str(v) for k, v in packages.items()}, base=base, refresh_base=refresh_base,
                            extras=extras)
    return ImageResult("built", image_info(built), round(time.monotonic() - start, 1))


def image_list(*, repo: Repo | str | None = None) -> ImageListResult:
    return ImageListResult([image_info(i) for i in image_mod.list_images(podman_for(container_settings(repo)))])


def image_export(image: str, archive: str | os.PathLike, *, force: bool = False,
                 repo: Repo | str | None = None) -> ImageResult:
    start = time.monotonic()
    target = Path(archive)
    exported = image_mod.export(podman_for(container_settings(repo)), image, target, force)
    return ImageResult("exported", image_info(exported), round(time.monotonic() - start, 1), os.fspath(target))


def image_import(archive: str | os.PathLike, *, repo: Repo | str | None = None) -> ImageResult:
    start = time.monotonic()
    loaded = image_mod.import_archive(podman_for(container_settings(repo)), Path(archive))
    return ImageResult("imported", image_info(loaded), round(time.monotonic() - start, 1), os.fspath(archive))


def image_info(image: image_mod.Image) -> ImageInfo:
    return ImageInfo(id=image.id, names=image.names, pins=image.pins, size=image.size, created=image.created)


def container_info(image: image_mod.Image, described: dict[str, Any]) -> ContainerInfo:
    """Where a step ran: the image, and the python and packages the runner reported (else the image's pins)."""
    packages = described.get("packages") if isinstance(described.get("packages"), dict) else None
    return ContainerInfo(image=image.id, image_name=image.names[0] if image.names else "",
                         python=str(described.get("python") or f"CPython {image.pins.get('python', '?')}"),
                         packages={str(k): str(v) for k, v in (packages or image.pins.get("packages") or {}).items()})
