"""infer, load_model, load_dataset, compose and optimize on real models from three frameworks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hpcfair_vcs import api
from hpcfair_vcs.errors import (DeviceUnavailableError, InputFileError, InputMismatchError, MappingError,
                                UsageError)
from hpcfair_vcs.storage.records import VersionRecord
from hpcfair_vcs.repo import Repo

from . import model_zoo
from .conftest import run_hpcfair, write
from .model_repo import ENC_INPUT, repo, template  # noqa: F401 - fixtures

pytestmark = pytest.mark.frameworks



def images(n: int = 6):
    import numpy as np

    return np.random.default_rng(1).standard_normal((n, 1, 8, 8)).astype(np.float32)


def test_load_model_runs_the_onnx_form_and_reuses_its_session(repo):
    import numpy as np
    import torch

    model = api.load_model("enc", repo=repo)
    assert model.name == "enc.onnx" and model.metadata["framework"] == "onnx"
    assert [t.name for t in model.signature.inputs] == ["x"]
    x = images()
    out = model.run({"x": x})
    native = torch.jit.load(str(repo / "models" / "enc.pt"))(torch.from_numpy(x)).detach().numpy()
    assert np.abs(next(iter(out.values())) - native).max() < 1e-4
    assert api.load_model("enc", repo=repo).session is model.session  # one session per process
    assert next(iter(model.run(x, batch_size=4).values())).shape == (6, 16)  # split in batches of 4


def test_the_fast_path_matches_onnxruntime_and_works_without_its_private_binding(repo):
    import numpy as np
    import onnxruntime as ort

    from hpcfair_vcs.runtime import onnx as ort_runtime

    api.compose("enc", "dec", maps=["8:z"], name="autoencoder", repo=repo)
    model = api.load_model("autoencoder", repo=repo)
    x = images(5)
    public = ort.InferenceSession(os.fspath(model.path), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    fast = model.run({"x": x})
    assert list(fast) == model.session.output_names
    assert all(np.array_equal(got, want) for got, want in zip(fast.values(), public))

    class PublicOnly:  # a release that hides the binding: the public run is used
        def __init__(self, inner):
            self.inner, self.calls = inner, 0

        def run(self, names, feeds, options=None):
            self.calls += 1
            return self.inner.run(names, feeds, options)

    wrapped = PublicOnly(model.session.inference)
    session = ort_runtime.Session(wrapped, model.session.signature, "cpu")
    assert session.fits({"x": x}, 64) and not session.fits({"x": x.astype(np.float64)}, 64)
    assert all(np.array_equal(got, want) for got, want in zip(session.run_fitting({"x": x}), public))
    assert wrapped.calls == 1


def test_infer_reads_every_input_format_and_writes_every_output_format(repo, tmp_path):
    import numpy as np

    x = model_zoo.digits()[0][:7].astype(np.float32)
    np.save(tmp_path / "in.npy", x)
    np.savez(tmp_path / "in.npz", X=x)
    np.savetxt(tmp_path / "in.csv", x, delimiter=",", header=",".join(f"p{i}" for i in range(64)), comments="")
    (tmp_path / "in.json").write_text(json.dumps({"X": x.tolist()}))
    expected = api.infer("pipe", input=tmp_path / "in.npy", repo=repo).arrays
    for source in ("in.npz", "in.csv", "in.json"):
        got = api.infer("pipe", input=tmp_path / source, repo=repo).arrays
        assert (got["label"] == expected["label"]).all() and np.allclose(got["probabilities"], expected["probabilities"])
    for suffix in (".npz", ".json", ".csv"):
        result = api.infer("pipe", input=tmp_path / "in.npy", output=tmp_path / f"out{suffix}", repo=repo)
        assert Path(result.output).exists() and result.outputs["probabilities"]["shape"] == [7, 10]
    assert json.loads((tmp_path / "out.json").read_text())["label"] == expected["label"].tolist()
    header = (tmp_path / "out.csv").read_text().splitlines()[0]
    assert header.startswith("label,probabilities_0") and header.endswith("probabilities_9")
    assert (np.load(tmp_path / "out.npz")["label"] == expected["label"]).all()
    dataset = api.infer("pipe", input="digits", repo=repo)  # a dataset artifact as input
    assert dataset.rows == 20 and dataset.input == "digits"
    with pytest.raises(UsageError, match="holds one"):
        api.infer("pipe", input=tmp_path / "in.npy", output=tmp_path / "two.npy", repo=repo)
    assert not (tmp_path / "two.npy").exists()


def test_bad_inputs_are_clear_errors_and_write_nothing(repo, tmp_path):
    import numpy as np

    out = tmp_path / "out.npz"
    np.save(tmp_path / "wrong.npy", np.zeros((3, 1, 9, 9), np.float32))
    with pytest.raises(InputMismatchError, match=r"input 'x' has shape \[3, 1, 9, 9\], the model takes \[N,1,8,8\]"):
        api.infer("enc", input=tmp_path / "wrong.npy", output=out, repo=repo)
    np.save(tmp_path / "strings.npy", np.array([["a"] * 64]))
    with pytest.raises(InputMismatchError, match="is <U1, the model takes float32"):
        api.infer("pipe", input=tmp_path / "strings.npy", output=out, repo=repo)
    np.savez(tmp_path / "named.npz", y=np.zeros((2, 64), np.float32))
    with pytest.raises(InputMismatchError, match=r"has arrays \['y'\] but the model takes \['X'\]"):
        api.infer("pipe", input=tmp_path / "named.npz", output=out, repo=repo)
    (tmp_path / "broken.npy").write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(InputFileError, match="cannot read broken.npy"):
        api.infer("pipe", input=tmp_path / "broken.npy", output=out, repo=repo)
    with pytest.raises(api_errors().ArtifactNotFoundError):
        api.infer("nope", input=tmp_path / "named.npz", repo=repo)
    assert not out.exists() and [p for p in tmp_path.iterdir() if ".hpcfair-tmp" in p.name] == []
    proc = run_hpcfair("infer", "enc", "--input", os.fspath(tmp_path / "wrong.npy"), "-o", os.fspath(out),
                       cwd=repo, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and not out.exists()


def api_errors():
    from hpcfair_vcs import errors

    return errors


def test_device_cuda_is_exit_4_and_auto_falls_back_with_a_warning(repo):
    import numpy as np

    with pytest.raises(DeviceUnavailableError) as caught:
        api.load_model("pipe", repo=repo, device="cuda")
    assert caught.value.exit_code == 4 and "onnxruntime-gpu" in caught.value.hint
    with pytest.warns(RuntimeWarning, match="running on the CPU"):
        model = api.load_model("pipe", repo=repo, device="auto")
    assert model.session.device == "cpu"
    assert model.run(np.zeros((2, 64), np.float32))["label"].shape == (2,)
    proc = run_hpcfair("infer", "pipe", "--input", "data/digits.csv", "--device", "auto", cwd=repo)
    assert "hpcfair: warning: no CUDA execution provider" in proc.stderr and "label: shape [5]" in proc.stdout


def test_a_big_npy_streams_in_bounded_memory(repo, tmp_path):
    """A 400 MB input through a memory-mapped file and a streamed .npy output: peak RSS stays far below it."""
    import numpy as np

    model = model_zoo.save_onnx(tmp_path / "lin.onnx")  # x: [N, 4] -> y: [N, 3]
    rows = 25_000_000
    big = np.lib.format.open_memmap(tmp_path / "big.npy", mode="w+", dtype=np.float32, shape=(rows, 4))
    big[:] = 1.0
    big.flush()
    del big
    # VmHWM is this process image's peak RSS (ru_maxrss would start from the forking parent's)
    code = ("from hpcfair_vcs import api; "
            f"r = api.infer({os.fspath(model)!r}, input={os.fspath(tmp_path / 'big.npy')!r}, "
            f"output={os.fspath(tmp_path / 'out.npy')!r}, batch_size=65536); "
            "peak = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]; "
            "print(r.rows, peak)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    count, peak_kib = map(int, proc.stdout.split())
    assert count == rows
    assert peak_kib < 250 * 1024, f"peak RSS {peak_kib / 1024:.0f} MiB for a 400 MB input"
    out = np.load(tmp_path / "out.npy", mmap_mode="r")
    assert out.shape == (rows, 3) and np.allclose(out[-1], out[0])


def test_load_dataset_gives_arrays_or_a_path(repo):
    import numpy as np

    arrays = api.load_dataset("digits", repo=repo)
    assert arrays.shape == (20, 64) and arrays.dtype == np.float32
    assert api.load_dataset("digits@1", repo=repo).shape == (20, 64)
    assert api.load_dataset("digits-csv", repo=repo).shape == (5, 64)  # CSV: float64 numbers
    write(repo / "notes" / "a.txt", "hello")
    api.add(["notes"], repo=repo)
    shutil.rmtree(repo / "notes")
    path = api.load_dataset("notes", repo=repo)
    assert path == repo / "notes" and (path / "a.txt").read_text() == "hello"


def test_compose_pytorch_encoder_with_keras_decoder(repo, cli):
    import numpy as np
    import torch

    result = api.compose("enc", "dec", maps=["8:z"], name="autoencoder", repo=repo)
    assert result.checks["vs_sequential"]["max_abs"] < 1e-5
    assert [t["name"] for t in result.signature["inputs"]] == ["x"]
    with Repo(repo) as r:
        import onnx

        model = onnx.load(os.fspath(r.store.path(result.oid)))
        domains = [e.domain for e in model.opset_import]
        assert len(domains) == len(set(domains))
    shown = api.show("autoencoder", repo=repo)
    assert shown.provenance["activity"] == "compose"
    assert [s.split(" ")[0] for s in shown.provenance["derived_from"]] == ["enc.onnx@1", "dec.onnx@1"]
    x = images()
    composed = api.load_model("autoencoder", repo=repo).run({"x": x})
    encoder = torch.jit.load(str(repo / "models" / "enc.pt"))
    import keras

    decoder = keras.models.load_model(str(repo / "models" / "dec.keras"), compile=False)
    native = decoder(encoder(torch.from_numpy(x)).detach().numpy()).numpy()
    assert np.abs(next(iter(composed.values())) - native).max() < 1e-4
    assert cli.json("compose", "enc", "dec", "--map", "8:z", "--name", "autoencoder")["version"] == 1  # same bytes


def test_compose_refuses_mappings_that_do_not_fit(repo):
    with pytest.raises(MappingError, match="enc.onnx has no output 'latent' \\(it has 8\\)"):
        api.compose("enc", "dec", maps=["latent:z"], name="ae", repo=repo)
    with pytest.raises(MappingError, match="pipe.onnx has no input 'z'"):
        api.compose("enc", "pipe", maps=["8:z"], name="ae", repo=repo)
    with pytest.raises(MappingError, match=r"is float32 \[N,16\] but pipe.onnx's input 'X' takes float32 \[N,64\]"):
        api.compose("enc", "pipe", maps=["8:X"], name="ae", repo=repo)
    with pytest.raises(UsageError, match="not OUT:IN"):
        api.compose("enc", "dec", maps=["8"], name="ae", repo=repo)
    with Repo(repo) as r:
        assert r.refs.find("ae") is None
        before = set(r.store.iter_oids())
    with pytest.raises(api_errors().NameConflictError, match="'pipe' belongs to an artifact that was not derived"):
        api.compose("enc", "dec", maps=["8:z"], name="pipe", repo=repo)
    with Repo(repo) as r:  # refused before anything was stored
        assert set(r.store.iter_oids()) == before and os.listdir(repo / ".hpcfair" / "tmp") == []


def test_optimize_quantizes_and_reports_size_and_difference(repo):
    result = api.optimize("dec", quantize="dynamic-int8", repo=repo)
    assert result.artifact == "dec-int8"
    assert result.checks["size_after"] < result.checks["size_before"]
    assert 0 < result.checks["vs_float"]["max_abs"] < 0.1
    fast = api.optimize("dec", graph_opt=True, repo=repo)
    assert fast.artifact == "dec-opt" and fast.checks["vs_float"]["max_abs"] < 1e-5
    assert api.show("dec-int8", repo=repo).provenance["parameters"]["quantize"] == "dynamic-int8"
    assert api.load_model("dec-int8", repo=repo).run(
        __import__("numpy").zeros((2, 16), "float32"))["pixels"].shape == (2, 64)
    with pytest.raises(UsageError, match="nothing to do"):
        api.optimize("dec", repo=repo)


def test_missing_onnxruntime_is_exit_4_with_the_pip_line(repo, monkeypatch):
    import builtins

    from hpcfair_vcs.errors import MissingDependencyError
    from hpcfair_vcs.runtime import onnx as ort_runtime

    real_import = builtins.__import__

    def without_onnxruntime(name, *args, **kwargs):
        if name.startswith("onnxruntime"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(ort_runtime, "_sessions", {})
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    monkeypatch.setattr(builtins, "__import__", without_onnxruntime)
    with pytest.raises(MissingDependencyError) as caught:
        api.load_model("pipe", repo=repo)
    assert caught.value.exit_code == 4 and caught.value.hint == "pip install 'hpcfair[onnx]'"


def test_a_model_whose_onnx_form_is_not_pulled_says_which_pull_brings_it(repo, cli):
    """A clone that pulled the sources but not the ONNX forms (README: `pull ... --only onnx`)."""
    with Repo(repo) as r:
        dec_onnx = r.records.get(r.refs.get("dec.onnx").head, VersionRecord)
        digits = api.show("digits", repo=repo).oid
        for oid in (dec_onnx.oid, digits):
            os.chmod(r.store.path(oid), 0o644)
            r.store.path(oid).unlink()
    hint = "run `hpcfair pull dec.onnx@1` to fetch it from a remote"
    commands = [["compose", "enc", "dec", "--map", "8:z", "--name", "ae"],
                ["optimize", "dec", "--quantize", "dynamic-int8"], ["infer", "dec", "--input", "data/digits.npy"]]
    for args in commands:
        err = cli(*args, code=3).stderr
        assert f"the data of dec.onnx@1 (object {dec_onnx.oid[:12]}) is not in this repository" in err, err
        assert hint in err
    with pytest.raises(api_errors().MissingObjectError, match="the data of digits@1"):
        api.load_dataset("digits", repo=repo)
    with Repo(repo) as r:
        assert r.refs.find("ae") is None and r.refs.find("dec-int8") is None
