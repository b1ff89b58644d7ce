"""The README's quick start, walked command by command on a pseudo-terminal, as a new user types it.

The commands are read from README.md, not copied here, so the README cannot drift from what the
CLI does. Every line must exit 0 without a traceback. What a line cannot say by itself comes from
this file, and only from it:

- the user's files (``models/encoder.pt``, ``models/decoder.keras``, ``data/``), made on the spot;
- what a comment-only line means (``# ... retrain, then``): NARRATIVE maps each to an action, and a
  comment this file does not know fails the test, so new prose gets a meaning or a rewrite;
- the example SSH host and PID, replaced by a real sshd on loopback and a real PID. The user's
  key is ``~/.ssh/id_ed25519`` in an isolated HOME, as the README says;
- what some comments claim, checked in CLAIMS.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from hpcfair_vcs import api

from .remote_fixtures import servers  # noqa: F401 - fixture
from .terminal import HPCFAIR, TerminalRun, run_in_terminal

pytestmark = pytest.mark.frameworks

README = Path(__file__).resolve().parents[1] / "README.md"
EXAMPLE_URL = "ssh://me@cluster/project/hpcfair"
EXAMPLE_PID = "hpcfair:5f0c1a2b3c4d"


@dataclass
class Block:
    language: str
    lines: list[str]  # logical lines: continuations joined, blanks dropped


def quick_start_blocks() -> list[Block]:
    """The fenced blocks of the README's "Quick start" section, in order."""
    text = README.read_text()
    section = re.search(r"^## Quick start\n(.*?)(?=^## )", text, re.S | re.M)
    assert section, "README.md has no '## Quick start' section"
    blocks = []
    for language, body in re.findall(r"^```(\w+)\n(.*?)^```", section.group(1), re.S | re.M):
        joined = re.sub(r"\\\n\s*", "", body)
        blocks.append(Block(language, [line for line in joined.splitlines() if line.strip()]))
    return blocks


def command_and_comment(line: str) -> tuple[str, str]:
    """``hpcfair status   # modified ...`` -> (``hpcfair status``, ``modified ...``); quotes respected."""
    quoted = None
    for i, char in enumerate(line):
        if char in "\"'" and quoted in (None, char):
            quoted = None if quoted else char
        elif char == "#" and quoted is None and (i == 0 or line[i - 1].isspace()):
            return line[:i].strip(), line[i + 1:].strip()
    return line.strip(), ""


# --- the user's world ------------------------------------------------------------------

def save_encoder(path: Path, seed: int) -> None:
    """A TorchScript encoder: a 1x28x28 image -> 16 numbers (its output is unnamed: '--output-name z')."""
    import torch

    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(28 * 28, 16)).eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.jit.save(torch.jit.script(model), str(path))


def save_decoder(path: Path) -> None:
    """A Keras decoder whose input is called z: 16 numbers -> 784 pixels."""
    from hpcfair_vcs.convert.tensorflow import quiet_tensorflow

    quiet_tensorflow()
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((16,), name="z")
    keras.Model(inputs, keras.layers.Dense(28 * 28, activation="sigmoid")(inputs)).save(str(path))


def make_science_repo(root: Path) -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    subprocess.run(["git", "init", "-q", os.fspath(root)], check=True)
    save_encoder(root / "models" / "encoder.pt", seed=0)
    save_decoder(root / "models" / "decoder.keras")
    (root / "data" / "digits").mkdir(parents=True)
    for part in range(3):
        np.save(root / "data" / "digits" / f"part{part}.npy", rng.random((20, 1, 28, 28), dtype=np.float32))
    np.save(root / "data" / "test-images.npy", rng.random((12, 1, 28, 28), dtype=np.float32))


class Walk:
    """The state of the walk: where the user is, and what replaces the README's examples."""

    def __init__(self, tmp: Path, home: Path, ssh) -> None:
        self.tmp, self.home, self.ssh = tmp, home, ssh
        self.cwd = tmp
        self.mine = tmp / "my-science-repo"
        self.colleague = tmp / "colleague"
        self.env = {"PATH": f"{Path(HPCFAIR).parent}{os.pathsep}{os.environ['PATH']}", "HOME": os.fspath(home)}
        ssh_dir = home / ".ssh"
        ssh_dir.mkdir(mode=0o700, exist_ok=True)
        shutil.copy(ssh.client_key, ssh_dir / "id_ed25519")
        (ssh_dir / "id_ed25519").chmod(0o600)
        shutil.copy(ssh.known_hosts, ssh_dir / "known_hosts")
        self.runs: list[TerminalRun] = []

    def substitute(self, command: str) -> str:
        real_url = self.ssh.remote_url.replace("ssh://", f"ssh://{self.ssh.user}@") + "/project/hpcfair"
        command = command.replace(EXAMPLE_URL, real_url)
        if EXAMPLE_PID in command:
            command = command.replace(EXAMPLE_PID, api.show("encoder@2", repo=self.mine).pid[:20])
        return command

    def run(self, command: str) -> TerminalRun:
        run = run_in_terminal(["bash", "-c", self.substitute(command)], self.cwd, self.env)
        self.runs.append(run)
        assert run.exit_code == 0 and "Traceback" not in run.raw, run.describe()
        return run

    # narrative actions
    def install(self) -> None:
        found = shutil.which("hpcfair", path=self.env["PATH"])
        assert found and Path(found).samefile(HPCFAIR), "the test runs the hpcfair that pip installed"

    def retrain(self) -> None:
        save_encoder(self.mine / "models" / "encoder.pt", seed=1)

    def git_clone(self) -> None:
        subprocess.run(["git", "clone", "-q", os.fspath(self.mine), os.fspath(self.colleague)], check=True)
        self.cwd = self.colleague


