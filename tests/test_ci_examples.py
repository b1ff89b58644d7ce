"""docs/ci.md's pipelines, run: the same commands in both, and they work in a fresh clone against a real
WebDAV server whose password comes from the environment, as a CI secret would."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hpcfair_vcs import api

from . import model_zoo
from .remote_fixtures import RemoteSpec, new_repo, servers  # noqa: F401 - a fixture

pytestmark = pytest.mark.frameworks
ROOT = Path(__file__).resolve().parents[1]


def pipelines() -> tuple[list[dict], list[str]]:
    """(the GitHub workflow's run steps, the GitLab job's script) from docs/ci.md."""
    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / "docs" / "ci.md").read_text(), re.DOTALL)
    github, gitlab = yaml.safe_load(blocks[0]), yaml.safe_load(blocks[1])
    steps = [step for step in github["jobs"]["verify"]["steps"] if "run" in step]
    return steps, gitlab["verify-models"]["script"]


def test_both_pipelines_run_the_same_commands():
    steps, script = pipelines()
    assert [step["run"] for step in steps] == script
    secrets = {value for step in steps for value in step.get("env", {}).values()}
    assert secrets == {"${{ secrets.HPCFAIR_REMOTE_PASSWORD }}"}


def git(cwd: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org"}
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def test_the_pipeline_steps_work_in_a_fresh_clone_with_the_password_from_a_secret(tmp_path, servers):  # noqa: F811
    pytest.importorskip("skl2onnx")
    import numpy as np

    dav = servers.get("webdav")
    a = new_repo(tmp_path / "project")
    (a / "models").mkdir()
    (a / "data").mkdir()
    model_zoo.save_skops(model_zoo.pipeline(), a / "models" / "classifier.skops")
    np.save(a / "data" / "sample.npy", model_zoo.digits()[0][:5].astype(np.float32))
    api.add([os.fspath(a / "models" / "classifier.skops"), os.fspath(a / "data" / "sample.npy")], repo=a,
            convert=True)
    spec = RemoteSpec("webdav", dav, tmp_path, unique="ci-" + tmp_path.name[-20:].replace("_", "-"))
    api.remote_add("origin", spec.url, spec.options, repo=a, default=True)
    api.push(repo=a)
    git(a, "init", "-q", "-b", "main")
    git(a, "add", "-A")
    git(a, "commit", "-q", "-m", "models")
    clone = tmp_path / "ci-checkout"
    git(tmp_path, "clone", "-q", os.fspath(a), os.fspath(clone))
    assert dav.password not in (clone / ".hpcfair" / "config.yaml").read_text()
    assert not (clone / ".hpcfair" / "config.local.yaml").exists(), subprocess.run(["git", "ls-files"], cwd=a, capture_output=True, text=True).stdout

    steps, _ = pipelines()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "HPCFAIR_REMOTE_PASSWORD": dav.password}
    printed = ""
    for step in steps:
        if step["run"].startswith("pip install"):
            continue  # installed already: the test runs this checkout's hpcfair
        done = subprocess.run(["bash", "-c", step["run"]], cwd=clone, env=env, capture_output=True, text=True)
        printed += done.stdout + done.stderr
        assert done.returncode == 0, (step["run"], done.stdout, done.stderr)
    assert (clone / "models" / "classifier.skops").read_bytes() == (a / "models" / "classifier.skops").read_bytes()
    assert "verified" in printed and "ok" in printed and "label" in printed
    assert dav.password not in printed
    shutil.rmtree(clone)
