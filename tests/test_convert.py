"""convert and automatic conversion on add: derived artifacts, provenance, the cache and every refusal."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hpcfair_vcs import api
from hpcfair_vcs.errors import (ConversionError, InputMismatchError, ModelLoadError, ParityError, UntrustedPickleError,
                                UsageError)
from hpcfair_vcs.storage.records import ProvenanceRecord, RuntimeRecord, VersionRecord
from hpcfair_vcs.repo import Repo

from . import model_zoo
from .conftest import run_hpcfair, write

pytestmark = pytest.mark.frameworks

torch_needed = pytest.mark.usefixtures("with_torch")
ENC_INPUT = "x:N,1,8,8:float32"


@pytest.fixture
def with_torch():
    pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")


@pytest.fixture
def with_tensorflow():
    pytest.importorskip("tensorflow")
    pytest.importorskip("tf2onnx")


@pytest.fixture
def with_sklearn():
    pytest.importorskip("skl2onnx")
    pytest.importorskip("skops")


@pytest.fixture(autouse=True)
def auto_convert(monkeypatch):
    monkeypatch.setenv("HPCFAIR_AUTO_CONVERT", "1")


def untouched(repo: Path, derived: str) -> None:
    """Nothing half-stored: no derived artifact, nothing left in tmp/, fsck clean."""
    with Repo(repo) as r:
        assert r.refs.find(derived) is None
    assert [p for p in os.listdir(repo / ".hpcfair" / "tmp")] == []
    assert api.fsck(repo=repo).exit_code == 0


@torch_needed
def test_add_converts_a_torch_model_with_provenance_runtime_and_signature(repo):
    model_zoo.save_torchscript(write(repo / "models" / "enc.pt", b""))
    result = api.add(["models/enc.pt"], repo=repo, inputs=[ENC_INPUT], params={"lr": 0.01, "epochs": 3})
    conversion = result.items[0].conversion
    assert conversion["status"] == "converted" and conversion["artifact"] == "enc.onnx", conversion
    assert conversion["parity"]["max_rel"] <= 1e-4 and not conversion["cached"]
    assert result.exit_code == 0
    with Repo(repo) as r:
        ref = r.refs.get("enc.onnx")
        assert ref.path == "models/enc.onnx"
        version = r.records.get(ref.head, VersionRecord)
        provenance = r.records.get(version.provenance, ProvenanceRecord)
        source = r.refs.get("enc")
        assert provenance.derived_from == [source.head]
        assert provenance.source_oids == [r.records.get(source.head, VersionRecord).oid]
        assert provenance.generated_by["converter"] == "torch"
        assert provenance.generated_by["packages"]["torch"].startswith("2.13.0")
        assert provenance.parameters["opset"] == 18 and provenance.parameters["inputs"] == [ENC_INPUT]
        runtime = r.records.get(provenance.runtime, RuntimeRecord)
        assert runtime.hyperparameters == {"lr": 0.01, "epochs": 3}
        assert runtime.python.startswith("CPython 3.") and runtime.hardware["cpus"] >= 1
        assert "torch" in runtime.packages and runtime.platform["system"] == "Linux"
    shown = api.show("enc.onnx", repo=repo)
    assert shown.provenance["derived_from"][0].startswith("enc@1")
    assert shown.provenance["results"]["parity"]["max_abs"] < 1e-4
    assert shown.metadata["framework"] == "onnx"
    assert shown.metadata["signature"]["inputs"] == [{"name": "x", "shape": ["N", 1, 8, 8], "dtype": "float32"}]
    source = api.show("enc", repo=repo)
    assert source.metadata["framework"] == "torch" and source.metadata["signature"]["outputs"][0]["shape"] == ["N", 16]
    assert [d["artifact"] for d in source.derived] == ["enc.onnx"]
    states = {e.artifact: e.state for e in api.status(repo=repo).entries}
    assert states == {"enc": "in sync", "enc.onnx": "derived"}
    assert not (repo / "models" / "enc.onnx").exists()
    api.checkout(["enc.onnx"], repo=repo)
    import onnx

    onnx.checker.check_model(onnx.load(os.fspath(repo / "models" / "enc.onnx")))
    assert (repo / "models" / "enc.onnx.hpcfair").exists()


@torch_needed
def test_conversion_cache_answers_without_importing_a_framework(repo):
    model_zoo.save_torchscript(write(repo / "enc.pt", b""))
    first = api.add(["enc.pt"], repo=repo, inputs=[ENC_INPUT]).items[0].conversion
    probe = ("import sys, json; from hpcfair_vcs import api; r = api.convert('enc'); "
             "print(json.dumps([r.cached, r.pid, sorted(m for m in ('torch', 'tensorflow', 'onnx', 'onnxruntime') "
             "if m in sys.modules)]))")
    proc = subprocess.run([sys.executable, "-c", probe], cwd=repo, capture_output=True, text=True,
                          env={**os.environ})
    assert proc.returncode == 0, proc.stderr
    cached, pid, imported = json.loads(proc.stdout)
    assert cached is True and pid == first["pid"] and imported == []  # --input was remembered, too
    again = api.convert("enc", repo=repo, inputs=[ENC_INPUT])
    assert again.cached and again.pid == first["pid"]
    with Repo(repo) as r:
        assert len(r.refs.get("enc.onnx").versions) == 1
    other = api.convert("enc", repo=repo, inputs=[ENC_INPUT], opset=17)  # another key: converted again
    assert not other.cached and other.oid != again.oid


@torch_needed
def test_new_source_version_gets_a_new_onnx_version(repo):
    model_zoo.save_state_dict(write(repo / "w.pth", b""), seed=0)
    options = {"inputs": [ENC_INPUT], "model_class": "tests.model_zoo:Encoder"}
    api.add(["w.pth"], repo=repo, **options)
    model_zoo.save_state_dict(repo / "w.pth", seed=1)
    added = api.add(["w.pth"], repo=repo, **options).items[0]
    assert added.version == 2 and added.conversion["version"] == 2
    assert api.show("w.onnx@2", repo=repo).provenance["derived_from"][0].startswith("w@2")


@torch_needed
def test_pickled_module_is_refused_unless_trusted(repo):
    model_zoo.save_pickled_module(write(repo / "full.pt", b""))
    with pytest.raises(UntrustedPickleError) as caught:
        api.convert("full.pt", repo=repo, inputs=[ENC_INPUT])
    assert "run any code" in caught.value.message and "state_dict" in caught.value.hint
    untouched(repo, "full.onnx")
    trusted = api.convert("full", repo=repo, inputs=[ENC_INPUT], trust_pickle=True)
    assert trusted.artifact == "full.onnx" and trusted.parity["max_rel"] <= 1e-4
    with Repo(repo) as r:
        provenance = r.records.get(r.records.get(r.refs.get("full.onnx").head, VersionRecord).provenance,
                                   ProvenanceRecord)
        assert provenance.parameters["trust_pickle"] is True


@torch_needed
def test_malicious_pickles_never_run(repo, tmp_path):
    marker = tmp_path / "pwned"
    model_zoo.save_malicious_torch(write(repo / "evil_torch.pt", b""), marker)
    model_zoo.save_malicious_pickle(write(repo / "evil.pkl", b""), marker)
    for name in ("evil_torch.pt", "evil.pkl"):
        with pytest.raises(UntrustedPickleError):
            api.convert(name, repo=repo, inputs=[ENC_INPUT], framework="torch" if name.endswith(".pt") else "sklearn")
    write(repo / "evil_torch.pt", (repo / "evil_torch.pt").read_bytes())
    result = api.add(["evil_torch.pt", "evil.pkl"], repo=repo, kind="model", inputs=[ENC_INPUT])
    assert [i.conversion["error"] for i in result.items] == ["UntrustedPickleError"] * 2
    assert result.exit_code == 1 and not marker.exists()
    assert api.show("evil", repo=repo).stored  # the bytes are kept: only loading them was refused


@torch_needed
def test_state_dict_needs_an_importable_matching_class(repo):
    model_zoo.save_state_dict(write(repo / "w.pth", b""))
    added = api.add(["w.pth"], repo=repo, inputs=[ENC_INPUT]).items[0]
    assert added.conversion["status"] == "skipped" and "--model-class" in added.conversion["hint"]
    with pytest.raises(UsageError, match="cannot import the model class nowhere:Nothing"):
        api.convert("w", repo=repo, inputs=[ENC_INPUT], model_class="nowhere:Nothing")
    with pytest.raises(ModelLoadError, match="cannot load w.pth into tests.model_zoo:Encoder"):
        api.convert("w", repo=repo, inputs=[ENC_INPUT], model_class="tests.model_zoo:Encoder",
                    model_args={"latent": 5})
    untouched(repo, "w.onnx")


@torch_needed
def test_wrong_input_shape_is_a_clear_error_and_stores_nothing(repo, tmp_path):
    model_zoo.save_state_dict(write(repo / "w.pth", b""))
    out = tmp_path / "out.onnx"
    with pytest.raises(ConversionError) as caught:
        api.convert("w.pth", repo=repo, inputs=["x:N,3,5,5:float32"], model_class="tests.model_zoo:Encoder",
                    output=out)
    assert "cannot export the PyTorch model" in caught.value.message and "--input" in caught.value.hint
    assert not out.exists()
    untouched(repo, "w.onnx")
    with pytest.raises(UsageError, match="not NAME:SHAPE:DTYPE"):
        api.convert("w", repo=repo, inputs=["x"])
    with pytest.raises(UsageError, match="unknown dtype"):
        api.convert("w", repo=repo, inputs=["x:N,1,8,8:float128"])


@torch_needed
def test_parity_failure_reports_the_numbers_and_stores_nothing(repo, tmp_path):
    model_zoo.save_torchscript(write(repo / "enc.pt", b""))
    api.add(["enc.pt"], repo=repo, convert=False)
    with pytest.raises(ParityError) as caught:
        api.convert("enc", repo=repo, inputs=[ENC_INPUT], tolerance=1e-15)
    assert caught.value.exit_code == 3
    assert "max relative difference" in caught.value.message and "1e-15" in caught.value.message
    untouched(repo, "enc.onnx")
    sample = tmp_path / "sample.npz"
    import numpy as np

    np.savez(sample, x=np.ones((2, 1, 8, 8), np.float32))
    result = api.convert("enc", repo=repo, inputs=[ENC_INPUT], sample=sample, output=tmp_path / "o" / "enc.onnx")
    assert result.parity["inputs"] == ["seeded", "sample"]
    assert Path(result.output).read_bytes() == (repo / ".hpcfair" / "files" / "sha256" / result.oid[:2]
                                                 / result.oid[2:]).read_bytes()
    with pytest.raises(ParityError):  # a stricter tolerance is checked against the cached numbers too
        api.convert("enc", repo=repo, inputs=[ENC_INPUT], sample=sample, tolerance=1e-15)


def test_keras_decoder_and_savedmodel_folder(repo, with_tensorflow):
    model_zoo.save_keras(write(repo / "models" / "dec.keras", b""))
    model_zoo.save_saved_model(repo / "models" / "dec_saved")
    result = api.add(["models/dec.keras", "models/dec_saved"], repo=repo)
    kinds = [i.kind for i in result.items]
    assert kinds == ["model", "model"]
    for item in result.items:
        assert item.conversion["status"] == "converted", item.conversion
        assert item.conversion["signature"]["inputs"][0]["shape"] == ["N", 16]
    assert api.show("dec_saved.onnx", repo=repo).path == "models/dec_saved.onnx"


def test_keras_file_that_is_truncated_names_the_file(repo, with_tensorflow):
    path = model_zoo.save_keras(write(repo / "dec.keras", b""))
    path.write_bytes(path.read_bytes()[:500])
    result = run_hpcfair("add", "dec.keras", cwd=repo, env={"HPCFAIR_AUTO_CONVERT": "1"}, check=False)
    assert result.returncode == 1
    assert "dec.keras" in result.stderr and "Traceback" not in result.stderr
    assert api.show("dec", repo=repo).stored


def test_sklearn_pipeline_forest_and_unsupported_estimator(repo, with_sklearn):
    from sklearn.isotonic import IsotonicRegression

    model_zoo.save_skops(model_zoo.pipeline(), write(repo / "pipe.skops", b""))
    model_zoo.save_joblib(model_zoo.forest(), write(repo / "forest.joblib", b""))
    model_zoo.save_skops(IsotonicRegression().fit([[1.0], [2.0], [3.0]], [1.0, 3.0, 2.0]), write(repo / "iso.skops", b""))
    result = api.add(["pipe.skops", "forest.joblib", "iso.skops"], repo=repo)
    pipe, forest, iso = (i.conversion for i in result.items)
    assert pipe["status"] == "converted"
    assert [o["name"] for o in pipe["signature"]["outputs"]] == ["label", "probabilities"]
    assert pipe["signature"]["inputs"] == [{"name": "X", "shape": ["N", 64], "dtype": "float32"}]
    assert forest["error"] == "UntrustedPickleError" and "skops" in forest["hint"]
    assert iso["status"] == "skipped" and "--input" in iso["hint"]  # it has no n_features_in_
    assert result.exit_code == 1
    with pytest.raises(ConversionError, match="skl2onnx cannot convert a IsotonicRegression"):
        api.convert("iso", repo=repo, inputs=["X:N,1:float32"])
    untouched(repo, "iso.onnx")
    trusted = api.convert("forest", repo=repo, trust_pickle=True)
    assert trusted.parity["max_rel"] <= 1e-4
    model_zoo.save_skops(model_zoo.forest(), write(repo / "forest2.skops", b""))
    assert api.convert("forest2.skops", repo=repo).parity.max_rel <= 1e-4  # its trees are trusted: no flag
    with Repo(repo) as r:
        import onnx

        model = onnx.load(r.store.path(trusted.oid))
        assert sorted(e.domain for e in model.opset_import) == ["", "ai.onnx.ml"]  # duplicates removed


def test_sklearn_state_types_are_the_installed_ones_and_pyfunc_metrics_are_not_trusted(with_sklearn):
    import importlib

    from hpcfair_vcs.convert.sklearn import SKLEARN_STATE_TYPES

    for name in SKLEARN_STATE_TYPES:  # renamed in a scikit-learn release: this fails, the list is updated
        module, _, attribute = name.rpartition(".")
        assert isinstance(getattr(importlib.import_module(module), attribute), type), name
    assert not any("PyFunc" in name for name in SKLEARN_STATE_TYPES)


def test_an_unknown_type_in_a_skops_file_is_named_and_trust_type_lets_just_it_in(repo, with_sklearn, cli):
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline

    from hpcfair_vcs.convert.base import ConvertOptions
    from hpcfair_vcs.convert.registry import get

    from .custom_estimators import Doubler

    X, y = model_zoo.digits()
    path = model_zoo.save_skops(make_pipeline(Doubler(), Ridge()).fit(X, y), write(repo / "own.skops", b""))
    with pytest.raises(UntrustedPickleError, match="tests.custom_estimators.Doubler") as refused:
        get("sklearn").load(path, ConvertOptions())
    assert "--trust-type tests.custom_estimators.Doubler" in refused.value.hint
    with pytest.raises(UntrustedPickleError):  # another type trusted: still refused
        get("sklearn").load(path, ConvertOptions(trust_types=["tests.custom_estimators.Other"]))
    loaded = get("sklearn").load(path, ConvertOptions(trust_types=["tests.custom_estimators.Doubler"]))
    assert isinstance(loaded.steps[0][1], Doubler)
    added = cli.json("add", "own.skops", code=1)["items"][0]["conversion"]
    assert added["error"] == "UntrustedPickleError" and "--trust-type" in added["hint"]
    # trusted, it loads; skl2onnx then has no converter for the user's own type: named, exit 1
    failed = cli.json("convert", "own", "--trust-type", "tests.custom_estimators.Doubler", code=1)
    assert failed["error"] == "ConversionError" and "Doubler" in failed["message"]


def test_trust_types_come_only_from_private_config(repo, with_sklearn, cli):
    (repo / ".hpcfair" / "config.yaml").write_text("convert:\n  trust_types: [os.system]\n")
    refused = cli.json("status", code=1)
    assert "convert.trust_types" in refused["message"] and "config.local.yaml" in refused["hint"]
    (repo / ".hpcfair" / "config.yaml").write_text("")
    (repo / ".hpcfair" / "config.local.yaml").write_text(
        "convert:\n  trust_types: [tests.custom_estimators.Doubler]\n")
    with Repo(repo) as r:
        assert r.config["convert"]["trust_types"] == ["tests.custom_estimators.Doubler"]
    model_zoo.save_skops(model_zoo.forest(), write(repo / "forest.skops", b""))
    converted = api.convert("forest.skops", repo=repo)  # the provenance records the trust it was given
    assert api.show(converted.artifact, repo=repo).provenance.parameters["trust_types"] == [
        "tests.custom_estimators.Doubler"]


def test_onnx_files_are_validated_and_kept_as_they_are(repo, with_sklearn):
    model_zoo.save_onnx(write(repo / "lin.onnx", b""))
    write(repo / "bad.onnx", b"\x08\x07 not protobuf")
    result = api.add(["lin.onnx", "bad.onnx"], repo=repo)
    good, bad = (i.conversion for i in result.items)
    assert good["status"] == "validated" and good["signature"]["inputs"][0]["name"] == "x"
    assert bad["status"] == "failed" and "bad.onnx is not a valid ONNX model" in bad["message"]
    with Repo(repo) as r:
        assert r.refs.names() == ["bad", "lin"]  # no derived artifacts for ONNX sources


def test_no_convert_flag_config_and_missing_framework(repo, with_sklearn, monkeypatch, cli):
    model_zoo.save_skops(model_zoo.pipeline(), write(repo / "pipe.skops", b""))
    assert api.add(["pipe.skops"], repo=repo, convert=False).items[0].conversion is None
    monkeypatch.setenv("HPCFAIR_AUTO_CONVERT", "0")
    write(repo / "pipe.skops", (repo / "pipe.skops").read_bytes() + b"")
    assert cli.json("add", "pipe.skops")["items"][0]["conversion"] is None
    monkeypatch.setenv("HPCFAIR_AUTO_CONVERT", "1")
    from hpcfair_vcs.convert import registry

    monkeypatch.setattr(registry.get("sklearn"), "modules", ("hpcfair_no_such_module",))
    item = cli.json("add", "pipe.skops", "--no-convert")["items"][0]
    assert item["conversion"] is None
    skipped = api.convert  # the explicit verb reports the missing package as exit 4
    from hpcfair_vcs.errors import MissingDependencyError

    with pytest.raises(MissingDependencyError, match="hpcfair_no_such_module"):
        skipped("pipe", repo=repo)
    write(repo / "pipe2.skops", (repo / "pipe.skops").read_bytes())
    added = cli.json("add", "pipe2.skops")["items"][0]
    assert added["conversion"]["status"] == "skipped" and "pip install 'hpcfair[sklearn]'" in added["conversion"]["hint"]


def test_datasets_are_not_converted(repo):
    write(repo / "data" / "x.csv", "a,b\n1,2\n")
    assert api.add(["data"], repo=repo).items[0].conversion is None
    with pytest.raises(UsageError, match="is a dataset"):
        api.convert("data", repo=repo)


@torch_needed
def test_convert_cli_with_a_state_dict_class_from_the_current_folder(repo, tmp_path):
    write(repo / "nets.py", model_zoo.nets_module_source())
    model_zoo.save_state_dict(write(repo / "w.pth", b""))
    proc = run_hpcfair("convert", "w.pth", "--model-class", "nets:Encoder", "--model-arg", "latent=16",
                       "--input", ENC_INPUT, "--param", "lr=0.001", "-o", os.fspath(tmp_path / "w.onnx"),
                       "--json", cwd=repo)
    doc = json.loads(proc.stdout)
    assert doc["artifact"] == "w.onnx" and doc["output"] == os.fspath(tmp_path / "w.onnx")
    assert proc.stderr == ""  # exporters' chatter is kept off the terminal
    shown = run_hpcfair("show", "w.onnx", cwd=repo).stdout
    assert "parity:" in shown and "max rel" in shown and re.search(r"hyperparams: +lr=0.001", shown)
    missing = run_hpcfair("convert", "w", "--input", ENC_INPUT, cwd=repo, check=False)
    assert missing.returncode == 2 and "--model-class" in missing.stderr and "Traceback" not in missing.stderr


def test_convert_file_outside_a_repository(tmp_path, with_sklearn):
    model = model_zoo.save_skops(model_zoo.pipeline(), tmp_path / "pipe.skops")
    result = api.convert_file(model, tmp_path / "pipe.onnx")
    assert result.artifact is None and Path(result.output).exists() and result.parity["max_rel"] <= 1e-4


@torch_needed
def test_a_sample_input_that_does_not_fit_is_a_clear_error(repo, tmp_path):
    import numpy as np

    model_zoo.save_torchscript(write(repo / "enc.pt", b""))
    api.add(["enc.pt"], repo=repo, convert=False)
    np.save(tmp_path / "flat.npy", np.zeros((2, 3), np.float32))
    with pytest.raises(InputMismatchError, match=r"the sample input: input 'x' has shape \[2, 3\]"):
        api.convert("enc", repo=repo, inputs=[ENC_INPUT], sample=tmp_path / "flat.npy")
    np.savez(tmp_path / "named.npz", y=np.zeros((2, 1, 8, 8), np.float32))
    with pytest.raises(InputMismatchError, match=r"has arrays \['y'\] but the model takes \['x'\]"):
        api.convert("enc", repo=repo, inputs=[ENC_INPUT], sample=tmp_path / "named.npz")
    untouched(repo, "enc.onnx")


@torch_needed
def test_a_retrained_model_keeps_its_inputs_output_names_and_metadata(repo):
    """`add` of a new version, with no options, converts as the last add was told (README's quick start)."""
    model_zoo.save_torchscript(write(repo / "enc.pt", b""))
    api.add(["enc.pt"], repo=repo, inputs=[ENC_INPUT], outputs=["z"], description="digits encoder", license="MIT")
    first = api.show("enc.onnx", repo=repo)
    assert [t["name"] for t in first.metadata["signature"]["outputs"]] == ["z"]
    assert first.provenance["parameters"]["outputs"] == ["z"]

    import torch  # retrain: other weights, the same architecture
    torch.jit.save(torch.jit.script(model_zoo.encoder(seed=5)), str(repo / "enc.pt"))
    added = api.add(["enc.pt"], repo=repo).items[0]
    assert added.version == 2 and added.conversion["status"] == "converted", added.conversion
    second = api.show("enc.onnx@2", repo=repo)
    assert [t["name"] for t in second.metadata["signature"]["outputs"]] == ["z"]
    source = api.show("enc@2", repo=repo).metadata
    assert source["description"] == "digits encoder" and source["license"] == "MIT"
    out = api.load_model("enc.onnx", repo=repo).run({"x": model_zoo.torch_example().numpy()})
    assert list(out) == ["z"] and out["z"].shape == (3, 16)


@torch_needed
def test_output_names_that_do_not_fit_are_usage_errors_and_store_nothing(repo, cli):
    model_zoo.save_torchscript(write(repo / "enc.pt", b""))
    api.add(["enc.pt"], repo=repo, convert=False)
    err = cli("convert", "enc", "--input", ENC_INPUT, "--output-name", "a", "--output-name", "b", code=2).stderr
    assert "2 name(s) but the model has 1 output(s)" in err and "one --output-name per output" in err
    err = cli("convert", "enc", "--input", ENC_INPUT, "--output-name", "z:1", code=2).stderr
    assert "'z:1' is not a tensor name" in err
    err = cli("convert", "enc", "--input", ENC_INPUT, "--output-name", "x", code=2).stderr
    assert "already has a tensor of that name" in err  # x is the input
    untouched(repo, "enc.onnx")


@pytest.mark.usefixtures("with_tensorflow")
def test_keras_outputs_renamed_after_the_parity_check(repo):
    """The native Keras model answers by its own output names; the check runs before the rename."""
    model_zoo.save_keras(write(repo / "decoder.keras", b""))
    added = api.add(["decoder.keras"], repo=repo, outputs=["image"]).items[0]
    assert added.conversion["status"] == "converted", added.conversion
    assert [t["name"] for t in added.conversion["signature"]["outputs"]] == ["image"]
    assert added.conversion["parity"]["max_abs"] < 1e-4


def test_a_model_whose_outputs_ignore_the_input_gets_a_weak_proof_said_everywhere(repo, with_tensorflow, cli):
    """An untrained softmax over zero weights answers 1/3 for every class whatever it is shown."""
    import keras
    import numpy as np

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, kernel_initializer="zeros"),
                              keras.layers.Softmax()])
    model.save(str(repo / "flat.keras"))
    added = cli("add", "flat.keras")
    assert "WEAK" in added.stdout and "--sample" in added.stdout
    parity = api.show("flat.onnx", repo=repo).provenance.results["parity"]
    assert parity["weak"] and parity["constant_outputs"] == [api.show("flat", repo=repo).metadata[
        "signature"]["outputs"][0]["name"]]
    assert "WEAK" in cli("show", "flat.onnx").stdout
    shown = cli.json("convert", "flat")
    assert shown["cached"] and shown["parity"]["weak"] is True
    np.save(repo / "real.npy", np.eye(4, dtype=np.float32))
    with_sample = cli.json("convert", "flat", "--sample", "real.npy", "--name", "flat-checked.onnx")
    assert with_sample["parity"]["weak"] is False and with_sample["parity"]["inputs"] == ["seeded", "sample"]


