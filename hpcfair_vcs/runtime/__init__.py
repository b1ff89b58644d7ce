"""Running things: machine snapshots (and, later, onnxruntime sessions and containers)."""
