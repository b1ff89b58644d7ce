"""Inference overhead, side by side in one run: hpcfair vs raw onnxruntime on the same model and batch.

- ``hpcfair_vcs.load_model(...).run`` vs ``onnxruntime.InferenceSession.run`` (the same session options),
  batch 1 and batch 64, median of many calls, alternating;
- ``hpcfair infer`` as a command (start-up included) vs a bare ``python -c`` that loads onnxruntime and
  runs the same file once.

Models: the test encoder (PyTorch CNN -> ONNX) and the composed encoder+decoder. Results:
benchmarks/results/infer.json and a Markdown table on stdout.
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


def alternate(calls: dict, repeats: int, block: int = 1) -> dict[str, float]:
    """Median seconds per call of each callable: blocks of *block* calls, taken in turns (order flipped
    every round) so both see the same machine state. onnxruntime's worker threads spin for a while after
    a call: a pause between blocks keeps one session's spinning threads off the other's measurement."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    order = list(calls.items())
    for i in range(repeats):
        for name, call in order if i % 2 == 0 else reversed(order):
            time.sleep(0.05)
            start = time.perf_counter()
            for _ in range(block):
                call()
            times[name].append((time.perf_counter() - start) / block)
    return {name: statistics.median(values) for name, values in times.items()}


def build(base: Path) -> Path:
    from hpcfair_vcs import api

    repo = base / "repo"
    repo.mkdir()
    api.init(repo)
    model_zoo.save_torchscript(repo / "enc.pt")
    model_zoo.save_keras(repo / "dec.keras")
    api.add(["enc.pt"], repo=repo, inputs=["x:N,1,8,8:float32"], convert=True)
    api.add(["dec.keras"], repo=repo, convert=True)
    api.compose("enc", "dec", maps=["8:z"], name="autoencoder", repo=repo)
    return repo


def bench(repo: Path, name: str, calls: int) -> dict:
    import numpy as np
    import onnxruntime as ort

    from hpcfair_vcs import api

    model = api.load_model(name, repo=repo)
    raw = ort.InferenceSession(os.fspath(model.path), providers=["CPUExecutionProvider"])
    out: dict = {}
    for batch in (1, 64):
        x = np.random.default_rng(0).standard_normal((batch, *model_zoo.IMAGE)).astype(np.float32)
        model.run({"x": x})
        raw.run(None, {"x": x})
        medians = alternate({"hpcfair": lambda: model.run({"x": x}), "raw": lambda: raw.run(None, {"x": x})},
                            calls // 250, block=250)
        out[f"b{batch}"] = {"hpcfair_ms": medians["hpcfair"] * 1000, "raw_ms": medians["raw"] * 1000,
                            "overhead": medians["hpcfair"] / medians["raw"] - 1}
    np.save(repo / "x.npy", np.zeros((64, *model_zoo.IMAGE), np.float32))
    bare = (f"import numpy as np, onnxruntime as ort; s = ort.InferenceSession({os.fspath(model.path)!r}, "
            "providers=['CPUExecutionProvider']); s.run(None, {'x': np.load('x.npy')})")
    commands = {"cli": lambda: subprocess.run([HPCFAIR, "infer", name, "--input", "x.npy"], cwd=repo, check=True,
                                              capture_output=True),
                "bare": lambda: subprocess.run([sys.executable, "-c", bare], cwd=repo, check=True,
                                               capture_output=True)}
    medians = alternate(commands, 5)
    out["cli_s"], out["bare_python_s"] = medians["cli"], medians["bare"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    calls = 1000 if args.quick else 10000
    base = Path(tempfile.mkdtemp(prefix="hpcfair-bench-infer-"))
    try:
        repo = build(base)
        results = {"calls": calls, "models": {name: bench(repo, name, calls) for name in ("enc", "autoencoder")}}
    finally:
        shutil.rmtree(base, ignore_errors=True)
    out = Path(__file__).parent / "results" / ("infer-quick.json" if args.quick else "infer.json")
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(render(results))


def render(r: dict) -> str:
    lines = ["| model | batch | `load_model().run` ms | raw onnxruntime ms | overhead | `hpcfair infer` s | "
             "bare `python -c` + onnxruntime s |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, m in r["models"].items():
        for batch in (1, 64):
            b = m[f"b{batch}"]
            cli = f"{m['cli_s']:.2f}" if batch == 64 else ""
            bare = f"{m['bare_python_s']:.2f}" if batch == 64 else ""
            lines.append(f"| {name} | {batch} | {b['hpcfair_ms']:.4f} | {b['raw_ms']:.4f} | {b['overhead']:+.1%} | "
                         f"{cli} | {bare} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