def test_a_model_that_varies_is_not_weak_even_when_one_output_is_constant():
    """A classifier's label can be the same for every random input while its probabilities move."""
    import numpy as np

    from hpcfair_vcs.convert.parity import is_constant

    assert is_constant(np.full((4, 3), 0.1)) and is_constant(np.array([2, 2, 2, 2]))
    assert not is_constant(np.array([[0.1, 0.9], [0.2, 0.8], [0.1, 0.9], [0.1, 0.9]]))
    assert not is_constant(np.ones(1)) and not is_constant(np.float32(3.0))  # nothing to compare along


@torch_needed
def test_an_operator_the_exporter_lacks_is_named_with_the_way_out(repo, cli):
    import torch

    class Decompose(torch.nn.Module):
        def forward(self, x):
            return torch.linalg.svd(x)[0]

    torch.jit.save(torch.jit.script(Decompose()), str(repo / "svd.pt"))
    failed = cli.json("convert", "svd.pt", "--input", "x:N,4,4", code=1)
    assert failed["error"] == "ConversionError" and "aten::linalg_svd" in failed["message"]
    assert ".pt2" in failed["hint"] and "torch.export" in failed["hint"]
    program = torch.export.export(Decompose(), (torch.randn(2, 4, 4),))
    torch.export.save(program, str(repo / "svd_program.pt2"))
    failed = cli.json("convert", "svd_program.pt2", code=1)
    assert "no ONNX function for the operator aten._linalg_svd" in failed["message"], failed
    untouched(repo, "svd.onnx")


