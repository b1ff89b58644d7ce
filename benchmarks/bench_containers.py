"""Podman (issue 17): inference in the runtime image against the host, side by side in one run.

A model the size of the example encoder (784 -> 128 -> 16, ONNX written with onnx's helpers) runs on
1,000 rows, alternating, best and median of N:

- `podman run --rm IMAGE true` with hpcfair's flags: what a container costs before anything runs in it;
- `hpcfair infer` (the command) on the host and with `--container`: the per-call overhead (target < 0.3 s);
- the same through the Python API in one process (no interpreter start-up on the host side);
- image build: cold (an empty cache: debootstrap, wheel downloads, podman build) once, then with cached inputs;
- the image's size (target < 300 MB).

Needs root, podman, runc and debootstrap (tests/run.sh installs them). `--quick`: 3 repeats, no cold build.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, os.fspath(ROOT))

import numpy as np  # noqa: E402

from hpcfair_vcs import api  # noqa: E402
from hpcfair_vcs.container.podman import ContainerSpec, find_podman, run_argv  # noqa: E402


def encoder_like(path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    init = [numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32) * 0.05, name)
            for name, shape in (("W1", (784, 128)), ("B1", (128,)), ("W2", (128, 16)), ("B2", (16,)))]
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "W1", "B1"], ["h"]), helper.make_node("Relu", ["h"], ["r"]),
         helper.make_node("Gemm", ["r", "W2", "B2"], ["z"])], "encoder",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 784])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", 16])], init)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 10
    onnx.save(model, path)


def timed_command(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def summary(times: list[float]) -> dict[str, float]:
    return {"best": round(min(times), 3), "median": round(statistics.median(times), 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    repeats = 3 if args.quick else args.repeats
    results: dict[str, object] = {"rows": 1000, "repeats": repeats}
    cache = Path(os.environ.setdefault("HPCFAIR_CACHE_DIR", os.fspath(ROOT / ".cache" / "hpcfair-bench")))

    if not args.quick:  # cold: nothing cached
        with tempfile.TemporaryDirectory(prefix="hpcfair-cold-") as cold:
            os.environ["HPCFAIR_CACHE_DIR"] = cold
            start = time.perf_counter()
            cold_image = api.image_build().image
            results["build_cold_s"] = round(time.perf_counter() - start, 1)
            results["build_cold_image_id"] = cold_image.id  # equal to image_id when the cached inputs are current
            os.environ["HPCFAIR_CACHE_DIR"] = os.fspath(cache)
    builds = []
    for _ in range(1 if args.quick else 3):
        start = time.perf_counter()
        image = api.image_build().image
        builds.append(time.perf_counter() - start)
    results["build_cached_s"] = summary(builds)
    results["image_id"] = image.id
    results["image_mb"] = round(image.size / 1e6, 1)

    with tempfile.TemporaryDirectory(prefix="hpcfair-bench-containers-") as tmp:
        work = Path(tmp)
        encoder_like(work / "encoder.onnx")
        np.save(work / "x.npy", np.random.default_rng(1).standard_normal((1000, 784)).astype(np.float32))
        hpcfair = [sys.executable, "-m", "hpcfair_vcs"]
        subprocess.run([*hpcfair, "init"], cwd=work, check=True, capture_output=True)
        subprocess.run([*hpcfair, "add", "encoder.onnx", "x.npy"], cwd=work, check=True, capture_output=True)
        podman = find_podman({"podman": "podman", "containers_conf": "hpcfair"})
        def bare() -> float:  # a new container name each run
            return timed_command(run_argv(podman, ContainerSpec(image=image.id, command=["true"])), work, podman.env)

        cases = {
            "podman run (hpcfair's flags), true": bare,
            "hpcfair infer (host)": lambda: timed_command([*hpcfair, "infer", "encoder", "--input", "x.npy",
                                                            "-o", "host.npz"], work),
            "hpcfair infer --container": lambda: timed_command([*hpcfair, "infer", "encoder", "--input", "x.npy",
                                                                 "-o", "container.npz", "--container"], work),
            "api.infer (host)": lambda: _api(work, False),
            "api.infer (container)": lambda: _api(work, True),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for name, case in cases.items():  # warm-up
            case()
        for _ in range(repeats):
            for name, case in cases.items():
                times[name].append(case())
        results["per_call_s"] = {name: summary(t) for name, t in times.items()}
        assert (work / "host.npz").read_bytes() == (work / "container.npz").read_bytes()
        results["overhead_s"] = {
            "command": round(statistics.median(times["hpcfair infer --container"])
                             - statistics.median(times["hpcfair infer (host)"]), 3),
            "api": round(statistics.median(times["api.infer (container)"])
                         - statistics.median(times["api.infer (host)"]), 3),
        }
    out = ROOT / "benchmarks" / "results" / ("containers-quick.json" if args.quick else "containers.json")
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


def _api(work: Path, container: bool) -> float:
    start = time.perf_counter()
    api.infer("encoder", input=work / "x.npy", repo=work, container=container)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
