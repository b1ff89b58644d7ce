"""YAML task configs: every task through `hpcfair run` and HPCFair, and every kind of config mistake."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hpcfair_vcs import HPCFair
from hpcfair_vcs.errors import PathNotFoundError, TaskConfigError
from .conftest import run_hpcfair, write
from .model_repo import repo, template  # noqa: F401 - fixtures

pytestmark = pytest.mark.frameworks


def config(path: Path, text: str) -> Path:
    return write(path, text.lstrip("\n"))


def test_every_task_runs_from_a_yaml_file(repo, tmp_path, monkeypatch):
    import numpy as np

    monkeypatch.setenv("HPCFAIR_AUTO_CONVERT", "1")
    np.save(tmp_path / "x.npy", np.zeros((3, 1, 8, 8), np.float32))
    model_dir = repo / "more"
    write(model_dir / "lin.onnx", b"")
    from . import model_zoo

    model_zoo.save_onnx(model_dir / "lin.onnx")
    configs = {
        "store": """
general: {task: store, description: a linear model}
task:
  path: more/lin.onnx
  tags: [demo]
  license: MIT
""",
        "search": f"""
general: {{task: search}}
task: {{query: lin, kind: model}}
output: {{path: {tmp_path}/hits.json}}
""",
        "convert": f"""
general: {{task: convert}}
task:
  artifact: enc
  framework: torch
  input: {{name: x, shape: [N, 1, 8, 8], dtype: float32}}
  opset: 18
output: {{path: {tmp_path}/enc.onnx}}
""",
        "infer": f"""
general: {{task: infer}}
device: {{type: cpu, threads: 1}}
task: {{artifact: enc, input: {tmp_path}/x.npy, batch_size: 2}}
output: {{path: {tmp_path}/codes.npz}}
""",
        "collaborate": f"""
general: {{task: collaborate}}
device: {{type: cpu}}
task:
  first: enc
  second: dec
  map: {{"8": z}}
  name: autoencoder
  input: {tmp_path}/x.npy
output: {{path: {tmp_path}/images.npy}}
""",
        "optimize": """
general: {task: optimize}
task: {artifact: autoencoder, quantize: dynamic-int8}
""",
        "load_model": """
general: {task: load_model}
task: {artifact: autoencoder-int8}
""",
        "load_dataset": """
general: {task: load_dataset}
task: {artifact: digits}
""",
    }
    outputs = {}
    for task, text in configs.items():
        proc = run_hpcfair("run", os.fspath(config(tmp_path / f"{task}.yaml", text)), "--json", cwd=repo)
        outputs[task] = json.loads(proc.stdout)
    assert outputs["store"]["items"][0]["conversion"]["status"] == "validated"
    assert [h["artifact"] for h in json.loads((tmp_path / "hits.json").read_text())["versions"]] == ["lin"]
    assert outputs["convert"]["artifact"] == "enc.onnx" and (tmp_path / "enc.onnx").exists()
    assert np.load(tmp_path / "codes.npz")["8"].shape == (3, 16)
    assert outputs["collaborate"]["composed"]["artifact"] == "autoencoder"
    assert np.load(tmp_path / "images.npy").shape == (3, 64)
    assert outputs["optimize"]["artifact"] == "autoencoder-int8"
    assert outputs["load_model"]["signature"]["inputs"][0]["name"] == "x"
    assert outputs["load_dataset"]["shape"] == [20, 64]


def test_hpcfair_class_takes_files_and_dicts(repo, tmp_path):
    import numpy as np

    api = HPCFair(repo)
    converted = api.convert({"task": {"artifact": "dec"}})
    assert converted.artifact == "dec.onnx" and converted.cached
    collaboration = api.collaborate({"task": {"first": "enc", "second": "dec", "map": ["8:z"], "name": "ae"}})
    assert collaboration.composed.artifact == "ae" and collaboration.inference is None
    model = api.load_model({"task": {"artifact": "ae"}})
    assert model.run(np.zeros((2, 1, 8, 8), np.float32))["pixels"].shape == (2, 64)
    assert api.load_dataset({"task": {"artifact": "digits"}}).shape == (20, 64)
    path = config(tmp_path / "infer.yaml", "general: {task: infer}\ntask: {artifact: ae, input: digits}\n")
    with pytest.raises(TaskConfigError, match="is 'infer' but this call runs 'convert'"):
        api.convert(path)
    with pytest.raises(Exception, match="input 'x' has shape \\[20, 64\\]"):  # digits are [N, 64]
        api.infer(path)


@pytest.mark.parametrize("text, message", [
    ("general: {task: convert}\ntask:\n  artifact: enc\n  opsett: 17\n",
     r"bad\.yaml:4: task\.opsett: unknown key \(did you mean 'opset'\?\)"),
    ("general: {task: convert}\ntask:\n  artifact: enc\n  opset: eighteen\n",
     r"bad\.yaml:4: task\.opset: must be integer, not 'eighteen'"),
    ("general: {task: infer}\ntask:\n  artifact: enc\n", r"bad\.yaml:2: task\.input: missing"),
    ("general: {task: train}\n", r"bad\.yaml:1: general\.task: must be store\|search"),
    ("genral: {task: convert}\n", r"bad\.yaml:1: genral: unknown group \(did you mean 'general'\?\)"),
    ("task: {artifact: enc}\n", r"general\.task: missing"),
    ("general: {task: convert}\ntask:\n  artifact: enc\n   opset: 3\n", r"bad\.yaml:4: not valid YAML"),
    ("general: {task: convert}\ntask:\n  artifact: enc\n  artifact: dec\n", r"bad\.yaml:4: task\.artifact: duplicate key"),
    ("general: {task: convert}\ndevice: {type: tpu}\ntask: {artifact: enc}\n", r"bad\.yaml:2: device\.type: must be cpu\|cuda\|auto"),
    ("general: {task: convert}\ntask: {artifact: enc, input: {name: x, shape: N}}\n", r"task\.input: must be an input spec"),
    ("- just\n- a list\n", r"a task config is a mapping"),
])
def test_config_mistakes_name_file_line_and_key(repo, tmp_path, text, message):
    path = config(tmp_path / "bad.yaml", text)
    with pytest.raises(TaskConfigError, match=message):
        HPCFair(repo).run(path)
    proc = run_hpcfair("run", os.fspath(path), cwd=repo, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1  # one line


def test_a_failing_task_writes_nothing_to_its_output(repo, tmp_path):
    import numpy as np

    np.save(tmp_path / "wrong.npy", np.zeros((2, 3), np.float32))
    path = config(tmp_path / "infer.yaml", f"general: {{task: infer}}\ntask: {{artifact: enc, input: {tmp_path}/wrong.npy}}\n"
                                           f"output: {{path: {tmp_path}/out.npz}}\n")
    proc = run_hpcfair("run", os.fspath(path), cwd=repo, check=False)
    assert proc.returncode == 1 and "the model takes [N,1,8,8]" in proc.stderr
    assert not (tmp_path / "out.npz").exists()
    with pytest.raises(PathNotFoundError):
        HPCFair(repo).run(tmp_path / "missing.yaml")
