"""gc, fsck and verify: keeping the store small and sound, and proving it to CI."""

from __future__ import annotations

import click

from .. import api
from ._common import emit, human_size, json_option, remote_option


@click.command("gc")
@click.option("--dry-run", is_flag=True, help="Only report what would be deleted.")
@json_option
def gc_cmd(dry_run, as_json) -> None:
    """Delete stored objects that no version and no pointer file needs.

    \b
    Example:
      hpcfair remove old-model && hpcfair gc
    """
    emit(api.gc(dry_run=dry_run), as_json, lambda r: click.echo(
        f"{'would remove' if r.dry_run else 'removed'} {r.removed_objects} objects "
        f"({human_size(r.freed_bytes)}), kept {r.kept_objects}"))


@click.command("fsck")
@json_option
def fsck_cmd(as_json) -> None:
    """Re-hash every object and record; quarantine corrupt ones (exit 3).

    \b
    Example:
      hpcfair fsck || echo "corrupt objects were moved to .hpcfair/quarantine"
    """
    result = api.fsck()
    emit(result, as_json, _render_fsck)
    if result.exit_code:
        raise click.exceptions.Exit(result.exit_code)


def _render_fsck(r) -> None:
    for p in r.problems:
        where = f" -> {p.quarantined_to}" if p.quarantined_to else ""
        click.echo(f"{p.problem}: {p.oid} {p.detail}{where}", err=p.problem.startswith("corrupt"))
    verdict = "corrupt objects quarantined" if r.corrupt else "ok"
    click.echo(f"checked {r.checked_objects} objects and {r.checked_records} records: {verdict}")


@click.command("verify")
@remote_option("Accept data that is not stored here when this remote holds it (CI clones that did not pull).")
@json_option
def verify_cmd(remote, as_json) -> None:
    """For CI: fsck, every pointer's data stored (or on --remote), every model's ONNX parity in tolerance.

    Any problem is exit 3, each named with its path and what to do.

    \b
    Examples:
      hpcfair pull && hpcfair verify
      hpcfair verify --remote origin --json
    """
    result = api.verify(remote=remote)
    emit(result, as_json, _render_verify)
    if result.exit_code:
        raise click.exceptions.Exit(result.exit_code)


def _render_verify(r) -> None:
    for p in r.problems:
        click.echo(f"{p.check}: {p.subject}: {p.message}" + (f" (hint: {p.hint})" if p.hint else ""), err=True)
    for path in r.weak:
        click.echo(f"weak parity proof: {path} (its outputs did not vary; hpcfair convert ... --sample FILE)")
    remote = f", {len(r.on_remote)} only on the remote" if r.on_remote else ""
    verdict = f"{len(r.problems)} problem(s)" if r.problems else "ok"
    click.echo(f"verified {r.objects} objects, {r.pointers} pointers{remote}, {r.models} models: {verdict}")


@click.group("index")
def index_cmd() -> None:
    """The search catalog (.hpcfair/catalog.db): a cache of refs and metadata, kept current by every command."""


@index_cmd.command("rebuild")
@json_option
def index_rebuild_cmd(as_json) -> None:
    """Build the catalog again from the refs and records (it rebuilds itself when missing or unreadable)."""
    emit(api.index_rebuild(), as_json, lambda r: click.echo(f"indexed {r.artifacts} artifacts"))
