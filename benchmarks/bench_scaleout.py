"""Scale-out, side by side in one run: `infer --scheduler local:N` vs one process vs a raw onnxruntime loop.

- rows/s on an MLP big enough that inference dominates (256 -> 1024 -> 1024 -> 64, float32), one
  onnxruntime thread per process everywhere: a raw loop over the memory-mapped .npy (1024 rows a
  call), `hpcfair infer` in one process, Dask with 1 and 2 workers; each Dask figure twice: the chunks
  alone (`scale.seconds`, from the first chunk submitted to the last one written) and the whole call
  (cluster start-up and storing the output included);
- the per-chunk overhead: a tiny model over many one-batch chunks, against the same rows run in one process;
- throughput against the chunk size (2 workers);
- memory: a dataset several times larger than each worker's memory limit; each worker's peak resident
  memory (the largest of this process's children, read after the cluster closed).

Repeats alternate the contenders (best and median reported: this VM's speed swings). Results:
benchmarks/results/scaleout.json and Markdown on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, os.fspath(ROOT))

FEATURES, HIDDEN, OUTPUTS = 256, 1024, 64


def save_mlp(path: Path, features: int, hidden: int, outputs: int, deep: int) -> None:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    dims = [features] + [hidden] * (deep + 1) + [outputs]
    weights, nodes, last = [], [], "x"
    for i, (a, b) in enumerate(zip(dims, dims[1:])):
        weights.append(numpy_helper.from_array((rng.standard_normal((a, b)) / a ** 0.5).astype(np.float32), f"W{i}"))
        nodes.append(helper.make_node("MatMul", [last, f"W{i}"], [f"m{i}"]))
        last = f"m{i}"
        if i < len(dims) - 2:
            nodes.append(helper.make_node("Tanh", [last], [f"t{i}"]))
            last = f"t{i}"
    graph = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", features])],
                              [helper.make_tensor_value_info(last, TensorProto.FLOAT, ["N", outputs])], weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.save(model, os.fspath(path))


def build(base: Path, rows: int) -> Path:
    import numpy as np

    from hpcfair_vcs import api

    repo = base / "repo"
    repo.mkdir()
    api.init(repo)
    (repo / "data").mkdir()
    save_mlp(repo / "mlp.onnx", FEATURES, HIDDEN, OUTPUTS, deep=1)
    save_mlp(repo / "tiny.onnx", 16, 16, 4, deep=0)
    rng = np.random.default_rng(1)
    data = np.lib.format.open_memmap(repo / "data" / "big.npy", mode="w+", dtype=np.float32, shape=(rows, FEATURES))
    for start in range(0, rows, 65536):
        data[start:start + 65536] = rng.standard_normal((min(65536, rows - start), FEATURES), dtype=np.float32)
    data.flush()
    del data
    np.save(repo / "data" / "small.npy", rng.standard_normal((1024 * 400, 16), dtype=np.float32))
    api.add(["mlp.onnx", "tiny.onnx"], repo=repo)
    api.add(["data/big.npy", "data/small.npy"], repo=repo, kind="dataset")
    return repo


def raw_loop(repo: Path, batch: int = 1024) -> float:
    import numpy as np
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(os.fspath(repo / "mlp.onnx"), options, providers=["CPUExecutionProvider"])
    data = np.load(repo / "data" / "big.npy", mmap_mode="r")
    out = np.lib.format.open_memmap(repo / "raw.npy", mode="w+", dtype=np.float32, shape=(len(data), OUTPUTS))
    start = time.perf_counter()
    for i in range(0, len(data), batch):
        out[i:i + batch] = session.run(None, {"x": np.ascontiguousarray(data[i:i + batch])})[0]
    out.flush()
    return time.perf_counter() - start


def hpcfair_single(repo: Path) -> float:
    from hpcfair_vcs import api

    start = time.perf_counter()
    api.infer("mlp", input="big", output=repo / "single.npy", threads=1, repo=repo)
    return time.perf_counter() - start


def dask(repo: Path, workers: int, model: str = "mlp", data: str = "big", chunk_rows: int = 16384) -> tuple[float, float]:
    """(seconds of the chunks alone, seconds of the whole call)."""
    from hpcfair_vcs import api

    start = time.perf_counter()
    result = api.infer(model, input=data, output=repo / "data" / f"dask-{model}-{workers}.npy", threads=1, repo=repo,
                       scheduler=f"local:{workers}", chunk_rows=chunk_rows, add_as=f"out-{model}-{workers}")
    return result.scale.seconds, time.perf_counter() - start


def stats(values: list[float]) -> dict[str, float]:
    return {"best": min(values), "median": statistics.median(values)}


def memory_probe(repo: Path, limit: str) -> None:
    """In a child process: a 2-worker run under *limit* per worker, then the largest worker's peak RSS."""
    from hpcfair_vcs import api

    (repo / ".hpcfair" / "config.yaml").write_text(f"scheduler:\n  memory: {limit}\n")
    result = api.infer("tiny", input="huge", output=repo / "data" / "huge-out.npy", threads=1, repo=repo,
                       scheduler="local:2", chunk_rows=65536, add_as="huge-out")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    print(json.dumps({"peak_worker_rss": peak, "rows": result.rows, "chunks": result.scale.chunks,
                      "seconds": result.scale.seconds}))


