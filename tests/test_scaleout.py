"""infer --scheduler: a dataset's chunks on a real Dask cluster (local processes, a real one-node Slurm).

Each test builds a small ONNX MLP (onnx.helper) and a dataset of shards in
every format, and checks the scaled-out output byte for byte against a single
process and against onnxruntime run by hand.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hpcfair_vcs import api
from hpcfair_vcs.errors import ChunkFailedError, ConfigError, TaskConfigError, UsageError
from hpcfair_vcs.progress import Progress
from hpcfair_vcs.repo import Repo
from hpcfair_vcs.storage.records import ProvenanceRecord, VersionRecord

from .conftest import run_hpcfair
from .remote_fixtures import new_repo, remote_spec, servers  # noqa: F401 - fixtures

try:
    import numpy as np
except ImportError:  # the minimum-versions run has no numpy, and leaves these tests out (marker scaleout)
    np = None

pytestmark = pytest.mark.scaleout

FEATURES = 16


def save_mlp(path: Path, hidden: int = 64, outputs: int = 8, deep: int = 0) -> Path:
    """y = tanh(x @ W1 + b1) [@ H_i, tanh]*deep @ W2, dynamic batch."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weights = [numpy_helper.from_array((rng.standard_normal((FEATURES, hidden)) / 4).astype(np.float32), "W1"),
               numpy_helper.from_array(rng.standard_normal(hidden).astype(np.float32), "b1"),
               numpy_helper.from_array((rng.standard_normal((hidden, outputs)) / 8).astype(np.float32), "W2")]
    nodes = [helper.make_node("MatMul", ["x", "W1"], ["h"]), helper.make_node("Add", ["h", "b1"], ["hb"]),
             helper.make_node("Tanh", ["hb"], ["t0"])]
    for i in range(deep):
        weights.append(numpy_helper.from_array((rng.standard_normal((hidden, hidden)) / hidden ** 0.5)
                                               .astype(np.float32), f"H{i}"))
        nodes += [helper.make_node("MatMul", [f"t{i}", f"H{i}"], [f"m{i}"]),
                  helper.make_node("Tanh", [f"m{i}"], [f"t{i + 1}"])]
    nodes.append(helper.make_node("MatMul", [f"t{deep}", "W2"], ["y"]))
    graph = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", FEATURES])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", outputs])], weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, os.fspath(path))
    return path


