"""The README's main job: the model-collaboration example runs end to end and its numbers agree."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.frameworks

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_encoder_decoder_example_runs_and_matches_the_native_models(tmp_path):
    for module in ("torch", "tensorflow", "tf2onnx", "onnxruntime"):
        pytest.importorskip(module)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "TMPDIR": os.fspath(tmp_path)}
    proc = subprocess.run(["bash", os.fspath(ROOT / "examples" / "encoder_decoder" / "run.sh")], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "composed ONNX vs PyTorch -> Keras:      max abs" in proc.stdout
    assert "from Python: {'pixels': (297, 64)}" in proc.stdout
    assert "optimized autoencoder-int8 v1" in proc.stdout
