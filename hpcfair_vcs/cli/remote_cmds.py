"""remote (add, modify, list, remove, default, import-dvc), push, pull, fetch."""

from __future__ import annotations

import click

from .. import api
from ._common import emit, human_size, json_option, key_value_pairs, remote_option
from ._progress import progress_bar

jobs_opt = click.option("-j", "--jobs", type=click.IntRange(1, 128), help="Parallel transfers.")
accept_opt = click.option("--accept-new-host", is_flag=True,
                          help="SSH: trust a server whose host key is not in known_hosts yet (adds it).")


def _render_remotes(result) -> None:
    if not result.remotes:
        click.echo("no remotes: hpcfair remote add NAME URL")
    for remote in result.remotes:
        extras = " ".join(f"{k}={v}" for k, v in remote.options.items())
        mark = " (default)" if remote.default else ""
        click.echo(f"{remote.name}{mark}\t{remote.url}\t{extras}".rstrip())


@click.group("remote")
def remote_cmd() -> None:
    """Configure remotes: DVC's URLs and options (local folder, ssh, webdav, s3, http, ...).

    \b
    Examples:
      hpcfair remote add origin ssh://user@host/srv/hpcfair -o keyfile=~/.ssh/id_ed25519 --default
      hpcfair remote add store s3://bucket/path -o endpointurl=http://127.0.0.1:9000
      hpcfair remote list
    """


@remote_cmd.command("add")
@click.argument("name")
@click.argument("url")
@click.option("-o", "--option", "pairs", multiple=True, metavar="KEY=VALUE", help="A DVC remote option.")
@click.option("--local", is_flag=True, help="Keep the whole remote in config.local.yaml (not committed).")
@click.option("--default", "default", is_flag=True, help="Make it the default remote.")
@json_option
def remote_add_cmd(name, url, pairs, local, default, as_json) -> None:
    """Add a remote. Secrets (password, keyfile, keys, tokens) always go to config.local.yaml.

    \b
    Example:
      hpcfair remote add dav webdav://host/dav/store -o user=me -o password=... --default
    """
    result = api.remote_add(name, url, key_value_pairs(pairs, "-o"), local=local, default=default)
    emit(result, as_json, _render_remotes)


@remote_cmd.command("modify")
@click.argument("name")
@click.option("-o", "--option", "pairs", multiple=True, metavar="KEY=VALUE", help="Set an option.")
@click.option("--unset", multiple=True, metavar="KEY", help="Remove an option.")
@click.option("--local", is_flag=True, help="Write to config.local.yaml.")
@json_option
def remote_modify_cmd(name, pairs, unset, local, as_json) -> None:
    """Change a remote's options.

    \b
    Example:
      hpcfair remote modify origin -o port=2222 --unset keyfile
    """
    result = api.remote_modify(name, key_value_pairs(pairs, "-o"), unset=list(unset), local=local)
    emit(result, as_json, _render_remotes)


@remote_cmd.command("list")
@json_option
def remote_list_cmd(as_json) -> None:
    """List remotes (secrets shown as ***).

    \b
    Example:
      hpcfair remote list --json
    """
    emit(api.remote_list(), as_json, _render_remotes)


@remote_cmd.command("remove")
@click.argument("name")
@json_option
def remote_remove_cmd(name, as_json) -> None:
    """Forget a remote (nothing on the server is deleted).

    \b
    Example:
      hpcfair remote remove old
    """
    emit(api.remote_remove(name), as_json, _render_remotes)


@remote_cmd.command("default")
@click.argument("name")
@click.option("--local", is_flag=True, help="Only on this machine.")
@json_option
def remote_default_cmd(name, local, as_json) -> None:
    """Make NAME the remote push, pull and fetch use by default.

    \b
    Example:
      hpcfair remote default origin
    """
    emit(api.remote_default(name, local=local), as_json, _render_remotes)


@remote_cmd.command("import-dvc")
@click.option("--dvc-dir", type=click.Path(file_okay=False), help="Default: .dvc in the repository.")
@json_option
def remote_import_dvc_cmd(dvc_dir, as_json) -> None:
    """Take the remotes of an existing .dvc/config and .dvc/config.local.

    \b
    Example:
      hpcfair remote import-dvc
    """
    emit(api.remote_import_dvc(dvc_dir=dvc_dir), as_json, _render_remotes)


