"""A byte progress bar on a terminal, nothing when piped (tqdm is imported only then)."""

from __future__ import annotations

import sys
from typing import Any


class ByteProgress:
    """Callbacks for ``api.add(on_start=..., progress=...)``."""

    def __init__(self, description: str, enabled: bool | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.description = description
        self._bar: Any = None

    def start(self, total: int) -> None:
        if self.enabled and self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total or None, unit="B", unit_scale=True, unit_divisor=1024,
                             desc=self.description, leave=False, file=sys.stderr)

    def advance(self, count: int) -> None:
        if self._bar is not None:
            self._bar.update(count)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class TransferProgress:
    """A byte progress bar for push and pull on a terminal; an fsspec callback for dvc-data."""

    def __init__(self, description: str, enabled: bool | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.description = description
        self.callback: Any = None
        self._bar: Any = None

    def __enter__(self) -> "TransferProgress":
        if self.enabled:
            from fsspec.callbacks import Callback
            from tqdm import tqdm

            bar = self._bar = tqdm(unit="B", unit_scale=True, unit_divisor=1024, desc=self.description,
                                   leave=False, file=sys.stderr)

            class Bytes(Callback):
                """Per file: forwards bytes to the shared bar."""

                def call(self, *args: Any, **kwargs: Any) -> None:
                    bar.update(self.value - getattr(self, "_shown", 0))
                    self._shown = self.value

            class Objects(Callback):
                def branched(self, path_1: Any, path_2: Any, **kwargs: Any) -> Callback:
                    return Bytes()

            self.callback = Objects()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()
