"""One conformance suite that every converter passes (built-ins and an entry-point plug-in).

Each subclass says how to build one real model file; the suite checks the
protocol's promises: a self-contained, checked ONNX file with one opset entry
per domain, a dynamic batch dimension, a signature that matches the file,
parity within the tolerance on outputs that vary with the input (a proof that is
not weak), the signature recorded and a cache hit on the second convert of a
stored model, a clear error for a truncated file, and exit 4 with the exact pip
line when the framework is missing.

The conversion zoo (docs/convert.md's table) is the classes at the end: the
architectures scientists use, built at test time with random weights.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hpcfair_vcs.convert import registry
from hpcfair_vcs.convert.base import ConvertOptions
from hpcfair_vcs.onnx_io.signature import parse_tensor
from hpcfair_vcs.errors import MissingDependencyError, ModelLoadError

from . import model_zoo

pytestmark = pytest.mark.frameworks


class ConverterConformance:
    framework = ""
    needs: tuple[str, ...] = ()
    filename = ""

    def build(self, path: Path) -> Path:
        raise NotImplementedError

    def options(self) -> ConvertOptions:
        return ConvertOptions()

    @pytest.fixture
    def model_file(self, tmp_path) -> Path:
        for module in (*self.needs, "onnx", "onnxruntime"):
            pytest.importorskip(module)
        return self.build(tmp_path / self.filename)

    def test_registry_picks_this_converter_for_the_file(self, model_file):
        assert registry.detect(model_file).name == self.framework

    def test_conversion_is_checked_self_contained_and_batch_dynamic(self, model_file, tmp_path):
        import numpy as np
        import onnx
        import onnxruntime as ort

        out = tmp_path / "out.onnx"
        result = registry.get(self.framework).convert(model_file, out, self.options())
        model = onnx.load(str(out))
        onnx.checker.check_model(model, full_check=True)
        domains = [entry.domain for entry in model.opset_import]
        assert len(domains) == len(set(domains)), "one opset entry per domain"
        assert list(tmp_path.glob("*.data")) == [], "no external data files"
        session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
        assert [i.name for i in session.get_inputs()] == [t.name for t in result.signature.inputs]
        assert [o.name for o in session.get_outputs()] == [t.name for t in result.signature.outputs]
        assert all(spec.shape[0] == "N" for spec in result.signature.inputs)
        for batch in (1, 7):
            feeds = {spec.name: np.zeros([batch if isinstance(d, str) else d for d in spec.shape], dtype=spec.dtype)
                     for spec in result.signature.inputs}
            outputs = session.run(None, feeds)
            assert outputs[0].shape[0] == batch
        if self.framework != "onnx":
            assert result.parity["max_rel"] <= 1e-4 and result.parity["inputs"] == ["seeded"]
            assert result.parity["outputs"] == len(result.signature.outputs)
            assert not result.parity["weak"], result.parity  # its outputs vary with the input

    def test_stored_model_records_its_signature_and_converts_from_the_cache_again(self, model_file, tmp_path):
        from hpcfair_vcs import api
        from hpcfair_vcs.repo import Repo

        root = tmp_path / "repo"
        root.mkdir()
        Repo.init(root).close()
        copy = root / model_file.name
        (shutil.copytree if model_file.is_dir() else shutil.copy)(model_file, copy)
        options = self.options()
        request = {"inputs": [str(t) for t in options.inputs], "model_class": options.model_class,
                   "model_args": options.model_args, "trust_pickle": options.trust_pickle,
                   "trust_types": options.trust_types}
        added = api.add([str(copy)], repo=root, convert=True, framework=self.framework, **request).items[0]
        assert added.conversion.status == ("validated" if self.framework == "onnx" else "converted"), added.conversion
        again = api.convert(added.artifact, repo=root, framework=self.framework, **request)
        shown = api.show(again.artifact, repo=root)
        assert shown.metadata["signature"]["inputs"] == again.signature.to_dict()["inputs"]
        if self.framework != "onnx":
            assert again.cached and again.pid == added.conversion.result.pid
            assert shown.provenance.results["parity"]["max_rel"] == again.parity.max_rel

    def test_truncated_file_is_a_clear_error_naming_it(self, model_file, tmp_path):
        broken = tmp_path / "broken" / model_file.name
        broken.parent.mkdir()
        if model_file.is_dir():
            shutil.copytree(model_file, broken)
            target = broken / "saved_model.pb"
        else:
            shutil.copy(model_file, broken)
            target = broken
        data = target.read_bytes()
        target.write_bytes(data[: len(data) // 3])
        with pytest.raises(ModelLoadError) as caught:
            registry.get(self.framework).convert(broken, tmp_path / "x.onnx", self.options())
        assert model_file.name in str(caught.value) and caught.value.exit_code == 1
        assert not (tmp_path / "x.onnx").exists()

    def test_missing_framework_is_exit_4_with_the_pip_line(self, model_file, tmp_path, monkeypatch):
        converter = registry.get(self.framework)
        monkeypatch.setattr(converter, "modules", ("hpcfair_no_such_module",))
        with pytest.raises(MissingDependencyError) as caught:
            converter.convert(model_file, tmp_path / "x.onnx", self.options())
        assert caught.value.exit_code == 4
        assert f"pip install 'hpcfair[{converter.extra}]'" in caught.value.hint


class TestTorchScript(ConverterConformance):
    framework, needs, filename = "torch", ("torch",), "encoder.pt"

    def build(self, path):
        return model_zoo.save_torchscript(path)

    def options(self):
        return ConvertOptions(inputs=[parse_tensor("x:N,1,8,8:float32")])


class TestTorchExport(ConverterConformance):
    framework, needs, filename = "torch", ("torch",), "encoder.pt2"

    def build(self, path):
        return model_zoo.save_torch_export(path)


class TestTorchStateDict(ConverterConformance):
    framework, needs, filename = "torch", ("torch",), "weights.pth"

    def build(self, path):
        return model_zoo.save_state_dict(path)

    def options(self):
        return ConvertOptions(inputs=[parse_tensor("x:N,1,8,8")], model_class="tests.model_zoo:Encoder",
                              model_args={"latent": 16})


class TestKeras(ConverterConformance):
    framework, needs, filename = "tensorflow", ("tensorflow", "tf2onnx"), "decoder.keras"

    def build(self, path):
        return model_zoo.save_keras(path)


class TestKerasH5(ConverterConformance):
    framework, needs, filename = "tensorflow", ("tensorflow", "tf2onnx"), "decoder.h5"

    def build(self, path):
        return model_zoo.save_keras(path)


class TestSavedModel(ConverterConformance):
    framework, needs, filename = "tensorflow", ("tensorflow", "tf2onnx"), "decoder_saved"

    def build(self, path):
        return model_zoo.save_saved_model(path)


class TestSkopsPipeline(ConverterConformance):
    framework, needs, filename = "sklearn", ("sklearn", "skl2onnx", "skops"), "pipeline.skops"

    def build(self, path):
        return model_zoo.save_skops(model_zoo.pipeline(), path)


class TestTrustedRandomForestPickle(ConverterConformance):
    framework, needs, filename = "sklearn", ("sklearn", "skl2onnx", "skops"), "forest.joblib"

    def build(self, path):
        return model_zoo.save_joblib(model_zoo.forest(), path)

    def options(self):
        return ConvertOptions(trust_pickle=True)


class TestOnnx(ConverterConformance):
    framework, needs, filename = "onnx", (), "linear.onnx"

    def build(self, path):
        return model_zoo.save_onnx(path)


class TestEntryPointPlugin(ConverterConformance):
    """A third-party converter registered through the ``hpcfair.converters`` entry-point group."""

    framework, needs, filename = "linear-npz", ("numpy",), "model.linnpz"

    @pytest.fixture(autouse=True)
    def plugin(self, monkeypatch):
        import importlib.metadata as metadata

        entry = metadata.EntryPoint(name="linear-npz", value="tests.plugin_converter:LinearNpzConverter",
                                    group=registry.ENTRY_POINT_GROUP)
        real = metadata.entry_points

        def entry_points(**kwargs):
            if kwargs.get("group") == registry.ENTRY_POINT_GROUP:
                return metadata.EntryPoints([entry])
            return real(**kwargs)

        monkeypatch.setattr(metadata, "entry_points", entry_points)
        monkeypatch.setattr(registry, "_loaded", {})
        registry.available.cache_clear()
        yield
        registry.available.cache_clear()

    def build(self, path):
        from .plugin_converter import save_linear_npz

        return save_linear_npz(path)


class TestTrustedRandomForestSkops(ConverterConformance):
    """A forest saved the safe way converts with no trust flag: its trees are scikit-learn's own state."""

    framework, needs, filename = "sklearn", ("sklearn", "skl2onnx", "skops"), "forest.skops"

    def build(self, path):
        return model_zoo.save_skops(model_zoo.forest(), path)


