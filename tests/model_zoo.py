"""Small real models, built on the spot in each framework the converters support.

Frameworks are imported inside the builders, so importing this module is cheap.
The PyTorch classes live here (importable as ``tests.model_zoo:Encoder``) so a
state_dict can name its class.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

LATENT = 16
IMAGE = (1, 8, 8)  # scikit-learn's digits are 8x8 grey images


def _torch_classes():
    import torch

    class Encoder(torch.nn.Module):
        """A small CNN encoder: 1x8x8 image -> 16 numbers."""

        def __init__(self, latent: int = LATENT) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(1, 4, 3, padding=1)
            self.fc = torch.nn.Linear(4 * 8 * 8, latent)

        def forward(self, x):
            return self.fc(torch.relu(self.conv(x)).flatten(1))

    return Encoder


def __getattr__(name: str):
    if name == "Encoder":  # built on first use so that importing this module needs no torch
        globals()["Encoder"] = cls = _torch_classes()
        cls.__module__ = __name__
        cls.__qualname__ = "Encoder"
        return cls
    raise AttributeError(name)


def encoder(seed: int = 0):
    import torch

    torch.manual_seed(seed)
    return __getattr__("Encoder")().eval()


def torch_example():
    import torch

    return torch.randn(3, *IMAGE)


def save_torchscript(path: Path) -> Path:
    import torch

    torch.jit.save(torch.jit.script(encoder()), str(path))
    return path


def save_torch_export(path: Path) -> Path:
    import torch

    batch = torch.export.Dim("N", min=1)
    program = torch.export.export(encoder(), (torch_example(),), dynamic_shapes=({0: batch},))
    torch.export.save(program, str(path))
    return path


def save_state_dict(path: Path, seed: int = 0) -> Path:
    import torch

    torch.save(encoder(seed).state_dict(), str(path))
    return path


def save_pickled_module(path: Path) -> Path:
    import torch

    torch.save(encoder(), str(path))
    return path


def nets_module_source() -> str:
    """The Encoder class as a module a user would keep beside their data (for the CLI tests)."""
    return '''import torch


class Encoder(torch.nn.Module):
    def __init__(self, latent=16):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.fc = torch.nn.Linear(4 * 8 * 8, latent)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).flatten(1))
'''


def decoder():
    """A dense Keras decoder: 16 numbers -> a 64-pixel image."""
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((LATENT,), name="z")
    hidden = keras.layers.Dense(32, activation="relu", name="hidden")(inputs)
    outputs = keras.layers.Dense(64, activation="sigmoid", name="pixels")(hidden)
    return keras.Model(inputs, outputs, name="decoder")


def save_keras(path: Path) -> Path:
    decoder().save(str(path))
    return path


def keras_zoo(kind: str):
    """The Keras models of the conversion zoo, random weights (seeded), outputs that vary with the input."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    if kind == "sequential_mlp":  # the first model of every Keras tutorial
        return keras.Sequential([keras.Input((6,)), layers.Dense(12, activation="relu"),
                                 layers.Dense(20, activation="sigmoid")])
    if kind == "sequential_conv1d":
        return keras.Sequential([keras.Input((32, 2)), layers.Conv1D(8, 3, activation="relu"),
                                 layers.MaxPooling1D(2), layers.Flatten(), layers.Dense(5, activation="softmax")])
    if kind == "lstm":
        return keras.Sequential([keras.Input((10, 4)), layers.LSTM(16), layers.Dense(3)])
    if kind == "two_inputs":
        image, meta = keras.Input((8, 8, 1), name="image"), keras.Input((3,), name="meta")
        seen = layers.Flatten()(layers.Conv2D(4, 3, activation="relu")(image))
        joined = layers.Concatenate()([seen, layers.Dense(4, activation="relu")(meta)])
        return keras.Model([image, meta], layers.Dense(2, name="score")(joined))
    if kind == "batchnorm_attention":
        tokens = keras.Input((6, 8), name="tokens")
        normed = layers.BatchNormalization()(tokens)
        attended = layers.MultiHeadAttention(num_heads=2, key_dim=4)(normed, normed)
        pooled = layers.GlobalAveragePooling1D()(layers.Add()([normed, attended]))
        return keras.Model(tokens, layers.Dense(4, name="logits")(pooled))
    raise ValueError(kind)


KERAS_ZOO = ("sequential_mlp", "sequential_conv1d", "lstm", "two_inputs", "batchnorm_attention")


def save_keras_lambda(path: Path) -> Path:
    """A Keras model with a Lambda layer: its Python code is stored in the file, and loading it runs that code."""
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,), name="x")
    doubled = keras.layers.Lambda(lambda t: t * 2.0, name="double")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, name="out")(doubled))
    model.save(path)
    return path


