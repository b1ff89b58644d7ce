"""Run a command the way a person does: on a pseudo-terminal with a real size, the screen emulated by pyte.

Piped output (every other test) hides what only people see: progress bars, and code that runs
only when stderr is a terminal.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass
from pathlib import Path

COLUMNS, ROWS = 110, 300  # tall, so that nothing a command prints scrolls off the emulated screen
HPCFAIR = os.fspath(Path(sys.executable).with_name("hpcfair"))  # the console script pip installed


@dataclass
class TerminalRun:
    argv: list[str]
    exit_code: int
    raw: str  # every byte written to the terminal, decoded
    screen: list[str]  # the lines left on the screen at the end (trailing blanks dropped)

    @property
    def text(self) -> str:
        return "\n".join(self.screen)

    def drew_bar(self, label: str) -> bool:
        """Whether a progress bar named *label* was drawn at some point (tqdm redraws after a CR)."""
        return re.search(rf"\r{re.escape(label)}\b[^\r\n]*", self.raw) is not None

    def bar_cleared(self, label: str) -> bool:
        """Whether no bar named *label* is left on the final screen (bars are erased when done)."""
        return not any(re.match(rf"{re.escape(label)}\b.*\[\d\d:\d\d", line) for line in self.screen)

    def showed_bar(self, label: str) -> bool:
        """Drawn, then erased: what every progress bar must do."""
        return self.drew_bar(label) and self.bar_cleared(label)

    def describe(self) -> str:
        return f"$ {' '.join(self.argv)}\nexit {self.exit_code}\n--- screen ---\n{self.text}\n--- raw ---\n{self.raw!r}"


def run_in_terminal(argv: list[str], cwd: Path, env: dict[str, str] | None = None,
                    timeout: float = 300.0) -> TerminalRun:
    """Run *argv* with stdin, stdout and stderr on one pseudo-terminal of COLUMNS x ROWS."""
    import pyte

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    full_env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(COLUMNS), **(env or {})}
    proc = subprocess.Popen(argv, cwd=cwd, env=full_env, stdin=slave, stdout=slave, stderr=slave,
                            start_new_session=True)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 1 << 16)
                except OSError:  # EIO: every writer has closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
        else:
            proc.kill()
            raise AssertionError(f"{argv} did not finish in {timeout} s: {b''.join(chunks)[-2000:]!r}")
    finally:
        os.close(master)
    code = proc.wait(timeout=30)
    raw = b"".join(chunks)
    screen = pyte.Screen(COLUMNS, ROWS)
    pyte.ByteStream(screen).feed(raw)
    lines = [line.rstrip() for line in screen.display]
    while lines and not lines[-1]:
        lines.pop()
    return TerminalRun(argv, code, raw.decode(errors="replace"), lines)


def hpcfair(*args: str, cwd: Path, env: dict[str, str] | None = None, code: int = 0) -> TerminalRun:
    """``hpcfair ARGS`` on a terminal; asserts the exit code."""
    run = run_in_terminal([HPCFAIR, *args], cwd, env)
    assert run.exit_code == code, run.describe()
    assert "Traceback" not in run.raw, run.describe()
    return run
