"""image build/list/export/import: the runtime images containers run in (docs/containers.md)."""

from __future__ import annotations

import click

from .. import api
from ._common import emit, human_size, json_option


@click.group("image")
def image_cmd() -> None:
    """The pinned runtime image `infer --container` and jobs run in (Podman).

    \b
    Examples:
      hpcfair image build                        # Debian minbase + the host's numpy and onnxruntime
      hpcfair image build --onnxruntime 1.32.0 --numpy 2.4.6
      hpcfair image list
      hpcfair image export a2ebc233d9b1 runtime.oci.tar   # then on the cluster:
      hpcfair image import runtime.oci.tar
    """


@image_cmd.command("build")
@click.option("--onnxruntime", metavar="VERSION", help="onnxruntime to pin (default: the version installed here).")
@click.option("--numpy", metavar="VERSION", help="numpy to pin (default: the version installed here).")
@click.option("--python", default="3.11", show_default=True, metavar="VERSION",
              help="CPython of the image: 3.11 (Debian bookworm) or 3.13 (trixie).")
@click.option("--base", metavar="IMAGE", help="Build on this image (it needs python3 with venv) instead of a "
              "Debian minbase made by debootstrap; pulled if podman can reach a registry.")
@click.option("--refresh-base", is_flag=True, help="Make the cached Debian base anew (new package updates).")
@click.option("--package", "packages", multiple=True, metavar="NAME==VERSION",
              help="Another package for jobs to use, with what it needs (repeatable); pinned in the lock too.")
@json_option
def build_cmd(onnxruntime, numpy, python, base, refresh_base, packages, as_json) -> None:
    """Build the runtime image reproducibly, with no container registry.

    A Debian minbase root file system (debootstrap, needs root), the pinned
    wheels (downloaded once, checked by sha256) and hpcfair's runner, built by
    `podman build --timestamp 0`: the same pinned inputs give the same image ID.
    Inputs are cached in ~/.cache/hpcfair (HPCFAIR_CACHE_DIR).
    """
    result = api.image_build(onnxruntime=onnxruntime, numpy=numpy, python=python, base=base,
                             refresh_base=refresh_base, extra_packages=packages)
    emit(result, as_json, _render_image)


@image_cmd.command("list")
@json_option
def list_cmd(as_json) -> None:
    """The runtime images hpcfair built, tagged ones first, and what each pins."""
    result = api.image_list()
    emit(result, as_json, _render_list)


@image_cmd.command("export")
@click.argument("image", metavar="ID|NAME")
@click.argument("archive", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace ARCHIVE if it exists.")
@json_option
def export_cmd(image, archive, force, as_json) -> None:
    """Write an image to ARCHIVE as an OCI archive (for an air-gapped cluster; Apptainer builds a SIF from it)."""
    emit(api.image_export(image, archive, force=force), as_json, _render_image)


@image_cmd.command("import")
@click.argument("archive", type=click.Path(dir_okay=False))
@json_option
def import_cmd(archive, as_json) -> None:
    """Load an image that `hpcfair image export` wrote; it keeps its ID."""
    emit(api.image_import(archive), as_json, _render_image)


def _render_image(result) -> None:
    image = result.image
    where = f" -> {result.archive}" if result.action == "exported" else (
        f" from {result.archive}" if result.archive else "")
    click.echo(f"{result.action} {image.id[:12]} ({', '.join(image.names) or 'no name'}){where} "
               f"in {result.seconds:g} s")
    _render_pins(image)


def _render_list(result) -> None:
    if not result.images:
        click.echo("no hpcfair runtime images (hpcfair image build makes one)")
    for image in result.images:
        click.echo(f"{image.id[:12]}  {human_size(image.size):>9}  {', '.join(image.names) or '<none>'}")
        _render_pins(image)


def _render_pins(image) -> None:
    pins = image.pins
    packages = ", ".join(f"{k}=={v}" for k, v in sorted({**(pins.get("packages") or {}),
                                                         **(pins.get("extras") or {})}.items()))
    click.echo(f"  python {pins.get('python', '?')}; {packages}; base {pins.get('base', '?')}")