def write_shards(folder: Path, seed: int = 1) -> dict[str, np.ndarray]:
    """A dataset folder with a shard of each format; returns each shard's rows as float32, by file name."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    rows = {"a.npy": rng.standard_normal((2500, FEATURES)).astype(np.float32),
            "b/c.npy": rng.standard_normal((900, FEATURES)).astype(np.float32),
            "d.npz": rng.standard_normal((300, FEATURES)).astype(np.float32),
            "e.csv": rng.standard_normal((40, FEATURES)),
            "f.parquet": rng.standard_normal((200, FEATURES))}
    (folder / "b").mkdir()
    np.save(folder / "a.npy", rows["a.npy"])
    np.save(folder / "b" / "c.npy", rows["b/c.npy"])
    np.savez(folder / "d.npz", x=rows["d.npz"])
    np.savetxt(folder / "e.csv", rows["e.csv"], delimiter=",", header=",".join(f"f{i}" for i in range(FEATURES)),
               comments="", fmt="%.17g")
    pq.write_table(pa.table({f"f{i}": rows["f.parquet"][:, i] for i in range(FEATURES)}), folder / "f.parquet")
    return rows


def by_hand(model: Path, shards: dict[str, np.ndarray], batch: int) -> np.ndarray:
    """onnxruntime run by hand: each shard in path order, *batch* rows per call."""
    import onnxruntime as ort

    session = ort.InferenceSession(os.fspath(model), providers=["CPUExecutionProvider"])
    pieces = []
    for name in sorted(shards):
        data = shards[name].astype(np.float32)
        for start in range(0, len(data), batch):
            pieces.append(session.run(None, {"x": data[start:start + batch]})[0])
    return np.concatenate(pieces)


@pytest.fixture
def scaled(tmp_path, monkeypatch) -> tuple[Path, dict[str, np.ndarray]]:
    """A repository with model ``mlp`` and dataset ``survey`` (a folder of shards), as the current folder."""
    for module in ("numpy", "onnx", "onnxruntime", "distributed", "dask_jobqueue", "pyarrow", "psutil"):
        pytest.importorskip(module)
    root = new_repo(tmp_path / "repo")
    save_mlp(root / "models" / "mlp.onnx")
    shards = write_shards(root / "data" / "survey")
    api.add(["models/mlp.onnx"], repo=root)
    api.add(["data/survey"], repo=root, kind="dataset", name="survey")
    monkeypatch.chdir(root)
    return root, shards


def provenance_of(root: Path, artifact: str) -> ProvenanceRecord:
    with Repo(root) as r:
        head = r.refs.find(artifact).head
        return r.records.get(r.records.get(head, VersionRecord).provenance, ProvenanceRecord)


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in (root / ".hpcfair" / "tmp").iterdir()) + sorted(
        p.name for p in (root / "data").iterdir() if p.name.startswith(".hpcfair-tmp"))


def test_a_local_cluster_writes_the_bytes_of_a_single_process_and_records_how(scaled):
    root, shards = scaled
    single = api.infer("mlp", input="survey", output=root / "single.npy", batch_size=256)
    result = api.infer("mlp", input="survey", output=root / "data" / "codes.npy", batch_size=256,
                       scheduler="local:2", chunk_rows=500, add_as="codes")
    expected = by_hand(root / "models" / "mlp.onnx", shards, 256)
    assert (root / "data" / "codes.npy").read_bytes() == (root / "single.npy").read_bytes()
    assert np.array_equal(np.load(root / "single.npy"), expected)
    assert single.rows == result.rows == 3940
    # 2500 and 900 rows in chunks of 512 (500 rounded up to whole batches): 5 + 2; one each for the other three
    assert (result.scale.scheduler, result.scale.workers, result.scale.chunks, result.scale.chunk_rows,
            result.scale.shards) == ("local:2", 2, 10, 512, 5)
    provenance = provenance_of(root, "codes")
    assert provenance.activity == "infer" and provenance.generated_by["engine"] == "dask"
    assert {k: provenance.parameters[k] for k in ("scheduler", "workers", "chunks", "chunk_rows")} == {
        "scheduler": "local:2", "workers": 2, "chunks": 10, "chunk_rows": 512}
    model, survey = api.show("mlp"), api.show("survey")
    assert [f"hpcfair:{v}" for v in provenance.derived_from] == [model.pid, survey.pid]
    assert result.added.artifact == "codes" and leftovers(root) == []


def test_every_output_format_matches_a_single_process(scaled):
    root, _ = scaled
    for suffix in (".npz", ".csv", ".json"):
        api.infer("mlp", input="survey", output=root / f"single{suffix}")
        api.infer("mlp", input="survey", output=root / "data" / f"out{suffix}", scheduler="local:2",
                  chunk_rows=1024, add_as=f"out-{suffix[1:]}")
        assert (root / "data" / f"out{suffix}").read_bytes() == (root / f"single{suffix}").read_bytes(), suffix


def test_one_large_npy_dataset_is_cut_into_chunks_and_matches_the_memory_mapped_run(scaled):
    root, _ = scaled
    big = np.random.default_rng(3).standard_normal((20_000, FEATURES)).astype(np.float32)
    np.save(root / "data" / "big.npy", big)
    api.add(["data/big.npy"], repo=root, kind="dataset")
    api.infer("mlp", input="big", output=root / "single.npy")  # ort_runtime.run over the memory map
    result = api.infer("mlp", input="big", output=root / "data" / "big-out.npy", scheduler="local:2",
                       chunk_rows=3000)
    assert result.scale.chunks == 7 and result.scale.chunk_rows == 3072  # 20000 rows: 6 whole chunks and a rest
    assert (root / "data" / "big-out.npy").read_bytes() == (root / "single.npy").read_bytes()
    assert result.added.artifact == "big-out"  # named after the output file without --add


class KillAWorker(Progress):
    """Once the first chunk is in, SIGKILLs a worker process (a child of this one: the nannies run in here)."""

    def __init__(self) -> None:
        self.killed: int | None = None

    def advance(self, count: int = 1) -> None:
        import psutil

        if self.killed is None:
            workers = [p for p in psutil.Process().children() if "spawn_main" in " ".join(p.cmdline())]
            assert workers, "no worker process found"
            self.killed = workers[0].pid
            os.kill(self.killed, signal.SIGKILL)


def slow_model(root: Path) -> str:
    """A model slow enough (tens of ms a chunk) that a worker killed after the first chunk is mid-chunk."""
    save_mlp(root / "models" / "deep.onnx", hidden=512, deep=2)
    api.add(["models/deep.onnx"], repo=root)
    return "deep"


def test_a_killed_worker_has_its_chunks_run_again_and_the_output_is_identical(scaled):
    root, _ = scaled
    big = np.random.default_rng(4).standard_normal((40_000, FEATURES)).astype(np.float32)
    np.save(root / "data" / "big.npy", big)
    api.add(["data/big.npy"], repo=root, kind="dataset")
    model = slow_model(root)
    api.infer(model, input="big", output=root / "single.npy")
    killer = KillAWorker()
    api.infer(model, input="big", output=root / "data" / "out.npy", scheduler="local:2", chunk_rows=1024,
              progress=killer)
    import psutil

    assert killer.killed is not None and not psutil.pid_exists(killer.killed)
    assert (root / "data" / "out.npy").read_bytes() == (root / "single.npy").read_bytes()


def test_workers_that_keep_dying_fail_the_chunk_and_store_nothing(scaled):
    import dask

    root, _ = scaled
    np.save(root / "data" / "big.npy", np.zeros((40_000, FEATURES), np.float32))
    api.add(["data/big.npy"], repo=root, kind="dataset")
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):  # the first death is final
        with pytest.raises(ChunkFailedError, match=r"chunk \d+ \(big.npy rows \d+-\d+\): every worker that ran it "
                                                   r"died"):
            api.infer(slow_model(root), input="big", output=root / "data" / "out.npy", scheduler="local:2",
                      chunk_rows=1024, progress=KillAWorker())
    assert not (root / "data" / "out.npy").exists() and leftovers(root) == []
    with Repo(root) as r:
        assert r.refs.find("out") is None


def test_a_bad_shard_fails_its_chunk_by_name_with_the_worker_error_and_stores_nothing(scaled, cli):
    root, _ = scaled
    np.save(root / "data" / "survey" / "z.npy", np.ones((10, FEATURES + 1), np.float32))  # a feature too many
    api.add(["data/survey"], repo=root)
    with pytest.raises(ChunkFailedError) as caught:
        api.infer("mlp", input="survey", output=root / "data" / "out.npy", scheduler="local:2")
    message = str(caught.value)
    assert message.startswith("chunk 5 (z.npy rows 0-9): input 'x' has shape [10, 17], the model takes [N,16] "
                              "(on worker tls://127.0.0.1:")
    assert message.endswith("; nothing was stored") and "hpcfair show MODEL" in caught.value.hint
    assert not (root / "data" / "out.npy").exists() and leftovers(root) == []
    # the same, from the command line: one line, exit 1; and without a scheduler, the same chunk is named
    done = run_hpcfair("infer", "mlp", "--input", "survey", "-o", "data/out.npy", "--scheduler", "local:1",
                       cwd=root, check=False)
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "z.npy rows 0-9" in done.stderr
    with pytest.raises(ChunkFailedError, match=r"chunk 5 \(z.npy rows 0-9\): input 'x' has shape"):
        api.infer("mlp", input="survey", output=root / "single.npy")


def test_a_pickle_in_a_shard_is_refused_before_anything_runs(scaled):
    root, _ = scaled
    marker = root / "ran"
    np.save(root / "data" / "survey" / "evil.npy", np.array([os.system, str(marker)], dtype=object),
            allow_pickle=True)
    api.add(["data/survey"], repo=root)
    with pytest.raises(Exception, match="evil.npy: .*Python objects"):
        api.infer("mlp", input="survey", output=root / "data" / "out.npy", scheduler="local:1")
    assert not marker.exists()


def test_ctrl_c_cancels_the_chunks_closes_the_cluster_and_leaves_nothing(scaled):
    import psutil

    root, _ = scaled
    np.save(root / "data" / "big.npy", np.zeros((3_000_000, FEATURES), np.float32))
    api.add(["data/big.npy"], repo=root, kind="dataset")
    proc = subprocess.Popen([sys.executable, "-m", "hpcfair_vcs", "infer", "mlp", "--input", "big", "-o",
                             "data/out.npy", "--scheduler", "local:2", "--chunk-rows", "2048"], cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not [p for p in (root / "data").iterdir() if p.name.startswith(".hpcfair-tmp")]:  # chunks are coming in
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    children = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130 and stderr.strip() == "hpcfair: aborted", stderr
    assert not (root / "data" / "out.npy").exists() and leftovers(root) == []
    with Repo(root) as r:
        assert r.refs.find("out") is None
    psutil.wait_procs(children, timeout=30)
    assert [c.pid for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE] == []


@pytest.mark.parametrize("remote_spec", ["local", "ssh", "webdav", "s3"], indirect=True)
def test_workers_read_from_a_remote_and_refuse_its_corrupt_objects(scaled, remote_spec):
    root, _ = scaled
    api.remote_add("origin", remote_spec.url, remote_spec.options, repo=root, default=True)
    api.push(repo=root)
    api.infer("mlp", input="survey", output=root / "single.npy")
    result = api.infer("mlp", input="survey", output=root / "data" / "out.npy", scheduler="local:2",
                       remote="origin", chunk_rows=1024)
    assert (root / "data" / "out.npy").read_bytes() == (root / "single.npy").read_bytes()
    assert result.scale.chunks == 7
    # the remote now serves other bytes for the 2500-row shard: the workers refuse them, nothing is stored
    with Repo(root) as r:
        oid = r.store.read_tree(api.show("survey").oid)["a.npy"]
    (target,) = [p for p in remote_spec.objects_on_disk() if p.parent.name + p.name == oid]
    with open(target, "wb") as out:  # as many bytes, other values
        np.save(out, np.zeros((2500, FEATURES), np.float32))
    with pytest.raises(ChunkFailedError, match=rf"a.npy rows .*object {oid[:12]} is not the recorded data"):
        api.infer("mlp", input="survey", output=root / "data" / "out2.npy", scheduler="local:2", remote="origin")
    assert not (root / "data" / "out2.npy").exists() and leftovers(root) == []
    done = run_hpcfair("infer", "mlp", "--input", "survey", "-o", "data/out2.npy", "--scheduler", "local:1",
                       "--remote", "origin", "--json", cwd=root, check=False)
    assert done.returncode == 1 and json.loads(done.stdout)["error"] == "ChunkFailedError"
    secrets = [v for k, v in remote_spec.options.items() if k in ("password", "secret_access_key")]
    assert secrets or remote_spec.kind in ("local", "ssh")  # ssh logs in with a key file
    assert not [s for s in secrets if s in done.stdout + done.stderr]


def test_usage_errors_say_what_goes_with_what(scaled, cli):
    root, _ = scaled
    cases = [(["--scheduler", "mars"], "not a scheduler"),
             (["--workers", "2"], "go with --scheduler"),
             (["--scheduler", "local", "--container"], "do not go together")]
    for extra, text in cases:
        done = run_hpcfair("infer", "mlp", "--input", "survey", "-o", "data/o.npy", *extra, cwd=root, check=False)
        assert done.returncode == 2 and text in done.stderr, (extra, done.stderr)
    with pytest.raises(UsageError, match="give --output"):
        api.infer("mlp", input="survey", scheduler="local")
    with pytest.raises(UsageError, match="is outside the repository, so it cannot be stored"):
        api.infer("mlp", input="survey", output=root.parent / "o.npy", scheduler="local:1")
    assert not (root.parent / "o.npy").exists()


def test_a_dead_scheduler_address_is_exit_4_naming_it(scaled):
    root, _ = scaled
    from remotes.servers import free_port

    address = f"tcp://127.0.0.1:{free_port()}"
    done = run_hpcfair("infer", "mlp", "--input", "survey", "-o", "data/o.npy", "--scheduler", address,
                       "--json", cwd=root, check=False)
    doc = json.loads(done.stdout)
    assert done.returncode == 4 and doc["error"] == "SchedulerError" and address in doc["message"]


def test_a_task_config_runs_on_dask_and_a_file_may_not_name_an_address(scaled, tmp_path):
    root, _ = scaled
    api.infer("mlp", input="survey", output=root / "single.npy")
    config = tmp_path / "infer.yaml"
    config.write_text("general: {task: infer}\n"
                      "device: {type: dask, scheduler: local, workers: 2, chunk_rows: 700}\n"
                      "task: {artifact: mlp, input: survey, add: codes}\n"
                      f"output: {{path: {root / 'data' / 'codes.npy'}}}\n")
    result = api.run_task(config)
    assert result.scale.workers == 2 and result.scale.chunk_rows == 1024 and result.added.artifact == "codes"
    assert (root / "data" / "codes.npy").read_bytes() == (root / "single.npy").read_bytes()
    config.write_text(config.read_text().replace("scheduler: local", "scheduler: 'tcp://203.0.113.9:8786'"))
    with pytest.raises(TaskConfigError, match="device.scheduler names a Dask scheduler at an address"):
        api.run_task(config)


def test_batch_script_values_come_only_from_strict_settings(scaled):
    root, _ = scaled
    from hpcfair_vcs.scaleout.cluster import job_script

    settings = {"queue": "debug", "account": "proj42", "walltime": "02:00:00", "cores": 4, "memory": "8GB"}
    pbs = job_script("pbs", settings, root / ".hpcfair" / "tmp" / "pbs")
    assert "#PBS -q debug" in pbs and "#PBS -A proj42" in pbs and "#PBS -l walltime=02:00:00" in pbs
    assert "select=1:ncpus=4:mem=8GB" in pbs and "--tls-ca-file" in pbs
    slurm = job_script("slurm", settings, root / ".hpcfair" / "tmp" / "slurm")
    assert "#SBATCH -p debug" in slurm and "#SBATCH -A proj42" in slurm and "#SBATCH --cpus-per-task=4" in slurm
    for key, value in [("queue", "debug\n#SBATCH --uid=0"), ("account", "a; rm -rf ~"), ("walltime", "1h $(id)"),
                       ("memory", "4GB\n"), ("host", "0.0.0.0 --evil")]:
        (root / ".hpcfair" / "config.yaml").write_text(f"scheduler:\n  {key}: {json.dumps(value)}\n")
        with pytest.raises(ConfigError, match=f"scheduler.{key}"):
            api.infer("mlp", input="survey", output=root / "data" / "o.npy", scheduler="slurm")


@pytest.fixture(scope="session")
def slurm(tmp_path_factory):
    from . import slurm as slurm_mod

    missing = slurm_mod.missing()
    if missing:
        pytest.skip(f"Slurm needs {', '.join(missing)} (bash tests/run.sh installs slurm-wlm and munge)")
    if os.geteuid() != 0:
        pytest.skip("a one-node Slurm here needs root (slurmd)")
    cluster = slurm_mod.SlurmCluster(tmp_path_factory.mktemp("slurm")).start()
    yield cluster
    cluster.stop()


def test_slurm_runs_the_chunks_as_batch_jobs_on_a_real_cluster(scaled, slurm):
    root, _ = scaled
    (root / ".hpcfair" / "config.yaml").write_text(
        "scheduler:\n  queue: debug\n  memory: 1GB\n  walltime: '00:10:00'\n  host: 127.0.0.1\n  wait: 120\n")
    api.infer("mlp", input="survey", output=root / "single.npy")
    done = run_hpcfair("infer", "mlp", "--input", "survey", "-o", "data/codes.npy", "--scheduler", "slurm:2",
                       "--chunk-rows", "1024", "--json", cwd=root, env=slurm.env)
    doc = json.loads(done.stdout)
    assert doc["scale"]["scheduler"] == "slurm:2" and doc["scale"]["workers"] >= 1
    assert (root / "data" / "codes.npy").read_bytes() == (root / "single.npy").read_bytes()
    assert provenance_of(root, "codes").parameters["scheduler"] == "slurm:2"
    queue = subprocess.run(["squeue", "-h"], capture_output=True, text=True, env={**os.environ, **slurm.env})
    assert queue.stdout.strip() == ""  # the jobs were cancelled with the cluster
    assert leftovers(root) == []


def test_a_slurm_that_does_not_answer_is_exit_4_with_its_words(scaled, slurm, tmp_path):
    root, _ = scaled
    from remotes.servers import free_port

    dead = tmp_path / "dead.conf"
    dead.write_text(slurm.conf.read_text().replace("SlurmctldPort=", f"SlurmctldPort={free_port()}\n#"))
    done = run_hpcfair("infer", "mlp", "--input", "survey", "-o", "data/o.npy", "--scheduler", "slurm", cwd=root,
                       env={"SLURM_CONF": os.fspath(dead)}, check=False)
    assert done.returncode == 4 and "sinfo -h failed" in done.stderr, done.stderr
    assert not (root / "data" / "o.npy").exists()


def test_infer_without_a_scheduler_runs_a_folder_shard_by_shard(scaled):
    root, shards = scaled
    result = api.infer("mlp", input="survey", batch_size=128)
    assert np.array_equal(result.arrays["y"], by_hand(root / "models" / "mlp.onnx", shards, 128))
    result = api.infer("mlp", input=root / "data" / "survey", output=root / "o.npz")  # a folder path works too
    assert result.rows == 3940
    shutil.copy(root / "data" / "survey" / "f.parquet", root / "data" / "table.parquet")  # one .parquet dataset
    api.add(["data/table.parquet"], repo=root, kind="dataset")
    result = api.infer("mlp", input="table")
    assert np.array_equal(result.arrays["y"], by_hand(root / "models" / "mlp.onnx", {"f": shards["f.parquet"]}, 1024))
    with pytest.raises(UsageError, match="not a stored dataset"):
        api.infer("mlp", input=root / "data" / "survey", output=root / "data" / "o.npy", add_as="o")


def test_on_a_terminal_a_bar_counts_rows_with_their_rate_and_the_chunks(scaled):
    from .terminal import hpcfair

    root, _ = scaled
    run = hpcfair("infer", "mlp", "--input", "survey", "-o", "data/codes.npy", "--scheduler", "local:2",
                  "--chunk-rows", "1024", cwd=root)
    assert run.showed_bar("infer on 2 workers"), run.describe()
    assert re.search(r"infer on 2 workers: +\d+%.*\d+/3940 \[[\d:]+<[\d:]+, +[\d.]+k?row/s, chunk \d+/7\]",
                     run.raw), run.describe()  # rows, ETA, rate and chunks
    assert "on local:2: 2 workers, 7 chunks of up to 1024 rows from 5 files" in run.text
    assert "distributed" not in run.raw and "WARNING" not in run.raw  # Dask's own log lines stay off the terminal


def test_a_running_cluster_is_reached_at_its_address(scaled):
    from remotes.servers import free_port, wait_for_port

    root, _ = scaled
    port = free_port()
    bin_dir = Path(sys.executable).parent
    log = root.parent / "dask.log"
    with open(log, "ab") as out:
        scheduler = subprocess.Popen([bin_dir / "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                      "--no-dashboard"], stdout=out, stderr=subprocess.STDOUT)
        worker = subprocess.Popen([bin_dir / "dask", "worker", f"tcp://127.0.0.1:{port}", "--nworkers", "2",
                                   "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"],
                                  stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, scheduler, log)
        api.infer("mlp", input="survey", output=root / "single.npy")
        result = api.infer("mlp", input="survey", output=root / "data" / "codes.npy",
                           scheduler=f"tcp://127.0.0.1:{port}", chunk_rows=1024)
        assert result.scale.scheduler == f"tcp://127.0.0.1:{port}" and result.scale.workers >= 1
        assert (root / "data" / "codes.npy").read_bytes() == (root / "single.npy").read_bytes()
        with pytest.raises(UsageError, match="has the workers it has"):
            api.infer("mlp", input="survey", output=root / "data" / "o.npy", scheduler=f"tcp://127.0.0.1:{port}",
                      workers=4)
    finally:
        for proc in (worker, scheduler):
            proc.terminate()
            proc.wait(timeout=30)
