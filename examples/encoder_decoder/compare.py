"""The composed ONNX model against the two native models run one after the other (PyTorch, then Keras)."""

from __future__ import annotations

import os
import sys

import numpy as np
import torch


def main(composed_output: str) -> None:
    from hpcfair_vcs.convert.tensorflow import quiet_tensorflow

    quiet_tensorflow()  # TensorFlow's start-up messages off the terminal
    import keras

    images = np.load("data/test_images.npy")
    encoder = torch.export.load("models/encoder.pt2").module()
    decoder = keras.models.load_model("models/decoder.keras", compile=False)
    with torch.no_grad():
        native = decoder(encoder(torch.from_numpy(images)).numpy(), training=False).numpy()
    composed = np.load(composed_output)
    difference = np.abs(composed - native)
    error = ((composed - images.reshape(len(images), -1)) ** 2).mean()
    print(f"test images:                            {len(images)}")
    print(f"composed ONNX vs PyTorch -> Keras:      max abs {difference.max():.3g}, "
          f"max rel {difference.max() / np.abs(native).max():.3g}")
    print(f"reconstruction MSE of the composed model: {error:.4f}")
    if difference.max() > 1e-4:
        sys.exit("the composed model does not match the native models")


if __name__ == "__main__":
    main(sys.argv[1])