class TestSkopsRegressor(ConverterConformance):
    framework, needs, filename = "sklearn", ("sklearn", "skl2onnx", "skops"), "ridge.skops"

    def build(self, path):
        from sklearn.linear_model import Ridge

        X, y = model_zoo.digits()
        return model_zoo.save_skops(Ridge().fit(X, y.astype(float)), path)


# --- the conversion zoo ---------------------------------------------------------------

class KerasZoo(ConverterConformance):
    framework, needs = "tensorflow", ("tensorflow", "tf2onnx")
    kind = ""

    @property
    def filename(self):
        return f"{self.kind}.keras"

    def build(self, path):
        model_zoo.keras_zoo(self.kind).save(str(path))
        return path


class TestKerasSequentialMLP(KerasZoo):
    kind = "sequential_mlp"


class TestKerasSequentialConv1D(KerasZoo):
    kind = "sequential_conv1d"


class TestKerasLSTM(KerasZoo):
    kind = "lstm"


class TestKerasTwoInputs(KerasZoo):
    kind = "two_inputs"


class TestKerasBatchNormAttention(KerasZoo):
    kind = "batchnorm_attention"


class TorchZoo(ConverterConformance):
    framework, needs = "torch", ("torch",)
    kind, saved_as = "", "state_dict"  # or "program" (.pt2)

    @property
    def filename(self):
        return f"{self.kind}.{'pt2' if self.saved_as == 'program' else 'pt'}"

    def build(self, path):
        from . import torch_zoo

        if self.saved_as == "program":
            return torch_zoo.save_program(self.kind, path)
        return torch_zoo.save_state_dict(self.kind, path)

    def options(self):
        from . import torch_zoo

        if self.saved_as == "program":
            return ConvertOptions()
        cls, spec = torch_zoo.ZOO[self.kind]
        return ConvertOptions(inputs=[parse_tensor(spec)], model_class=f"tests.torch_zoo:{cls.__name__}")


