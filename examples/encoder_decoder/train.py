"""Train the two halves of an autoencoder in two frameworks, for a few seconds each, on scikit-learn's digits.

- models/encoder.pt2: a small PyTorch CNN (8x8 image -> 16 numbers), trained with a throw-away PyTorch
  decoder, saved as a torch.export program (it carries its input signature);
- models/decoder.keras: a Keras dense decoder (16 numbers -> 64 pixels), trained on the encoder's codes;
- data/test_images.npy: 297 held-out digits, shaped [N, 1, 8, 8], scaled to [0, 1].
"""

from __future__ import annotations

import os
import time

import numpy as np
import torch
from sklearn.datasets import load_digits

LATENT = 16


class Encoder(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 8, 3, padding=1)
        self.fc = torch.nn.Linear(8 * 8 * 8, LATENT)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).flatten(1))


def main() -> None:
    torch.manual_seed(0)
    images = (load_digits().images / 16.0).astype(np.float32)[:, None]  # [1797, 1, 8, 8]
    train, test = images[:1500], images[1500:]
    os.makedirs("models", exist_ok=True)
    os.makedirs("data", exist_ok=True)
    np.save("data/test_images.npy", test)

    start = time.perf_counter()
    encoder = Encoder()
    helper = torch.nn.Sequential(torch.nn.Linear(LATENT, 64), torch.nn.Sigmoid())
    optimizer = torch.optim.Adam([*encoder.parameters(), *helper.parameters()], lr=1e-2)
    x = torch.from_numpy(train)
    for _ in range(300):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(helper(encoder(x)), x.flatten(1))
        loss.backward()
        optimizer.step()
    encoder.eval()
    batch = torch.export.Dim("N", min=1)
    program = torch.export.export(encoder, (x[:4],), dynamic_shapes=({0: batch},))
    torch.export.save(program, "models/encoder.pt2")
    print(f"PyTorch encoder: {time.perf_counter() - start:.1f} s, reconstruction MSE {loss.item():.4f}")

    from hpcfair_vcs.convert.tensorflow import quiet_tensorflow

    quiet_tensorflow()  # TensorFlow's start-up messages off the terminal
    import keras

    start = time.perf_counter()
    keras.utils.set_random_seed(0)
    with torch.no_grad():
        codes = encoder(x).numpy()
    inputs = keras.Input((LATENT,), name="z")
    hidden = keras.layers.Dense(64, activation="relu", name="hidden")(inputs)
    pixels = keras.layers.Dense(64, activation="sigmoid", name="pixels")(hidden)
    decoder = keras.Model(inputs, pixels, name="decoder")
    decoder.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    history = decoder.fit(codes, train.reshape(len(train), -1), epochs=40, batch_size=64, verbose=0)
    decoder.save("models/decoder.keras")
    print(f"Keras decoder:   {time.perf_counter() - start:.1f} s, reconstruction MSE {history.history['loss'][-1]:.4f}")


if __name__ == "__main__":
    main()
