"""Progress bars on a terminal (stderr), nothing when piped or with --json (tqdm is imported only then)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..progress import SILENT, Progress

# A phase counted in steps has nothing to measure: its name and the time spent say enough.
STEP_FORMAT = "{desc} [{elapsed}]"


class TerminalBar(Progress):
    """One tqdm bar per phase, cleared when the phase or the command ends (``leave=False``)."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._lock = threading.Lock()  # transfers advance from worker threads

    def start(self, label: str, total: int | None = None, unit: str = "B") -> None:
        from tqdm import tqdm

        with self._lock:
            self._close()
            self._bar = tqdm(total=total, desc=label, unit=unit, unit_scale=unit == "B", unit_divisor=1024,
                             leave=False, file=sys.stderr,
                             dynamic_ncols=True, bar_format=STEP_FORMAT if unit == "step" else None)

    def advance(self, count: int = 1) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.update(count)

    def detail(self, text: str) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.set_postfix_str(text, refresh=False)

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


@contextmanager
def progress_bar(as_json: bool) -> Iterator[Progress]:
    """A :class:`TerminalBar` when stderr is a terminal and the output is for people, else silence."""
    if as_json or not sys.stderr.isatty():
        yield SILENT
        return
    bar = TerminalBar()
    try:
        yield bar
    finally:
        bar.close()
