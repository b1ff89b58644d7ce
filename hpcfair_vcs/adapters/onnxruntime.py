"""onnxruntime's C++ ``run`` binding, called without the Python wrapper's re-checks.

``InferenceSession.run`` checks input names and feed ownership in Python, then
calls ``InferenceSession._sess.run(output_names, feeds, run_options)``; the
runtime's input check (runtime/onnx.py) has checked more already. For small
batches the wrapper's checks were a measured share of a call (docs/decisions.md,
inference fast path). Relied on, for onnxruntime 1.32: ``InferenceSession._sess``
with ``run(names, feeds, options)``, and ``onnxruntime.capi._pybind_state.EPFail``
for a provider failing at run time (the public ``run`` then falls back to the CPU).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

TESTED_WITH = "1.32."


class NeverRaised(Exception):
    """Matches nothing: the public ``run`` handles provider failures itself."""


def binding_run(inference: Any) -> tuple[Callable[..., list[Any]], type[BaseException]]:
    """(the C++ ``run`` of *inference*, the error it raises when a provider fails); the public
    ``run`` and :class:`NeverRaised` when a release hides them."""
    binding = getattr(getattr(inference, "_sess", None), "run", None)
    try:
        from onnxruntime.capi._pybind_state import EPFail
    except ImportError:  # pragma: no cover - a release without the binding module
        binding = None
    if binding is None:
        return inference.run, NeverRaised  # the same (names, feeds, options) call
    return binding, EPFail
