"""A repository with real models from three frameworks, built once per session and copied per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hpcfair_vcs import api
from hpcfair_vcs.repo import Repo

from . import model_zoo
from .conftest import write

ENC_INPUT = "x:N,1,8,8:float32"


@pytest.fixture(scope="session")
def template(tmp_path_factory) -> Path:
    """A repository with a PyTorch encoder, a Keras decoder, a scikit-learn pipeline and datasets, converted."""
    for module in ("torch", "tensorflow", "tf2onnx", "skl2onnx", "skops", "onnxruntime"):
        pytest.importorskip(module)
    import numpy as np

    root = tmp_path_factory.mktemp("models") / "repo"
    root.mkdir()
    Repo.init(root).close()
    model_zoo.save_torchscript(write(root / "models" / "enc.pt", b""))
    model_zoo.save_keras(write(root / "models" / "dec.keras", b""))
    model_zoo.save_skops(model_zoo.pipeline(), write(root / "models" / "pipe.skops", b""))
    X, _ = model_zoo.digits()
    np.save(write(root / "data" / "digits.npy", b""), X[:20].astype(np.float32))
    np.savetxt(root / "data" / "digits.csv", X[:5], delimiter=",", fmt="%d")
    api.add(["models/enc.pt"], repo=root, inputs=[ENC_INPUT], convert=True)
    api.add(["models/dec.keras", "models/pipe.skops"], repo=root, convert=True)
    api.add(["data/digits.npy"], repo=root, kind="dataset", convert=False)
    api.add(["data/digits.csv"], repo=root, name="digits-csv", convert=False)
    return root


@pytest.fixture
def repo(template, tmp_path, monkeypatch) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(template, root, symlinks=True, ignore=shutil.ignore_patterns("state.db*"))  # a cache
    monkeypatch.chdir(root)
    return root