def memory(repo: Path, rows: int, limit: str) -> dict:
    import numpy as np

    from hpcfair_vcs import api

    huge = np.lib.format.open_memmap(repo / "data" / "huge.npy", mode="w+", dtype=np.float32, shape=(rows, 16))
    for start in range(0, rows, 1 << 20):
        huge[start:start + (1 << 20)] = 1.0
    huge.flush()
    del huge
    api.add(["data/huge.npy"], repo=repo, kind="dataset")
    done = subprocess.run([sys.executable, __file__, "--memory-probe", os.fspath(repo), limit],
                          capture_output=True, text=True, check=True)
    doc = json.loads(done.stdout.strip().splitlines()[-1])
    doc.update(dataset_bytes=(repo / "data" / "huge.npy").stat().st_size, limit=limit)
    return doc


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--memory-probe", nargs=2)
    args = parser.parse_args()
    if args.memory_probe:
        memory_probe(Path(args.memory_probe[0]), args.memory_probe[1])
        return
    rows = 40_000 if args.quick else 160_000
    repeats = 1 if args.quick else 3
    with tempfile.TemporaryDirectory(dir=ROOT / "benchmarks") as tmp:
        repo = build(Path(tmp), rows)
        times: dict[str, list[float]] = {k: [] for k in ("raw", "single", "dask1", "dask1_call", "dask2",
                                                          "dask2_call")}
        for i in range(repeats):
            order = ["raw", "single", "dask1", "dask2"]
            for name in order if i % 2 == 0 else reversed(order):
                if name == "raw":
                    times["raw"].append(raw_loop(repo))
                elif name == "single":
                    times["single"].append(hpcfair_single(repo))
                else:
                    chunks, call = dask(repo, int(name[-1]))
                    times[name].append(chunks)
                    times[f"{name}_call"].append(call)
        throughput = {k: {"best": rows / min(v), "median": rows / statistics.median(v)} for k, v in times.items()}
        # per-chunk overhead: 400 one-batch chunks of a tiny model, against one process on the same rows
        overhead = []
        for _ in range(repeats):
            chunked, _ = dask(repo, 1, model="tiny", data="small", chunk_rows=1024)
            from hpcfair_vcs import api

            start = time.perf_counter()
            api.infer("tiny", input="small", output=repo / "small-single.npy", threads=1, repo=repo)
            overhead.append((chunked - (time.perf_counter() - start)) / 400)
        sizes = {}
        for chunk_rows in (1024, 4096, 16384, 65536):
            runs = [dask(repo, 2, chunk_rows=chunk_rows)[0] for _ in range(max(1, repeats - 1))]
            sizes[chunk_rows] = {"best": rows / min(runs), "median": rows / statistics.median(runs)}
        mem = memory(repo, 4_000_000 if args.quick else 40_000_000, "400MB")
    doc = {"rows": rows, "model": f"{FEATURES}-{HIDDEN}-{HIDDEN}-{OUTPUTS} MLP", "repeats": repeats,
           "rows_per_second": throughput, "per_chunk_overhead_s": stats(overhead),
           "chunk_size_rows_per_second": sizes, "memory": mem,
           "ratios": {"dask1_vs_raw": throughput["dask1"]["median"] / throughput["raw"]["median"],
                      "dask2_vs_dask1": throughput["dask2"]["median"] / throughput["dask1"]["median"]}}
    out = ROOT / "benchmarks" / "results" / ("scaleout-quick.json" if args.quick else "scaleout.json")
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print("| contender | rows/s best | rows/s median |\n| --- | --- | --- |")
    for name, value in throughput.items():
        print(f"| {name} | {value['best']:,.0f} | {value['median']:,.0f} |")
    print(f"\nratios: {json.dumps(doc['ratios'])}\nper-chunk overhead: {json.dumps(doc['per_chunk_overhead_s'])}")
    print(f"chunk sizes: {json.dumps(sizes)}\nmemory: {json.dumps(mem)}")


if __name__ == "__main__":
    main()
