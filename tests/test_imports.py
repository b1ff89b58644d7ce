"""The CLI stays fast: --help, --version and status import no heavy framework."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import write

HEAVY = ("torch", "tensorflow", "onnx", "onnxruntime", "onnxscript", "tf2onnx", "skl2onnx", "skops", "dvc",
         "dvc_data", "dvc_objects", "fsspec",
         "sklearn", "keras", "tqdm", "numpy", "dask", "distributed", "dask_jobqueue", "pyarrow")

PROBE = """
import sys, runpy
sys.argv = ["hpcfair", *{args!r}]
try:
    runpy.run_module("hpcfair_vcs", run_name="__main__")
except SystemExit:
    pass
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})
print("HEAVY=" + ",".join(heavy))
"""


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["status"], ["log"], ["show", "a"], ["convert", "--help"],
                                  ["add", "--help"], ["infer", "--help"], ["run", "--help"], ["compose", "--help"]])
def test_no_heavy_imports(repo, args):
    write(repo / "a.pt", b"a")
    subprocess.run([sys.executable, "-m", "hpcfair_vcs", "add", "a.pt"], cwd=repo, check=True,
                   capture_output=True)
    proc = subprocess.run([sys.executable, "-c", PROBE.format(args=args, heavy=HEAVY)], cwd=repo,
                          capture_output=True, text=True, check=True)
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("HEAVY=")][0]
    assert line == "HEAVY=", line


def test_import_package_is_light():
    code = "import hpcfair_vcs, sys; print(sorted(m for m in sys.modules if m.startswith(('click','yaml','sqlite3'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
