"""hooks install | uninstall | status | run: git hooks that keep artifacts converted and shared."""

from __future__ import annotations

import click

from .. import api
from ._common import emit, json_option


@click.group("hooks")
def hooks_cmd() -> None:
    """Git hooks: convert and snapshot on commit, push on push, check out on checkout and merge.

    \b
    Examples:
      hpcfair hooks install
      hpcfair hooks status
      git commit --no-verify   # skips them once
    """


def _render_state(result) -> None:
    for hook in result.hooks:
        state = "hpcfair" + (" (runs the earlier hook first)" if hook.chained else "") if hook.installed else \
            ("another program's" if hook.other else "not installed")
        click.echo(f"{hook.name:<14}{state}")
    click.echo(f"in {result.hooks_dir}")


@hooks_cmd.command("install")
@click.option("--force", is_flag=True, help="Replace an older chained hook that is in the way.")
@json_option
def install_cmd(force, as_json) -> None:
    """Write pre-commit, pre-push, post-checkout, post-merge and post-rewrite shims (a hook already there runs first)."""
    emit(api.hooks_install(force=force), as_json, _render_state)


@hooks_cmd.command("uninstall")
@json_option
def uninstall_cmd(as_json) -> None:
    """Remove hpcfair's shims; the hooks they chained are put back."""
    emit(api.hooks_uninstall(), as_json, _render_state)


@hooks_cmd.command("status")
@json_option
def status_cmd(as_json) -> None:
    """Which hooks are hpcfair's, and where git looks for them."""
    emit(api.hooks_status(), as_json, _render_state)


@hooks_cmd.command("run", context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.argument("args", nargs=-1)
def run_cmd(name, args) -> None:
    """What the shim calls: run hook NAME with git's arguments (and, for pre-push, its input)."""
    from ..githooks.run import git_input

    api.hooks_run(name, tuple(args), stdin=git_input(name), say=lambda line: click.echo(line, err=True))
