"""Byte progress for transfers: our own copy loops report to an :data:`Advance`; dvc-data's
``transfer`` wants an fsspec callback, built here from the same :data:`Advance`."""

from __future__ import annotations

from typing import Any

from ..progress import Advance, ignore


def fsspec_callback(report: Advance) -> Any:
    """An fsspec callback whose per-file children tell *report* the bytes they move.

    fsspec's ``Callback`` answers any attribute it does not have with a no-op method
    (``__getattr__``), so every field these classes read is set in ``__init__``.
    """
    from fsspec.callbacks import DEFAULT_CALLBACK, Callback

    if report is ignore:
        return DEFAULT_CALLBACK  # nobody watches: no per-file objects

    class FileBytes(Callback):
        """One file: forwards the growth of its value."""

        def __init__(self) -> None:
            super().__init__()
            self.reported = 0

        def call(self, hook_name: str | None = None, **kwargs: Any) -> None:
            if isinstance(self.value, int) and self.value > self.reported:
                report(self.value - self.reported)
                self.reported = self.value

    class Transfer(Callback):
        """The whole transfer: a :class:`FileBytes` per file."""

        def branched(self, path_1: Any, path_2: Any, **kwargs: Any) -> Callback:
            return FileBytes()

    return Transfer()
