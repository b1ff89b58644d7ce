"""The CLI on a real (pseudo-)terminal, as people run it: progress bars drawn, erased, and the summary left.

Every command that works long draws a bar on stderr while stderr is a terminal: add (hashing, then
the conversion's steps), push, pull (records, bytes, checkout), fetch (records), checkout (files),
convert (its steps) and infer (rows). Piped or with --json, none is drawn.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from hpcfair_vcs import api
from hpcfair_vcs.progress import Progress
from hpcfair_vcs.repo import Repo

from .conftest import make_dataset, write
from .remote_fixtures import clone_pointers, new_repo, remote_spec, servers  # noqa: F401 - fixtures
from .terminal import hpcfair

BIG = 3 << 20  # enough bytes for a bar to move


def test_add_push_fetch_pull_checkout_draw_and_clear_their_bars(tmp_path, remote_spec):
    a = new_repo(tmp_path / "a")
    write(a / "big.bin", os.urandom(BIG))
    make_dataset(a / "data", files=30, size=2000)
    run = hpcfair("add", "big.bin", "data", cwd=a)
    assert run.showed_bar("hashing"), run.describe()
    assert "added big.bin as big v1 (3.0 MiB)" in run.text and "added data as data v1" in run.text
    api.remote_add("origin", remote_spec.url, remote_spec.options, repo=a, default=True)

    run = hpcfair("push", cwd=a)
    assert run.showed_bar("push"), run.describe()
    assert "pushed 32 objects (3.1 MiB), 0 already there, 0 failed" in run.text, run.describe()

    b = new_repo(tmp_path / "b")
    clone_pointers(a, b)
    api.remote_add("origin", remote_spec.url, remote_spec.options, repo=b, default=True)
    run = hpcfair("fetch", cwd=b)
    assert run.showed_bar("fetch"), run.describe()
    assert "refs updated: big, data" in run.text

    run = hpcfair("pull", cwd=b)
    assert run.showed_bar("pull") and run.showed_bar("checkout"), run.describe()
    assert "pulled 32 objects (3.1 MiB)" in run.text and "checked out big.bin (big v1)" in run.text
    assert (b / "big.bin").read_bytes() == (a / "big.bin").read_bytes()

    shutil.rmtree(b / "data")
    run = hpcfair("checkout", cwd=b)
    assert run.showed_bar("checkout"), run.describe()
    assert "restored data (data v1, 30 written, 0 removed" in run.text
    assert "unchanged big.bin (big v1)" in run.text

    # --json on a terminal: no bar, and stdout is the JSON document alone
    run = hpcfair("push", "--json", cwd=a)
    assert not run.drew_bar("push"), run.describe()
    assert json.loads(run.raw.replace("\r\n", "\n").replace("\x1b[0m", ""))["objects_skipped"] == 32


@pytest.mark.frameworks
def test_convert_and_infer_draw_and_clear_their_bars(tmp_path):
    import numpy as np

    from . import model_zoo

    a = new_repo(tmp_path / "a")
    model_zoo.save_torch_export(a / "enc.pt2")
    np.save(a / "x.npy", np.random.default_rng(0).random((3000, *model_zoo.IMAGE), dtype=np.float32))
    env = {"HPCFAIR_AUTO_CONVERT": "1"}
    run = hpcfair("add", "enc.pt2", "--no-convert", cwd=a, env=env)
    assert run.showed_bar("hashing") and not run.drew_bar("convert")

    run = hpcfair("convert", "enc", cwd=a, env=env)
    for step in ("loading the model", "exporting to ONNX", "checking parity", "storing the ONNX form"):
        assert run.drew_bar(f"convert enc@1: {step}"), (step, run.describe())
    assert run.bar_cleared("convert"), run.describe()
    assert "enc@1 -> enc.onnx v1" in run.text and "parity: max abs" in run.text

    run = hpcfair("infer", "enc", "--input", "x.npy", "--output", "codes.npz", "--batch-size", "500", cwd=a)
    assert run.showed_bar("infer"), run.describe()
    assert "ran enc" in run.text and "3000 rows" in run.text and "wrote linear to" in run.text
    assert np.load(a / "codes.npz")["linear"].shape == (3000, model_zoo.LATENT)

    # add of a new model converts it: the hashing bar, then the conversion's steps
    model_zoo.save_torchscript(a / "scripted.pt")
    run = hpcfair("add", "scripted.pt", "--input", "x:N,1,8,8:float32", cwd=a, env=env)
    assert run.showed_bar("hashing") and run.drew_bar("convert scripted@1: exporting to ONNX"), run.describe()
    assert run.bar_cleared("convert") and "ONNX: scripted.onnx v1" in run.text, run.describe()


class Recorder(Progress):
    """Keeps every phase and what it added up to."""

    def __init__(self) -> None:
        self.phases: list[list] = []  # [label, total, unit, done]

    def start(self, label: str, total: int | None = None, unit: str = "B") -> None:
        self.phases.append([label, total, unit, 0])

    def advance(self, count: int = 1) -> None:
        self.phases[-1][3] += count

    def done(self, label: str) -> int:
        return sum(phase[3] for phase in self.phases if phase[0] == label)


def test_progress_counts_every_byte_file_and_record_moved(tmp_path, remote_spec):
    a = new_repo(tmp_path / "a")
    write(a / "big.bin", os.urandom(BIG))
    make_dataset(a / "data", files=30, size=2000)
    added = Recorder()
    api.add(["big.bin", "data"], repo=a, progress=added)
    assert added.phases == [["hashing", BIG + 60000, "B", BIG + 60000]]
    api.remote_add("origin", remote_spec.url, remote_spec.options, repo=a, default=True)
    pushed = Recorder()
    result = api.push(repo=a, progress=pushed)
    assert pushed.done("push") == result.bytes_transferred == BIG + 60000 + len(_tree(a, "data"))

    b = new_repo(tmp_path / "b")
    clone_pointers(a, b)
    api.remote_add("origin", remote_spec.url, remote_spec.options, repo=b, default=True)
    pulled = Recorder()
    result = api.pull(repo=b, progress=pulled)
    assert pulled.done("fetch") == result.records_transferred > 0
    assert pulled.done("pull") == result.bytes_transferred == BIG + 60000 + len(_tree(a, "data"))
    assert pulled.done("checkout") == 31


def _tree(root: Path, name: str) -> bytes:
    with Repo(root) as r:
        return r.store.read_bytes(api.show(name, repo=root).oid)
