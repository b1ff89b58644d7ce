"""What hpcfair_vcs/adapters/ relies on in other libraries' internals, pinned to the installed versions.

A failure here names the adapter to re-check after an upgrade; the behaviour itself is tested
end to end elsewhere (tests/test_infer.py, tests/test_remotes.py).
"""

from __future__ import annotations

import importlib.metadata
from functools import cached_property

import pytest


@pytest.mark.frameworks
def test_onnxruntime_binding_is_the_one_the_public_run_calls(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    import numpy as np

    from hpcfair_vcs.adapters import onnxruntime as adapter

    from . import model_zoo

    assert ort.__version__.startswith(adapter.TESTED_WITH), \
        f"onnxruntime {ort.__version__}: re-check hpcfair_vcs/adapters/onnxruntime.py, then TESTED_WITH"
    session = ort.InferenceSession(str(model_zoo.save_onnx(tmp_path / "m.onnx")), providers=["CPUExecutionProvider"])
    run, provider_failure = adapter.binding_run(session)
    assert run is not session.run and issubclass(provider_failure, Exception)
    assert provider_failure is not adapter.NeverRaised  # the binding module is there
    feeds = {"x": np.ones((2, 4), np.float32)}
    np.testing.assert_array_equal(run(["y"], feeds, None)[0], session.run(["y"], feeds)[0])


@pytest.mark.servers  # the dvc-ssh plugin comes with the servers' extras
def test_dvc_ssh_builds_its_sshfs_filesystem_from_fs_args_in_a_cached_fs_property():
    from dvc_ssh import SSHFileSystem as DvcSSH
    from dvc_ssh.spec import SSHFileSystem as SFTP

    from hpcfair_vcs.adapters import dvc_ssh as adapter

    for package, prefix in adapter.TESTED_WITH.items():
        version = importlib.metadata.version(package)
        assert version.startswith(prefix), f"{package} {version}: re-check hpcfair_vcs/adapters/dvc_ssh.py"
    base_fs = DvcSSH.__dict__["fs"]  # a cached property (funcy's) that the subclass overrides
    assert hasattr(base_fs, "__get__") and not callable(getattr(DvcSSH, "fs", None))
    assert all(callable(getattr(SFTP, name, None)) for name in ("_put_file", "_mv", "execute"))
    checked = adapter.ssh_filesystem_class("/nonexistent/known_hosts", {})
    assert isinstance(checked.__dict__["fs"], cached_property)
    fs = checked(host="127.0.0.1", port=1, user="nobody")  # sshfs connects only when fs.fs is first used
    assert isinstance(fs, DvcSSH) and fs.fs_args["host"] == "127.0.0.1" and fs.fs_args["port"] == 1


@pytest.mark.frameworks
def test_skl2onnx_still_passes_a_bool_for_histgradientboosting_leaves_and_the_wrapper_fixes_it():
    skl2onnx = pytest.importorskip("skl2onnx")
    import inspect

    from skl2onnx import convert_sklearn
    from skl2onnx.common import tree_ensemble
    from skl2onnx.common.data_types import FloatTensorType

    from hpcfair_vcs.adapters import skl2onnx as adapter

    from . import model_zoo

    assert skl2onnx.__version__.startswith(adapter.TESTED_WITH), \
        f"skl2onnx {skl2onnx.__version__}: re-check hpcfair_vcs/adapters/skl2onnx.py, then TESTED_WITH"
    assert "nodes_missing_value_tracks_true" in inspect.signature(tree_ensemble.add_node).parameters
    model = model_zoo.sklearn_zoo("hist_gradient_boosting")
    types = [("X", FloatTensorType([None, 64]))]
    with pytest.raises(ValueError, match="Unable to create node 'TreeEnsembleRegressor'") as bug:
        convert_sklearn(model, initial_types=types, target_opset={"": 18, "ai.onnx.ml": 3})
    assert "Expected an int, got a boolean" in str(bug.value.__cause__ or bug.value.__context__)  # fixed: drop it
    with adapter.integer_missing_tracks():
        assert convert_sklearn(model, initial_types=types, target_opset={"": 18, "ai.onnx.ml": 3}).graph.node
    assert tree_ensemble.add_node.__name__ == "add_node" and tree_ensemble.add_node.__module__ == tree_ensemble.__name__