class TestTorchResNet(TorchZoo):
    kind, saved_as = "resnet", "program"


class TestTorchLSTM(TorchZoo):
    kind, saved_as = "lstm", "program"


class TestTorchTransformerEncoder(TorchZoo):
    kind = "transformer"


class TestTorchHuggingFaceBert(TorchZoo):
    needs = ("torch", "transformers")
    kind = "bert"


class SklearnZoo(ConverterConformance):
    framework, needs = "sklearn", ("sklearn", "skl2onnx", "skops")
    kind = ""

    @property
    def filename(self):
        return f"{self.kind}.skops"

    def build(self, path):
        return model_zoo.save_skops(model_zoo.sklearn_zoo(self.kind), path)


class TestSklearnLinear(SklearnZoo):
    kind = "linear"


class TestSklearnSVM(SklearnZoo):
    kind = "svm"


class TestSklearnKNN(SklearnZoo):
    kind = "knn"


class TestSklearnRandomForest(SklearnZoo):
    kind = "random_forest"


class TestSklearnGradientBoosting(SklearnZoo):
    kind = "gradient_boosting"


class TestSklearnHistGradientBoosting(SklearnZoo):
    kind = "hist_gradient_boosting"


class TestSklearnColumnTransformer(SklearnZoo):
    kind = "column_transformer"


class TestXGBoostClassifierJson(ConverterConformance):
    framework, needs, filename = "xgboost", ("xgboost", "onnxmltools"), "booster.json"

    def build(self, path):
        return model_zoo.save_xgboost("classifier", path)


class TestXGBoostRegressorUbj(ConverterConformance):
    framework, needs, filename = "xgboost", ("xgboost", "onnxmltools"), "booster.ubj"

    def build(self, path):
        return model_zoo.save_xgboost("regressor", path)


class TestLightGBMClassifier(ConverterConformance):
    framework, needs, filename = "lightgbm", ("lightgbm", "onnxmltools"), "booster.txt"

    def build(self, path):
        return model_zoo.save_lightgbm("classifier", path)


class TestLightGBMRegressor(ConverterConformance):
    framework, needs, filename = "lightgbm", ("lightgbm", "onnxmltools"), "regressor.txt"

    def build(self, path):
        return model_zoo.save_lightgbm("regressor", path)
