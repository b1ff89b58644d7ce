"""meta set | unset | show (metadata with history, docs/metadata.md), fair-check (how FAIR, docs/fair.md) and
export (standard descriptions, docs/exports.md)."""

from __future__ import annotations

import json

import click

from .. import api
from ._common import emit, json_option, remote_option


target_argument = click.argument("target", metavar="ARTIFACT[@VERSION]|PID")


@click.group("meta")
def meta_cmd() -> None:
    """Describe artifacts: license, authors, task, metrics, ...; every change is kept.

    \b
    NAME is the artifact's metadata (for every version without its own);
    NAME@VERSION (or a PID) is that version's own.
    \b
    Examples:
      hpcfair meta set encoder license=MIT "authors=['Ada Lovelace <0000-0002-1825-0097>']"
      hpcfair meta set encoder@3 "metrics={accuracy: 0.97}" training_dataset=digits@2
      hpcfair meta unset encoder funding
      hpcfair meta show encoder --history
    """


def _render(result) -> None:
    where = f"{result.artifact} v{result.version}" if result.version else result.artifact
    click.echo(f"{where}" + (f"  {result.record}" if result.record else "  (no metadata yet)"))
    for key, value in result.metadata.items():
        shown = ", ".join(value) if isinstance(value, list) and all(isinstance(v, str) for v in value) else \
            json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value
        click.echo(f"  {key + ':':<18}{shown}")
    for change in result.history:
        click.echo(f"  {change.changed or 'first':<28}{change.record[:20]}  {', '.join(change.keys) or '-'}")


@meta_cmd.command("set")
@target_argument
@click.argument("values", nargs=-1, required=True, metavar="KEY=VALUE...")
@json_option
def set_cmd(target, values, as_json) -> None:
    """Set metadata keys; values are YAML (lists [a, b], mappings {k: v}). Nothing changes if one is refused."""
    emit(api.meta_set(target, list(values)), as_json, _render)


@meta_cmd.command("unset")
@target_argument
@click.argument("keys", nargs=-1, required=True, metavar="KEY...")
@json_option
def unset_cmd(target, keys, as_json) -> None:
    """Remove metadata keys."""
    emit(api.meta_unset(target, list(keys)), as_json, _render)


@meta_cmd.command("show")
@target_argument
@click.option("--history", is_flag=True, help="Every change, newest first, with the keys it changed.")
@json_option
def show_cmd(target, history, as_json) -> None:
    """The metadata that holds for the artifact or version."""
    emit(api.meta_show(target, history=history), as_json, _render)


@click.command("fair-check")
@click.argument("artifact", required=False, metavar="[ARTIFACT]")
@click.option("--min", "minimum", type=float, metavar="SCORE", help="Exit 1 when an artifact scores below SCORE (0-100).")
@remote_option("The remote 'on a remote' looks at (default: core.remote).")
@json_option
def fair_check_cmd(artifact, minimum, remote, as_json) -> None:
    """Score how Findable, Accessible, Interoperable and Reusable each artifact is; name what fixes each gap.

    \b
    Examples:
      hpcfair fair-check
      hpcfair fair-check encoder --min 80     # a CI gate
    """
    result = api.fair_check(artifact, minimum=minimum, remote=remote)
    emit(result, as_json, _render_scores)
    if result.exit_code:
        raise click.exceptions.Exit(result.exit_code)


def _render_scores(result) -> None:
    for item in result.artifacts:
        below = " (below --min)" if result.minimum is not None and item.score < result.minimum else ""
        click.echo(f"{item.artifact} v{item.version} ({item.kind}): {item.score:g}/100{below}")
        for check in item.checks:
            if not check.passed:
                click.echo(f"  missing  {check.principle:<14}{check.check:<18}{check.fix}")


@click.command("export")
@target_argument
@click.option("--format", "fmt", required=True, type=click.Choice(["ro-crate", "croissant", "model-card", "datacite"]))
@click.option("-o", "--output", required=True, type=click.Path(), help="A new (or empty) folder to write.")
@json_option
def export_cmd(target, fmt, output, as_json) -> None:
    """Describe a version in a standard others read: RO-Crate, Croissant (datasets), a model card, DataCite JSON.

    \b
    Examples:
      hpcfair export encoder --format ro-crate -o exported/encoder-crate
      hpcfair export digits@2 --format croissant -o exported/digits
      hpcfair export encoder --format datacite -o exported/doi
    """
    emit(api.export(target, format=fmt, output=output), as_json,
         lambda r: click.echo(f"wrote {r.artifact} v{r.version} as {r.format} to {r.output} ({len(r.files)} files)"))
