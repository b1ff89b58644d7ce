"""What every command shares: the error handler, --json, and small renderers.

A command only parses, calls one ``hpcfair_vcs.api`` function and renders.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click

from .. import config
from ..errors import EXIT_USAGE, EXIT_USER, HpcfairError

json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")


def remote_option(help_text: str = "Remote name (default: core.remote, or the only one).") -> Callable:
    """-r/--remote NAME, the same flag wherever a command talks to a remote."""
    return click.option("-r", "--remote", help=help_text)


def emit(result: Any, as_json: bool, render: Callable[[Any], None]) -> None:
    """Print *result* as JSON or through *render*."""
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, sort_keys=True))
    else:
        render(result)


def key_value_pairs(items: tuple[str, ...], option: str) -> dict[str, str]:
    """``KEY=VALUE`` strings given to *option* as a mapping (values as typed)."""
    pairs: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint=option)
        pairs[key.strip()] = value
    return pairs


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


def short(pid: str | None, digits: int = 12) -> str:
    return pid[: len("hpcfair:") + digits] if pid else "-"


def report_error(exc: BaseException, as_json: bool = False) -> int:
    """Print one line (and a JSON object with --json); return the exit code."""
    if isinstance(exc, HpcfairError):
        code, payload = exc.exit_code, exc.to_dict()
        line = exc.line()
    elif isinstance(exc, click.UsageError):
        code = EXIT_USAGE
        payload = {"error": "UsageError", "message": exc.format_message(), "hint": "", "exit_code": code}
        line = exc.format_message()
    else:
        code = EXIT_USER
        line = (f"unexpected {type(exc).__name__}: {exc} "
                "(hint: run again with HPCFAIR_DEBUG=1 for the traceback, and report it)")
        payload = {"error": type(exc).__name__, "message": str(exc), "hint": "HPCFAIR_DEBUG=1",
                   "exit_code": code}
    for detail in (getattr(exc, "details", "") or "").splitlines():
        click.echo(f"hpcfair:   | {detail}", err=True)
    click.echo(f"hpcfair: error: {line}", err=True)
    if as_json:
        click.echo(json.dumps(payload, sort_keys=True))
    return code


class HandledGroup(click.Group):
    """A click group that turns every error into one line and a documented exit code."""

    def main(self, *args: Any, **kwargs: Any) -> Any:  # noqa: D401
        kwargs["standalone_mode"] = False
        argv = kwargs.get("args") or (args[0] if args else None) or sys.argv[1:]
        as_json = "--json" in argv
        try:
            rv = super().main(*args, **kwargs)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("hpcfair: aborted", err=True)
            sys.exit(130)
        except click.UsageError as exc:
            if exc.ctx is not None and config.debug_enabled():
                raise
            click.echo(exc.ctx.get_usage() if exc.ctx else "", err=True)
            sys.exit(report_error(exc, as_json))
        except Exception as exc:  # noqa: BLE001 - the one place every error is rendered
            if config.debug_enabled():
                raise
            sys.exit(report_error(exc, as_json))
        sys.exit(rv if isinstance(rv, int) else 0)
