"""init, add, status, checkout, remove: commands that change or inspect the work tree."""

from __future__ import annotations

import shlex

import click

from .. import api
from ._common import emit, human_size, json_option, short
from ._progress import progress_bar
from .model_cmds import conversion_options, parity_line, signature_line


@click.command("init")
@click.argument("path", default=".", type=click.Path(file_okay=False))
@json_option
def init_cmd(path: str, as_json: bool) -> None:
    """Create an hpcfair repository (.hpcfair/) in PATH (default: here).

    \b
    Example:
      cd my-science-repo && hpcfair init
    """
    result = api.init(path)
    emit(result, as_json, lambda r: click.echo(
        f"Initialised an hpcfair repository in {r.control}"
        + ("\nData you add is kept out of git; commit the .hpcfair pointer files." if r.in_git else "")))


@click.command("add")
@click.argument("paths", nargs=-1, required=True, type=click.Path(readable=False))
@click.option("--name", help="Artifact name (default: the file's stem or the folder's name).")
@click.option("--kind", type=click.Choice(["model", "dataset"]), help="Default: guessed from the path.")
@click.option("--tag", "tags", multiple=True, help="Tag the version (repeatable), e.g. --tag prod.")
@click.option("--description", help="What the artifact is.")
@click.option("--license", "license_", help="License identifier, e.g. CC-BY-4.0.")
@click.option("--author", "authors", multiple=True, help="An author (repeatable).")
@click.option("--no-convert", is_flag=True, help="Do not convert models to ONNX (see convert.auto).")
@conversion_options
@json_option
def add_cmd(paths, name, kind, tags, description, license_, authors, no_convert, framework, inputs, outputs, opset,
            model_class, model_args, trust_pickle, trust_types, params, as_json) -> None:
    """Store files or folders and record a new version when they changed.

    Writes PATH.hpcfair beside each path: commit it to git. Models are then
    converted to ONNX and checked (see `hpcfair convert`); a model that cannot
    be converted stays stored, and the command says why.

    \b
    Examples:
      hpcfair add models/encoder.pt --tag mnist --input x:N,1,28,28:float32 --output-name z
      hpcfair add models/decoder.keras
      hpcfair add data/digits/ --kind dataset --license CC-BY-4.0
    """
    with progress_bar(as_json) as progress:
        result = api.add(paths, name=name, kind=kind, tags=tags, description=description,
                         license=license_, authors=authors, progress=progress,
                         convert=False if no_convert else None, framework=framework, inputs=inputs, outputs=outputs,
                         model_class=model_class, model_args=model_args, trust_pickle=trust_pickle,
                         trust_types=trust_types,
                         opset=opset, params=params)
    emit(result, as_json, render_add)
    if result.exit_code:
        raise click.exceptions.Exit(result.exit_code)


def render_add(result) -> None:
    for item in result.items:
        what = f"{item.artifact} v{item.version}"
        size = human_size(item.size) + (f", {item.nfiles} files" if item.oid.endswith(".dir") else "")
        if item.new_version:
            click.echo(f"added {item.path} as {what} ({size}) {short(item.pid)}")
        else:
            click.echo(f"unchanged {item.path}: still {what} {short(item.pid)}")
        if item.duplicate_of:
            click.echo(f"  same content as {item.duplicate_of.artifact} "
                       f"({item.duplicate_of.pid}): no new object stored")
        if item.tags:
            click.echo(f"  tags: {', '.join(item.tags)}")
        if item.conversion:
            _render_conversion(item.artifact, item.conversion)
    if any(i.new_version for i in result.items):
        click.echo("Commit the pointer files: git add " + " ".join(shlex.quote(i.pointer) for i in result.items))


def _render_conversion(artifact: str, c) -> None:
    """A results.ConversionOutcome."""
    hint = f" (hint: {c.hint})" if c.hint else ""
    if c.status == "converted":
        cached = ", cached" if c.result.cached else ""
        click.echo(f"  ONNX: {c.result.artifact} v{c.result.version}{cached}; parity {parity_line(c.result.parity)}")
    elif c.status == "validated":
        click.echo(f"  ONNX: valid; inputs {signature_line(c.result.signature.inputs)}")
    elif c.status == "skipped":
        click.echo(f"  not converted to ONNX: {c.message}{hint}")
    else:
        click.echo(f"hpcfair: error: converting {artifact} to ONNX failed: {c.message}{hint}", err=True)


@click.command("status")
@json_option
def status_cmd(as_json: bool) -> None:
    """Compare each tracked path with its pointer file and the store.

    \b
    States: in sync, modified (add it), missing (checkout), not stored (pull),
    no pointer (checkout NAME), corrupt pointer (restore it from git),
    derived (an ONNX form kept in the store; checkout NAME places it).
    Exits 3 when a pointer file is corrupt.

    \b
    Examples:
      hpcfair status
      hpcfair status --json | jq '.entries[] | select(.state != "in sync")'
    """
    result = api.status()
    emit(result, as_json, _render_status)
    if any(e.state == "corrupt pointer" for e in result.entries):
        raise click.exceptions.Exit(3)


def _render_status(result) -> None:
    if not result.entries:
        click.echo("nothing tracked yet: hpcfair add PATH")
        return
    width = max(len(e.state) for e in result.entries)
    for e in result.entries:
        version = f"{e.artifact} v{e.version}" if e.version else e.artifact
        detail = f"  ({e.detail})" if e.detail else ""
        click.echo(f"{e.state:<{width}}  {e.path}  [{version}]{detail}")


@click.command("checkout")
@click.argument("targets", nargs=-1)
@click.option("--force", is_flag=True, help="Overwrite changes that are not stored.")
@click.option("--link-type", "link_types", multiple=True,
              type=click.Choice(["reflink", "hardlink", "symlink", "copy"]),
              help="How to place files (repeatable, tried in order; default from config: reflink, copy).")
@json_option
def checkout_cmd(targets, force, link_types, as_json) -> None:
    """Restore tracked data from the store, or switch it to another version.

    TARGETS are NAME, NAME@VERSION, NAME@TAG, a PID or a path; none restores every pointer.

    \b
    Examples:
      hpcfair checkout                 # make the work tree match the pointer files
      hpcfair checkout encoder@2       # switch encoder to version 2
      hpcfair checkout digits@paper-v1
    """
    with progress_bar(as_json) as progress:
        result = api.checkout(targets, force=force, link_types=link_types or None, progress=progress)
    emit(result, as_json, _render_checkout)
    if result.exit_code:
        raise click.exceptions.Exit(result.exit_code)


def _render_checkout(result) -> None:
    for item in result.items:
        if item.action == "failed":
            click.echo(f"hpcfair: error: {item.path}: {item.error}", err=True)
        elif item.action == "restored":
            click.echo(f"restored {item.path} ({item.artifact} v{item.version}, "
                       f"{item.files_written} written, {item.files_removed} removed, {item.link_type or '-'})")
        else:
            click.echo(f"unchanged {item.path} ({item.artifact} v{item.version})")


@click.command("remove")
@click.argument("artifact")
@json_option
def remove_cmd(artifact: str, as_json: bool) -> None:
    """Stop tracking ARTIFACT: drops its pointer file; your data stays, objects stay until gc.

    \b
    Example:
      hpcfair remove old-encoder && hpcfair gc
    """
    result = api.remove(artifact)
    emit(result, as_json, lambda r: click.echo(
        f"removed {r.artifact} ({r.versions} versions); {r.path} is no longer tracked"))
