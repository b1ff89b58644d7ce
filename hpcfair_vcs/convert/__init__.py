"""Models from PyTorch, TensorFlow/Keras and scikit-learn to ONNX, with a parity proof.

``registry.detect(path)`` picks a :class:`~.base.Converter`; its ``convert``
loads the model safely, exports it, tidies the ONNX file and checks that both
models give the same numbers. Frameworks are imported only inside their
converter module.
"""
