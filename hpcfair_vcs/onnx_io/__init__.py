"""ONNX files and tensor signatures: what both ``convert`` (which writes ONNX) and ``runtime``
(which runs it) need, below both. No framework is imported here; onnx only inside functions."""
