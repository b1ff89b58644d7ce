"""``python -m hpcfair_vcs.githooks -C REPO NAME [ARGS...]``: what the shims run.

The same as ``hpcfair -C REPO hooks run NAME``, without the command line's
start-up (click and every command's module): a hook that has nothing to do
should cost git about as little as the interpreter does. Errors are printed as
the command prints them, with the same exit codes.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[0] != "-C":
        print("usage: python -m hpcfair_vcs.githooks -C REPO NAME [ARGS...]", file=sys.stderr)
        return 2
    from ..errors import HpcfairError
    from .run import git_input, run

    try:
        os.chdir(argv[1])
        run(argv[2], tuple(argv[3:]), stdin=git_input(argv[2]))
    except HpcfairError as exc:
        print(f"hpcfair: error: {exc.line()}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        print(f"hpcfair: error: cannot enter {argv[1]}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


sys.exit(main(sys.argv[1:]))
