"""Git hooks: hpcfair's against `dvc install`'s on the same commits, side by side in one run.

Each case is timed as the user meets it, a whole git command with the hooks in
place, against the same command without hooks (the git baseline):

- a commit that touches no artifact (a text file changes);
- a commit that stages a model's pointer whose ONNX conversion is cached
  (hpcfair) / a .dvc file (DVC);
- a checkout of a new branch, nothing to do for the hooks.

Best and median of N runs, tools alternating. The targets (issue 15: the
pre-commit hook under 150 ms with no artifact, under 400 ms with a cached
conversion, post-checkout under 150 ms with nothing to do) are read as the
command's time minus git's own (the first column).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, os.fspath(ROOT))
from tests import model_zoo  # noqa: E402

BIN = Path(sys.executable).parent
ENV = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.org", "GIT_COMMITTER_NAME": "b",
       "GIT_COMMITTER_EMAIL": "b@example.org", "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
       "DVC_NO_ANALYTICS": "1"}


def sh(cwd: Path, *args: str) -> None:
    done = subprocess.run(args, cwd=cwd, env=ENV, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{cwd.name}: {' '.join(args)} failed: {done.stdout}{done.stderr}")


def setup(base: Path, tool: str) -> Path:
    root = base / tool
    root.mkdir()
    sh(root, "git", "init", "-q", "-b", "main")
    model_zoo.save_skops(model_zoo.pipeline(), root / "clf.skops")
    (root / "notes.md").write_text("start\n")
    if tool == "hpcfair":
        sh(root, os.fspath(BIN / "hpcfair"), "init")
        sh(root, os.fspath(BIN / "hpcfair"), "add", "clf.skops")  # converted now: later commits hit the cache
        sh(root, os.fspath(BIN / "hpcfair"), "hooks", "install")
    elif tool == "dvc":
        sh(root, os.fspath(BIN / "dvc"), "init", "-q")
        sh(root, os.fspath(BIN / "dvc"), "add", "-q", "clf.skops")
        sh(root, os.fspath(BIN / "dvc"), "install")
    sh(root, "git", "add", "-A")
    sh(root, "git", "commit", "-q", "-m", "start")
    return root


def timed(cwd: Path, *args: str) -> float:
    start = time.perf_counter()
    sh(cwd, *args)
    return time.perf_counter() - start


def commit_text(root: Path, n: int) -> float:
    (root / "notes.md").write_text(f"{n}\n")
    sh(root, "git", "add", "notes.md")
    return timed(root, "git", "commit", "-q", "-m", f"text {n}")


def commit_pointer(root: Path, n: int) -> float:
    """A commit that stages the model's pointer (or .dvc file) again, with a text change beside it."""
    (root / "notes.md").write_text(f"p{n}\n")
    pointer = {"hpcfair": "clf.skops.hpcfair", "dvc": "clf.skops.dvc"}.get(root.name)
    if pointer:
        path = root / pointer
        path.write_text(path.read_text() + ("\n" if n % 2 else ""))  # a change git sees, the same content
    sh(root, "git", "add", "-A")
    return timed(root, "git", "commit", "-q", "-m", f"pointer {n}")


def checkout_branch(root: Path, n: int) -> float:
    return timed(root, "git", "checkout", "-q", "-b", f"b{n}")


CASES = {"commit touching no artifact": commit_text, "commit staging a model pointer (cached conversion)":
         commit_pointer, "checkout -b (nothing to do)": checkout_branch}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    repeats = 3 if args.quick else 15
    base = Path(tempfile.mkdtemp(prefix="hpcfair-bench-hooks-"))
    try:
        roots = {tool: setup(base, tool) for tool in ("git", "hpcfair", "dvc")}
        results: dict[str, dict[str, list[float]]] = {case: {tool: [] for tool in roots} for case in CASES}
        for n in range(repeats):
            order = list(roots) if n % 2 == 0 else list(reversed(roots))
            for case, step in CASES.items():
                for tool in order:
                    results[case][tool].append(step(roots[tool], n))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    out = Path(__file__).parent / "results" / ("hooks-quick.json" if args.quick else "hooks.json")
    out.write_text(json.dumps(results, indent=2) + "\n")
    print("| case | git alone best (median) ms | hpcfair hooks best (median) ms | dvc hooks best (median) ms |")
    print("| --- | ---: | ---: | ---: |")
    for case, by_tool in results.items():
        cells = [f"{min(v) * 1000:.0f} ({statistics.median(v) * 1000:.0f})" for v in by_tool.values()]
        print(f"| {case} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
