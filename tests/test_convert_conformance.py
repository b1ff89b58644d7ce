"""One conformance suite that every converter passes (built-ins and an entry-point plug-in).

Each subclass says how to build one real model file; the suite checks the
protocol's promises: a self-contained, checked ONNX file with one opset entry
per domain, a dynamic batch dimension, a signature that matches the file,
parity within the tolerance, a clear error for a truncated file, and exit 4
with the exact pip line when the framework is missing.
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
        first = result.signature.inputs[0]
        assert first.shape[0] == "N"
        for batch in (1, 7):
            shape = [batch if isinstance(d, str) else d for d in first.shape]
            outputs = session.run(None, {first.name: np.zeros(shape, dtype=first.dtype)})
            assert outputs[0].shape[0] == batch
        if self.framework != "onnx":
            assert result.parity["max_rel"] <= 1e-4 and result.parity["inputs"] == ["seeded"]
            assert result.parity["outputs"] == len(result.signature.outputs)

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
        yield

    def build(self, path):
        from .plugin_converter import save_linear_npz

        return save_linear_npz(path)


class TestSkopsRegressor(ConverterConformance):
    framework, needs, filename = "sklearn", ("sklearn", "skl2onnx", "skops"), "ridge.skops"

    def build(self, path):
        from sklearn.linear_model import Ridge

        X, y = model_zoo.digits()
        return model_zoo.save_skops(Ridge().fit(X, y.astype(float)), path)
