"""Per-file byte progress for transfers, reported only when someone watches (a terminal bar)."""

from __future__ import annotations

from typing import Any


def watched(callback: Any) -> bool:
    """True when a progress bar watches, so per-file callbacks are worth their cost."""
    from fsspec.callbacks import NoOpCallback

    return callback is not None and not isinstance(callback, NoOpCallback)


def per_file(callback: Any, src: str, dst: str) -> Any:
    """The fsspec callback for one file of *callback*'s transfer."""
    from fsspec.callbacks import DEFAULT_CALLBACK

    return (callback.branched(src, dst) if callback is not None else None) or DEFAULT_CALLBACK
