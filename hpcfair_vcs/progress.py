"""How long-running API calls say how far they are: the CLI draws a terminal bar from it.

A call works in phases (``add``: hashing, then converting; ``pull``: records,
objects, checkout). Each phase begins with :meth:`Progress.start`, which names
it, gives its total when known and its unit, and grows with
:meth:`Progress.advance`. The base class ignores everything, so library code
reports unconditionally and a caller who does not watch pays a method call.
"""

from __future__ import annotations

from collections.abc import Callable

Advance = Callable[[int], None]  # told a count just done (bytes, files, rows, records)

UNITS = ("B", "file", "record", "row", "step")


class Progress:
    """A receiver of progress reports; subclass it to show them. ``advance`` may come from worker threads."""

    def start(self, label: str, total: int | None = None, unit: str = "B") -> None:
        """A new phase *label* begins (the previous one is over); *total* is None when unknown."""

    def advance(self, count: int = 1) -> None:
        """*count* more units of the current phase are done."""

    def detail(self, text: str) -> None:
        """A short note on the current phase beside its count (``chunk 3/40``)."""


SILENT = Progress()


def ignore(_: int) -> None:
    """An :data:`Advance` that reports nowhere."""


def advance_of(progress: Progress) -> Advance:
    """*progress*'s ``advance``, or :func:`ignore` when it does not override it (so nobody
    watches, and a transfer can skip building per-file progress objects)."""
    return ignore if type(progress).advance is Progress.advance else progress.advance
