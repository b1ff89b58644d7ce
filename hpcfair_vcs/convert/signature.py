"""Kept for converter plugins written against ``hpcfair_vcs.convert.signature`` (docs/convert.md):
the signature types live in :mod:`hpcfair_vcs.onnx_io.signature`, below convert and runtime."""

from ..onnx_io.signature import BATCH, DTYPES, Signature, TensorSpec, concrete_shape, parse_tensor  # noqa: F401