def save_saved_model(path: Path) -> Path:
    decoder().export(str(path), verbose=False)
    return path


def digits():
    from sklearn.datasets import load_digits

    return load_digits(return_X_y=True)


def pipeline():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = digits()
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)).fit(X, y)


def forest():
    from sklearn.ensemble import RandomForestClassifier

    X, y = digits()
    return RandomForestClassifier(n_estimators=8, max_depth=6, random_state=0).fit(X, y)


def sklearn_zoo(kind: str):
    """The scikit-learn models of the conversion zoo, fitted on the digits (64 features)."""
    from sklearn import compose, ensemble, linear_model, neighbors, pipeline as pipelines, preprocessing, svm

    X, y = digits()
    models = {
        "linear": lambda: linear_model.Ridge(alpha=1.0),
        "svm": lambda: pipelines.make_pipeline(preprocessing.StandardScaler(),
                                               svm.SVC(probability=True, random_state=0)),
        "knn": lambda: neighbors.KNeighborsClassifier(n_neighbors=5, algorithm="kd_tree"),
        "random_forest": lambda: ensemble.RandomForestClassifier(n_estimators=10, max_depth=6, random_state=0),
        "gradient_boosting": lambda: pipelines.make_pipeline(
            preprocessing.StandardScaler(), ensemble.GradientBoostingClassifier(n_estimators=10, max_depth=3,
                                                                                  random_state=0)),
        "hist_gradient_boosting": lambda: ensemble.HistGradientBoostingRegressor(max_iter=20, random_state=0),
        "column_transformer": lambda: pipelines.make_pipeline(
            compose.ColumnTransformer([("scaled", preprocessing.StandardScaler(), list(range(0, 32))),
                                       ("ranged", preprocessing.MinMaxScaler(), list(range(32, 64)))]),
            linear_model.LogisticRegression(max_iter=500)),
    }
    model = models[kind]()
    regressor = kind in ("linear", "hist_gradient_boosting")
    return model.fit(X, y.astype(float) if regressor else y)


SKLEARN_ZOO = ("linear", "svm", "knn", "random_forest", "gradient_boosting", "hist_gradient_boosting",
               "column_transformer")


def tabular(rows: int = 400, features: int = 8):
    """Data like the parity check's seeded inputs (N(0, 1) features) with labels that depend on them,
    so that the boosted trees' outputs vary over those inputs."""
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, features)).astype(np.float32)
    score = X[:, 0] + 0.5 * X[:, 1] * X[:, 2] - X[:, 3]
    return X, np.digitize(score, [-1.0, 0.0, 1.0]), score


def save_xgboost(kind: str, path: Path) -> Path:
    """An XGBoost classifier (4 classes) or regressor in its own format (.json or .ubj by *path*)."""
    import xgboost

    X, labels, score = tabular()
    if kind == "classifier":
        model = xgboost.XGBClassifier(n_estimators=20, max_depth=3, random_state=0).fit(X, labels)
    else:
        model = xgboost.XGBRegressor(n_estimators=20, max_depth=3, random_state=0).fit(X, score)
    model.save_model(str(path))
    return path


def save_lightgbm(kind: str, path: Path) -> Path:
    """A LightGBM classifier (4 classes) or regressor as its text model file."""
    import lightgbm

    X, labels, score = tabular()
    if kind == "classifier":
        model = lightgbm.LGBMClassifier(n_estimators=20, num_leaves=8, random_state=0, verbose=-1).fit(X, labels)
    else:
        model = lightgbm.LGBMRegressor(n_estimators=20, num_leaves=8, random_state=0, verbose=-1).fit(X, score)
    model.booster_.save_model(str(path))
    return path


def save_skops(model, path: Path) -> Path:
    import skops.io

    skops.io.dump(model, path)
    return path


def save_joblib(model, path: Path) -> Path:
    import joblib

    joblib.dump(model, path)
    return path


def save_onnx(path: Path) -> Path:
    """A tiny ONNX model (y = x @ W + b) written with onnx.helper."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weights = numpy_helper.from_array(rng.standard_normal((4, 3)).astype(np.float32), "W")
    bias = numpy_helper.from_array(rng.standard_normal(3).astype(np.float32), "b")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["xw"]), helper.make_node("Add", ["xw", "b"], ["y"])], "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])], [weights, bias])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.save(model, os.fspath(path))
    return path


class Booby:
    """Unpickling this runs a command: the kind of file hpcfair must refuse to load."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def save_malicious_pickle(path: Path, marker: Path) -> Path:
    path.write_bytes(pickle.dumps(Booby(marker)))
    return path


def save_malicious_torch(path: Path, marker: Path) -> Path:
    import torch

    torch.save({"weights": Booby(marker)}, str(path))
    return path
