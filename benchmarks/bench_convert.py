"""Conversion and inference speed for the test models, side by side in one run.

For each model of tests/model_zoo.py (a PyTorch CNN encoder, a Keras dense
decoder, a scikit-learn pipeline and a random forest):

- conversion wall time: the raw exporter call (torch.onnx.export, tf2onnx,
  skl2onnx) vs hpcfair's converter (the same exporter plus tidying and the
  parity proof), in this process; and `hpcfair convert` as a command (framework
  import included), first time and again (the cache);
- inference: the native model vs onnxruntime on the converted file, batch 1
  and batch 64, median of many calls.

Then the conversion zoo (tests/test_convert_conformance.py: the Keras, PyTorch,
scikit-learn, XGBoost and LightGBM architectures docs/convert.md lists): for
each, hpcfair's conversion time (export, tidying, parity proof) and the ONNX
form's inference time against the native framework's on the same batch of 64
seeded inputs (the converter's own native run, median of many calls).

Results: benchmarks/results/convert.json and Markdown tables on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, os.fspath(ROOT))
from tests import model_zoo  # noqa: E402

HPCFAIR = os.fspath(Path(sys.executable).parent / "hpcfair")
ENC_INPUT = "x:N,1,8,8:float32"


def median_time(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def raw_export(kind: str, path: Path, out: Path) -> None:
    """The exporter alone, as a user would call it without hpcfair."""
    if kind == "torch":  # TorchScript: the TorchScript exporter, as hpcfair uses
        import torch

        model = torch.jit.load(os.fspath(path))
        torch.onnx.export(model, (model_zoo.torch_example(),), os.fspath(out), input_names=["x"],
                          dynamic_axes={"x": {0: "N"}}, opset_version=18, dynamo=False)
    elif kind == "keras":
        import keras
        import tensorflow as tf
        import tf2onnx

        model = keras.models.load_model(os.fspath(path), compile=False)
        spec = [tf.TensorSpec((None, model_zoo.LATENT), tf.float32, name="z")]
        proto, _ = tf2onnx.convert.from_keras(model, input_signature=spec, opset=18)
        out.write_bytes(proto.SerializeToString())
    else:
        import skops.io
        from skl2onnx import convert_sklearn
        from skl2onnx.common.data_types import FloatTensorType

        model = skops.io.load(path, trusted=skops.io.get_untrusted_types(file=path) or None)
        options = {id(step): {"zipmap": False} for step in [model, *[s for _, s in getattr(model, "steps", [])]]
                   if hasattr(step, "predict_proba")}
        proto = convert_sklearn(model, initial_types=[("X", FloatTensorType([None, 64]))], options=options,
                                target_opset={"": 18, "ai.onnx.ml": 3})
        out.write_bytes(proto.SerializeToString())


def native_runner(kind: str, path: Path):
    import numpy as np

    if kind == "torch":
        import torch

        model = model_zoo.encoder()

        def run(x):
            with torch.no_grad():
                return model(torch.from_numpy(x)).numpy()
        return run, lambda n: np.random.default_rng(0).standard_normal((n, *model_zoo.IMAGE)).astype(np.float32)
    if kind == "keras":
        import keras

        model = keras.models.load_model(os.fspath(path), compile=False)
        return (lambda x: model(x, training=False).numpy(),
                lambda n: np.random.default_rng(0).standard_normal((n, model_zoo.LATENT)).astype(np.float32))
    import skops.io

    model = skops.io.load(path, trusted=skops.io.get_untrusted_types(file=path) or None)
    return model.predict_proba, lambda n: np.random.default_rng(0).standard_normal((n, 64)).astype(np.float32)


def build(kind: str, folder: Path) -> tuple[Path, list[str]]:
    if kind == "torch":
        return model_zoo.save_torchscript(folder / "encoder.pt"), ["--input", ENC_INPUT]
    if kind == "keras":
        return model_zoo.save_keras(folder / "decoder.keras"), []
    if kind == "pipeline":
        return model_zoo.save_skops(model_zoo.pipeline(), folder / "pipeline.skops"), []
    return model_zoo.save_skops(model_zoo.forest(), folder / "forest.skops"), ["--trust-pickle"]  # skops: trees


def bench_model(kind: str, base: Path, repeats: int, calls: int) -> dict:
    import onnxruntime as ort

    from hpcfair_vcs import api
    from hpcfair_vcs.convert.base import ConvertOptions
    from hpcfair_vcs.convert.registry import detect
    from hpcfair_vcs.onnx_io.signature import parse_tensor

    folder = base / kind
    folder.mkdir()
    path, flags = build(kind, folder)
    family = {"pipeline": "sklearn", "forest": "sklearn"}.get(kind, kind)
    options = ConvertOptions(inputs=[parse_tensor(ENC_INPUT)] if kind == "torch" else [],
                             trust_pickle="--trust-pickle" in flags)
    converter = detect(path)
    out = folder / "model.onnx"
    raw_export(family, path, folder / "raw.onnx")  # warm up both: first calls pay for lazy imports
    converter.convert(path, out, options)
    result = {"raw_export_s": median_time(lambda: raw_export(family, path, folder / "raw.onnx"), repeats),
              "hpcfair_convert_s": median_time(lambda: converter.convert(path, out, options), repeats)}
    repo = folder / "repo"
    repo.mkdir()
    subprocess.run([HPCFAIR, "init"], cwd=repo, check=True, capture_output=True)
    shutil.copy(path, repo / path.name)
    env = {**os.environ, "HPCFAIR_AUTO_CONVERT": "0"}
    subprocess.run([HPCFAIR, "add", path.name], cwd=repo, check=True, capture_output=True, env=env)
    start = time.perf_counter()
    subprocess.run([HPCFAIR, "convert", path.stem, *flags], cwd=repo, check=True, capture_output=True)
    result["cli_convert_s"] = time.perf_counter() - start
    result["cli_convert_cached_s"] = median_time(
        lambda: subprocess.run([HPCFAIR, "convert", path.stem], cwd=repo, check=True, capture_output=True), repeats)
    assert api.convert(path.stem, repo=repo).cached
    native, make_input = native_runner(family, path)
    session = ort.InferenceSession(os.fspath(out), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    for batch in (1, 64):
        x = make_input(batch)
        native(x)
        session.run(None, {name: x})
        result[f"native_b{batch}_ms"] = median_time(lambda: native(x), calls) * 1000
        result[f"onnx_b{batch}_ms"] = median_time(lambda: session.run(None, {name: x}), calls) * 1000
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    repeats, calls = (1, 20) if args.quick else (3, 200)
    base = Path(tempfile.mkdtemp(prefix="hpcfair-bench-convert-"))
    try:
        results = {"repeats": repeats, "calls": calls,
                   "models": {kind: bench_model(kind, base, repeats, calls)
                              for kind in ("torch", "keras", "pipeline", "forest")},
                   "zoo": {name: bench_zoo_model(name, base, repeats, calls) for name in ZOO}}
    finally:
        shutil.rmtree(base, ignore_errors=True)
    out = Path(__file__).parent / "results" / ("convert-quick.json" if args.quick else "convert.json")
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(render(results))
    print()
    print(render_zoo(results))


LABELS = {"torch": "PyTorch CNN encoder (TorchScript)", "keras": "Keras dense decoder (.keras)",
          "pipeline": "scikit-learn scaler + logistic regression (.skops)",
          "forest": "scikit-learn random forest, 8 trees (.skops)"}


def render(r: dict) -> str:
    lines = ["| model | raw exporter s | hpcfair converter s | `hpcfair convert` s (cached) | "
             "native / ONNX b1 ms | native / ONNX b64 ms |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for kind, m in r["models"].items():
        lines.append(
            f"| {LABELS[kind]} | {m['raw_export_s']:.2f} | {m['hpcfair_convert_s']:.2f} | "
            f"{m['cli_convert_s']:.2f} ({m['cli_convert_cached_s']:.2f}) | "
            f"{m['native_b1_ms']:.3f} / {m['onnx_b1_ms']:.3f} ({m['native_b1_ms'] / m['onnx_b1_ms']:.1f}x) | "
            f"{m['native_b64_ms']:.3f} / {m['onnx_b64_ms']:.3f} ({m['native_b64_ms'] / m['onnx_b64_ms']:.1f}x) |")
    return "\n".join(lines)



def _zoo():
    """name -> (label, builder(folder) -> (path, ConvertOptions))."""
    from hpcfair_vcs.convert.base import ConvertOptions
    from hpcfair_vcs.onnx_io.signature import parse_tensor

    def keras(kind):
        def build(folder):
            path = folder / f"{kind}.keras"
            model_zoo.keras_zoo(kind).save(os.fspath(path))
            return path, ConvertOptions()
        return build

    def torch(kind, program):
        def build(folder):
            from tests import torch_zoo

            if program:
                return torch_zoo.save_program(kind, folder / f"{kind}.pt2"), ConvertOptions()
            cls, spec = torch_zoo.ZOO[kind]
            return (torch_zoo.save_state_dict(kind, folder / f"{kind}.pt"),
                    ConvertOptions(inputs=[parse_tensor(spec)], model_class=f"tests.torch_zoo:{cls.__name__}"))
        return build

    def sklearn(kind):
        return lambda folder: (model_zoo.save_skops(model_zoo.sklearn_zoo(kind), folder / f"{kind}.skops"),
                               ConvertOptions())

    def boosted(save, kind, suffix):
        return lambda folder: (save(kind, folder / f"{kind}{suffix}"), ConvertOptions())

    return {
        "keras_sequential_mlp": ("Keras Sequential MLP", keras("sequential_mlp")),
        "keras_sequential_conv1d": ("Keras Sequential Conv1D", keras("sequential_conv1d")),
        "keras_lstm": ("Keras Sequential LSTM", keras("lstm")),
        "keras_two_inputs": ("Keras functional, two inputs", keras("two_inputs")),
        "keras_batchnorm_attention": ("Keras BatchNorm + attention", keras("batchnorm_attention")),
        "torch_resnet": ("PyTorch ResNet-style CNN (.pt2)", torch("resnet", True)),
        "torch_lstm": ("PyTorch LSTM (.pt2)", torch("lstm", True)),
        "torch_transformer": ("PyTorch nn.TransformerEncoder (state_dict)", torch("transformer", False)),
        "torch_bert": ("Hugging Face BERT, tiny config (state_dict)", torch("bert", False)),
        "sklearn_linear": ("scikit-learn Ridge", sklearn("linear")),
        "sklearn_svm": ("scikit-learn SVC (pipeline)", sklearn("svm")),
        "sklearn_knn": ("scikit-learn kNN (KD tree)", sklearn("knn")),
        "sklearn_random_forest": ("scikit-learn random forest", sklearn("random_forest")),
        "sklearn_gradient_boosting": ("scikit-learn gradient boosting (pipeline)", sklearn("gradient_boosting")),
        "sklearn_hist_gradient_boosting": ("scikit-learn hist gradient boosting", sklearn("hist_gradient_boosting")),
        "sklearn_column_transformer": ("scikit-learn ColumnTransformer pipeline", sklearn("column_transformer")),
        "xgboost_classifier": ("XGBoost classifier (.json)", boosted(model_zoo.save_xgboost, "classifier", ".json")),
        "xgboost_regressor": ("XGBoost regressor (.ubj)", boosted(model_zoo.save_xgboost, "regressor", ".ubj")),
        "lightgbm_classifier": ("LightGBM classifier (.txt)", boosted(model_zoo.save_lightgbm, "classifier", ".txt")),
        "lightgbm_regressor": ("LightGBM regressor (.txt)", boosted(model_zoo.save_lightgbm, "regressor", ".txt")),
    }


ZOO = _zoo()
ZOO_BATCH = 64


def bench_zoo_model(name: str, base: Path, repeats: int, calls: int) -> dict:
    from hpcfair_vcs.convert.parity import seeded_inputs
    from hpcfair_vcs.convert.registry import detect
    from hpcfair_vcs.runtime.onnx import cpu_session

    folder = base / name
    folder.mkdir()
    path, options = ZOO[name][1](folder)
    converter = detect(path)
    out = folder / "model.onnx"
    times = []
    for _ in range(repeats + 1):  # the first pays for the framework's imports: left out
        start = time.perf_counter()
        conversion = converter.convert(path, out, options)
        times.append(time.perf_counter() - start)
    model = converter.load(path, options)
    session = cpu_session(out)
    names = [o.name for o in session.get_outputs()]
    feeds = seeded_inputs(conversion.signature.inputs, seed=0, batch=ZOO_BATCH)
    native = lambda: converter.run(model, feeds, names)  # noqa: E731
    onnx = lambda: session.run(names, feeds)  # noqa: E731
    native(), onnx()
    return {"convert_s": min(times[1:]), "max_rel": conversion.parity["max_rel"],
            "native_ms": median_time(native, calls) * 1000, "onnx_ms": median_time(onnx, calls) * 1000}


def render_zoo(r: dict) -> str:
    lines = [f"| model | convert s (best) | parity max rel | native ms | ONNX ms (batch {ZOO_BATCH}) | ONNX speed-up |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, m in r["zoo"].items():
        lines.append(f"| {ZOO[name][0]} | {m['convert_s']:.2f} | {m['max_rel']:.1e} | {m['native_ms']:.3f} | "
                     f"{m['onnx_ms']:.3f} | {m['native_ms'] / m['onnx_ms']:.1f}x |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
