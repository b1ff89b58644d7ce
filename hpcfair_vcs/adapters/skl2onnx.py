"""skl2onnx's tree-ensemble node builder, fed an integer where it passes a bool.

skl2onnx 1.20 builds a HistGradientBoosting model's ``TreeEnsemble*`` node with
``nodes_missing_value_tracks_true=False`` (a Python bool) for each leaf;
protobuf 7 refuses a bool in an ``ints`` attribute ("Expected an int, got a
boolean"), so every HistGradientBoostingClassifier/Regressor fails to convert.
During a conversion, ``integer_missing_tracks`` puts a wrapper around
``skl2onnx.common.tree_ensemble.add_node``, the module function the converter
calls by name, that turns the value into 0 or 1, which is what the ONNX
attribute means. tests/test_adapters.py pins both facts: the bug (so the
wrapper goes when skl2onnx is fixed) and the function's keyword.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

TESTED_WITH = "1.20."


@contextlib.contextmanager
def integer_missing_tracks() -> Iterator[None]:
    from skl2onnx.common import tree_ensemble

    original = tree_ensemble.add_node

    def add_node(*args: Any, nodes_missing_value_tracks_true: Any = 0, **kwargs: Any) -> Any:
        return original(*args, nodes_missing_value_tracks_true=int(nodes_missing_value_tracks_true), **kwargs)

    tree_ensemble.add_node = add_node
    try:
        yield
    finally:
        tree_ensemble.add_node = original
