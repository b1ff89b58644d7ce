"""The ``hpcfair`` command. Every command parses, calls one api function and renders."""

from __future__ import annotations

import os

import click

from ..version import __version__
from ._common import HandledGroup
from .history_cmds import lineage_cmd, log_cmd, search_cmd, show_cmd, tag_cmd
from .hook_cmds import hooks_cmd
from .image_cmds import image_cmd
from .maintenance_cmds import fsck_cmd, gc_cmd, index_cmd, verify_cmd
from .meta_cmds import export_cmd, fair_check_cmd, meta_cmd
from .model_cmds import compose_cmd, convert_cmd, infer_cmd, optimize_cmd
from .task_cmds import run_cmd
from .remote_cmds import fetch_cmd, pull_cmd, push_cmd, remote_cmd
from .workspace_cmds import add_cmd, checkout_cmd, init_cmd, remove_cmd, status_cmd

EPILOG = """\b
Exit codes: 0 ok, 1 user error, 2 usage error, 3 integrity failure,
4 environment missing. HPCFAIR_DEBUG=1 shows tracebacks.
Docs: docs/cli.md"""


@click.group(cls=HandledGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="hpcfair", message="%(prog)s %(version)s")
@click.option("-C", "directory", type=click.Path(file_okay=False), metavar="DIR",
              help="Run as if hpcfair was started in DIR.")
def main(directory: str | None) -> None:
    """Version AI models and datasets next to your code, the FAIR way.

    \b
    Quick start:
      hpcfair init
      hpcfair add models/encoder.pt --tag mnist
      hpcfair status
      hpcfair log encoder
    """
    if directory:
        try:
            os.chdir(directory)
        except OSError as exc:
            raise click.BadParameter(f"cannot enter {directory}: {exc.strerror}", param_hint="-C")


for command in (init_cmd, add_cmd, status_cmd, checkout_cmd, remove_cmd, log_cmd, show_cmd, tag_cmd,
                gc_cmd, fsck_cmd, verify_cmd, search_cmd, convert_cmd, infer_cmd, compose_cmd, optimize_cmd, run_cmd,
                remote_cmd, push_cmd, pull_cmd, fetch_cmd, hooks_cmd, meta_cmd, fair_check_cmd, index_cmd, lineage_cmd, export_cmd,
                image_cmd):
    main.add_command(command)