NARRATIVE: dict[str, Callable[[Walk], None]] = {
    "... retrain, then": Walk.retrain,
    "a colleague, after `git clone`:": Walk.git_clone,
}


def _status_claim(walk: Walk, run: TerminalRun, comment: str) -> None:
    assert " ".join(comment.split()) in [" ".join(line.split()) for line in run.screen], run.describe()


def _added_v2(walk: Walk, run: TerminalRun, comment: str) -> None:
    assert "as encoder v2" in run.text and "ONNX: encoder.onnx v2" in run.text, run.describe()


def _back_to_v1(walk: Walk, run: TerminalRun, comment: str) -> None:
    stored = api.show("encoder@1", repo=walk.mine).oid
    assert stored == hashlib.sha256((walk.mine / "models" / "encoder.pt").read_bytes()).hexdigest()


def _colleague_has_the_data(walk: Walk, run: TerminalRun, comment: str) -> None:
    for relpath in ("models/encoder.pt", "models/decoder.keras", "data/test-images.npy", "data/digits/part2.npy"):
        assert (walk.colleague / relpath).read_bytes() == (walk.mine / relpath).read_bytes(), relpath


def _onnx_forms_pulled(walk: Walk, run: TerminalRun, comment: str) -> None:
    assert (walk.cwd / "models" / "encoder.onnx").is_file() and (walk.cwd / "models" / "decoder.onnx").is_file(), \
        run.describe()


def _composed(walk: Walk, run: TerminalRun, comment: str) -> None:
    assert "autoencoder" in run.text and api.show("autoencoder", repo=walk.cwd).provenance["activity"] == "compose"


CLAIMS: dict[str, Callable[[Walk, TerminalRun, str], None]] = {
    "hpcfair status": _status_claim,
    "hpcfair add models/encoder.pt": _added_v2,
    "hpcfair checkout encoder@1": _back_to_v1,
    "hpcfair pull": _colleague_has_the_data,
    "hpcfair pull encoder decoder --only onnx": _onnx_forms_pulled,
    "hpcfair compose encoder decoder --map z:z --name autoencoder": _composed,
}
SETUP = {"pip install -e .": Walk.install}


def test_the_readme_quick_start_works_as_written(tmp_path, servers, isolated_env, monkeypatch):
    pytest.importorskip("torch")
    pytest.importorskip("tf2onnx")
    monkeypatch.delenv("HPCFAIR_AUTO_CONVERT")  # the README relies on the default: convert on add
    walk = Walk(tmp_path, isolated_env, servers.get("ssh"))
    make_science_repo(walk.mine)
    blocks = quick_start_blocks()
    assert [b.language for b in blocks] == ["bash", "bash", "yaml", "python"], "the test knows these four blocks"
    config = blocks[2]
    assert any("collaborate.yaml" in line for line in blocks[1].lines)
    claimed = set()
    for block in blocks[:2]:
        if block is blocks[1]:  # the task config the second block runs, as the README shows it
            (walk.cwd / "collaborate.yaml").write_text("\n".join(config.lines) + "\n")
        for line in block.lines:
            command, comment = command_and_comment(line)
            if not command:
                assert comment in NARRATIVE, f"README line {line!r}: teach test_readme.py what it means"
                NARRATIVE[comment](walk)
            elif command in SETUP:
                SETUP[command](walk)
            elif command.startswith("cd "):
                walk.cwd = walk.tmp / command[3:].strip()
                assert walk.cwd.is_dir(), line
            else:
                run = walk.run(command)
                if command in CLAIMS:
                    CLAIMS[command](walk, run, comment)
                    claimed.add(command)
    assert claimed == set(CLAIMS), f"README lines the claims expect are gone: {set(CLAIMS) - claimed}"
    assert walk.cwd == walk.colleague
    assert (walk.cwd / "codes.npz").is_file() and (walk.cwd / "out" / "reconstructed.npy").is_file()

    walk.run(f"{sys.executable} -c {shlex.quote(chr(10).join(blocks[3].lines))}")  # the Python block
    drawn = [r for r in walk.runs if r.drew_bar("hashing") or r.drew_bar("push") or r.drew_bar("pull")]
    assert drawn, "the walk ran on a terminal: the long commands drew their bars"