def _render_transfer(verb: str):
    def render(s) -> None:
        click.echo(f"{verb} {s.objects_transferred} objects ({human_size(s.bytes_transferred)}), "
                   f"{s.objects_skipped} already there, {len(s.objects_failed)} failed; "
                   f"{s.records_transferred} records; refs updated: {', '.join(s.refs_updated) or 'none'} "
                   f"[{s.remote}]")
        for pid in s.missing_locally:
            click.echo(f"  not stored here, not pushed: {pid}", err=True)
        for spec in s.no_derived_form:
            click.echo(f"  {spec} has no such derived form (hint: `hpcfair convert {spec}` on a clone that has it)",
                       err=True)
        for oid in s.objects_corrupt:
            click.echo(f"hpcfair: error: object {oid} on remote {s.remote} is corrupt: not stored "
                       "(hint: push a good copy from another clone)", err=True)
        for m in s.missing_on_remote:
            click.echo(f"hpcfair: error: remote {s.remote!r} does not have the data of {m.artifact} ({m.path}, "
                       f"object {m.oid[:12]}) (hint: run `hpcfair push -r {s.remote}` in a repository that has it, "
                       "then pull again)", err=True)
        for oid in s.objects_failed:
            click.echo(f"hpcfair: error: object {oid} failed to transfer (hint: rerun to resume)", err=True)
        for item in s.checkout:
            if item.action == "failed":
                click.echo(f"hpcfair: error: {item.path}: {item.error}", err=True)
            elif item.action == "restored":
                click.echo(f"checked out {item.path} ({item.artifact} v{item.version})")
    return render


@click.command("push")
@click.argument("artifacts", nargs=-1)
@remote_option()
@jobs_opt
@accept_opt
@json_option
def push_cmd(artifacts, remote, jobs, accept_new_host, as_json) -> None:
    """Upload artifacts (default: all), every version, with records and refs.

    \b
    Examples:
      hpcfair push
      hpcfair push encoder -r backup -j 8
    """
    with progress_bar(as_json) as progress:
        result = api.push(artifacts, remote=remote, jobs=jobs, progress=progress,
                          accept_new_host=accept_new_host)
    emit(result, as_json, _render_transfer("pushed"))
    if result.exit_code:
        raise click.exceptions.Exit(result.exit_code)


@click.command("pull")
@click.argument("targets", nargs=-1)
@remote_option()
@jobs_opt
@accept_opt
@click.option("--force", is_flag=True, help="Overwrite local changes that are not stored.")
@click.option("--only", type=click.Choice(["onnx"]), help="Only this derived form of each model (its ONNX file).")
@json_option
def pull_cmd(targets, remote, jobs, accept_new_host, force, only, as_json) -> None:
    """Download and check out artifacts: NAME[@VERSION|@TAG], PID or path (default: every pointer).

    Every object is checked against its sha256 first; a corrupt one is not stored (exit 3).

    \b
    Examples:
      git clone ... && hpcfair pull
      hpcfair pull hpcfair:5f0c1a2b3c4d          # works in a fresh `hpcfair init`
      hpcfair pull encoder --only onnx           # just the ONNX form, not the PyTorch file
    """
    with progress_bar(as_json) as progress:
        result = api.pull(targets, remote=remote, jobs=jobs, force=force, progress=progress,
                          accept_new_host=accept_new_host, only=only)
    emit(result, as_json, _render_transfer("pulled"))
    if result.exit_code:
        raise click.exceptions.Exit(result.exit_code)


@click.command("fetch")
@remote_option()
@jobs_opt
@accept_opt
@json_option
def fetch_cmd(remote, jobs, accept_new_host, as_json) -> None:
    """Download records and refs only, so show, log and PIDs know the remote's artifacts.

    \b
    Example:
      hpcfair fetch && hpcfair log
    """
    with progress_bar(as_json) as progress:
        result = api.fetch(remote=remote, jobs=jobs, accept_new_host=accept_new_host, progress=progress)
    emit(result, as_json, _render_transfer("fetched"))
    if result.exit_code:
        raise click.exceptions.Exit(result.exit_code)
