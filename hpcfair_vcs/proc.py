"""The one way hpcfair runs another program: an argv list, never a shell."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence

from .errors import CommandFailedError

STDERR_TAIL = 2000  # characters of stderr kept in the error


def run(argv: Sequence[str | os.PathLike], *, timeout: float | None = None, cwd: str | os.PathLike | None = None,
        env: Mapping[str, str] | None = None, what: str = "") -> subprocess.CompletedProcess[str]:
    """Run *argv*, capture its output as text, and return it.

    Raises:
        CommandFailedError: it exited non-zero, timed out, or could not start; the
            error carries the argv, exit code and the tail of stderr.
    """
    args = [os.fspath(a) for a in argv]
    label = what or os.path.basename(args[0])
    try:
        done = subprocess.run(args, capture_output=True, text=True, errors="replace", timeout=timeout, cwd=cwd,
                              env=dict(env) if env is not None else None, check=False)
    except FileNotFoundError:
        raise CommandFailedError(f"{label}: {args[0]} is not installed", argv=args, returncode=127,
                                 stderr="") from None
    except subprocess.TimeoutExpired as exc:
        raise CommandFailedError(f"{label} did not finish within {timeout:.0f} s", argv=args, returncode=-1,
                                 stderr=str(exc.stderr or "")[-STDERR_TAIL:]) from None
    if done.returncode != 0:
        tail = done.stderr.strip()[-STDERR_TAIL:]
        last = tail.splitlines()[-1] if tail else f"exit code {done.returncode}"
        raise CommandFailedError(f"{label} failed: {last}", argv=args, returncode=done.returncode, stderr=tail)
    return done