def test_a_tensorflow_op_tf2onnx_cannot_map_is_named(repo, with_tensorflow, cli):
    """tf2onnx only warns and leaves the TensorFlow op in the graph; hpcfair names it and stores nothing."""
    import tensorflow as tf

    class Bessel(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")])
        def __call__(self, x):
            return {"y": tf.math.bessel_i1e(x)}

    module = Bessel()
    tf.saved_model.save(module, str(repo / "bessel"), signatures=module.__call__)
    failed = cli.json("convert", "bessel", code=1)
    assert failed["error"] == "ConversionError" and "BesselI1e" in failed["message"], failed
    untouched(repo, "bessel.onnx")


def test_xgboost_and_lightgbm_files_are_models_by_their_first_bytes(repo, cli):
    pytest.importorskip("xgboost")
    pytest.importorskip("lightgbm")
    pytest.importorskip("onnxmltools")
    model_zoo.save_xgboost("classifier", repo / "booster.json")
    model_zoo.save_lightgbm("regressor", repo / "trees.txt")
    write(repo / "table.json", '{"rows": [1, 2]}')
    write(repo / "notes.txt", "tree\nnot a model\n")
    items = {i["artifact"]: i for i in cli.json("add", "booster.json", "trees.txt", "table.json", "notes.txt")["items"]}
    assert {name: i["kind"] for name, i in items.items()} == {
        "booster": "model", "trees": "model", "table": "dataset", "notes": "dataset"}
    assert items["booster"]["conversion"]["status"] == "converted"
    assert [o["name"] for o in items["booster"]["conversion"]["signature"]["outputs"]] == ["label", "probabilities"]
    assert items["trees"]["conversion"]["parity"]["max_rel"] <= 1e-4
    assert api.show("booster.onnx", repo=repo).provenance.generated_by["converter"] == "xgboost"


def test_a_subclassed_keras_model_converts_once_its_class_is_importable(repo, with_tensorflow, cli):
    from .keras_custom import save

    save(repo / "residual.keras")
    refused = run_hpcfair("convert", "residual.keras", "--json", cwd=repo, check=False)  # a fresh process:
    assert refused.returncode == 1 and "ResidualMLP" in refused.stdout  # Keras cannot rebuild an unseen class
    project = os.fspath(Path(__file__).resolve().parents[1])  # where tests.keras_custom is importable from
    done = json.loads(run_hpcfair("convert", "residual", "--json", "--model-class", "tests.keras_custom:ResidualMLP",
                                  "--input", "x:N,8", cwd=repo, env={"PYTHONPATH": project}).stdout)
    assert done["parity"]["max_rel"] <= 1e-4 and not done["parity"]["weak"]
    assert [o["name"] for o in done["signature"]["outputs"]] == ["head"]
