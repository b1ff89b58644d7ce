"""hpcfair at another git revision vs this checkout, side by side in one run.

For a change that must not slow the core down (issue 12's checks: "must not slow
down status or add measurably"), the same cases as bench_core.py run alternately
with both versions on the same files: a no-op ``status`` of 10,000 tracked
files, ``add`` of a folder of 10,000 small files and ``add`` of a 1 GiB file.
Both versions run from source (``python -c`` importing the package from its
folder), so they pay the same start-up. Reports best and median wall time.

    bash benchmarks/run.sh revisions --base REV   # results: benchmarks/results/revisions.json
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

from bench_core import ENV, make_big_file, make_small_files, place, settle

ROOT = Path(__file__).resolve().parents[1]


def command(source: Path) -> list[str]:
    """The hpcfair command line run from the package in *source*."""
    code = f"import sys; sys.path.insert(0, {os.fspath(source)!r}); from hpcfair_vcs.cli import main; main()"
    return [sys.executable, "-c", code]


def export(rev: str, dest: Path) -> Path:
    """The package as it was at *rev*, unpacked into *dest*."""
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", rev, "hpcfair_vcs"], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", os.fspath(dest)], input=archive, check=True)
    return dest


def run(argv: list[str], cwd: Path) -> float:
    os.sync()
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=ENV, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def fresh(base: Path, name: str, tool: list[str]) -> Path:
    root = base / name
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    subprocess.run(tool + ["init"], cwd=root, env=ENV, check=True, capture_output=True)
    return root


def bench_add(base: Path, tools: dict[str, list[str]], source: Path, repeats: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {label: [] for label in tools}
    kept: list[Path] = []
    for repeat in range(repeats):
        for label in (list(tools) if repeat % 2 == 0 else list(tools)[::-1]):
            root = fresh(base, f"{label}-add-{repeat}", tools[label])
            place(source, root / source.name)
            times[label].append(run(tools[label] + ["add", source.name], root))
            kept.append(root)
    settle(kept, wait=65.0)  # see bench_core.settle: new files right after deletions are slow here
    return times


def bench_status(base: Path, tools: dict[str, list[str]], source: Path, repeats: int) -> dict[str, list[float]]:
    roots = {}
    for label, tool in tools.items():
        roots[label] = fresh(base, f"{label}-status", tool)
        place(source, roots[label] / "data")
        subprocess.run(tool + ["add", "data"], cwd=roots[label], env=ENV, check=True, capture_output=True)
    time.sleep(0.5)
    for label, tool in tools.items():  # warm up
        run(tool + ["status"], roots[label])
    times: dict[str, list[float]] = {label: [] for label in tools}
    for repeat in range(repeats):
        for label in (list(tools) if repeat % 2 == 0 else list(tools)[::-1]):
            times[label].append(run(tools[label] + ["status"], roots[label]))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="the git revision to compare with")
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    args = parser.parse_args()
    mib, files, repeats = (64, 1000, 1) if args.quick else (1024, 10_000, 3)
    base = Path(tempfile.mkdtemp(prefix="hpcfair-revs-"))
    rev = subprocess.run(["git", "rev-parse", "--short", args.base], cwd=ROOT, check=True, capture_output=True,
                         text=True).stdout.strip()
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout.strip()
    tools = {f"base {rev}": command(export(args.base, base / "base-source")), f"this checkout ({head})": command(ROOT)}
    try:
        big = base / "big.bin"
        make_big_file(big, mib)
        small = base / "small"
        make_small_files(small, files)
        cases = {
            f"no-op `status`, {files} tracked files": bench_status(base, tools, small, repeats * 5),
            f"`add` of a folder of {files} small files": bench_add(base, tools, small, repeats),
            f"`add` of a {mib} MiB file": bench_add(base, tools, big, repeats),
        }
    finally:
        shutil.rmtree(base, ignore_errors=True)
    results = {case: {label: {"best": min(t), "median": statistics.median(t), "runs": t} for label, t in times.items()}
               for case, times in cases.items()}
    out = ROOT / "benchmarks" / "results" / ("revisions-quick.json" if args.quick else "revisions.json")
    out.write_text(json.dumps(results, indent=2) + "\n")
    labels = list(tools)
    print(f"| case | {labels[0]} best (median) s | {labels[1]} best (median) s | change of the median |")
    print("| --- | ---: | ---: | ---: |")
    for case, by_label in results.items():
        a, b = by_label[labels[0]], by_label[labels[1]]
        print(f"| {case} | {a['best']:.3f} ({a['median']:.3f}) | {b['best']:.3f} ({b['median']:.3f}) | "
              f"{(b['median'] / a['median'] - 1) * 100:+.1f}% |")


if __name__ == "__main__":
    main()
