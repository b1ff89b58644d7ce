"""Core speed, side by side in one run: hpcfair vs DVC vs Python's hashlib.

Each case runs the tools alternately on the same files, several times, and
reports the median wall time. Results: benchmarks/results/core.json and a
Markdown table on stdout (pasted into docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
HPCFAIR = os.fspath(BIN / "hpcfair")
DVC = os.fspath(BIN / "dvc")
ENV = {**os.environ, "DVC_NO_ANALYTICS": "1", "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b",
       "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@b"}


def run(argv, cwd):
    subprocess.run(argv, cwd=cwd, env=ENV, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def timed(argv, cwd):
    os.sync()  # start from a clean device: no tool pays for the other's pending writes
    start = time.perf_counter()
    run(argv, cwd)
    return time.perf_counter() - start


def fresh_repo(base: Path, tool: str, label: str = "repo") -> Path:
    root = base / f"{tool}-{label}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    run(["git", "init", "-q"], root)
    run([HPCFAIR, "init"] if tool == "hpcfair" else [DVC, "init", "-q"], root)
    return root


def place(src: Path, dest: Path) -> None:
    """Put the same content at *dest* (a hardlink: no copy, same page cache)."""
    if src.is_dir():
        shutil.copytree(src, dest, copy_function=os.link)
    else:
        os.link(src, dest)


def make_big_file(path: Path, mib: int) -> None:
    block = os.urandom(1 << 20)
    with open(path, "wb") as fobj:
        for i in range(mib):
            fobj.write(block[:-8] + i.to_bytes(8, "big"))


def make_small_files(folder: Path, count: int) -> None:
    for i in range(count):
        sub = folder / f"d{i % 100:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{i}.bin").write_bytes(os.urandom(1024))


def order(repeat: int) -> tuple[str, str]:
    """Alternate which tool goes first, so neither always follows the other's clean-up."""
    return ("dvc", "hpcfair") if repeat % 2 == 0 else ("hpcfair", "dvc")


def settle(paths, wait: float = 5.0) -> None:
    """Delete scratch folders, then let the disk finish (this disk discards deleted blocks).

    After deleting many files, wait over a minute: ext4 without a journal avoids reusing
    an inode freed in the last 60 s, and skipping thousands of them makes new files slow.
    """
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)
    os.sync()
    time.sleep(wait)


def bench_add(base: Path, source: Path, name: str, repeats: int, many_files: bool = False) -> dict:
    """Median add time per tool.

    A big file: each tool's repository is deleted before the other tool runs, so both
    start from the same state (run second, on top of the first one's gigabytes of page
    cache, either tool was slower on this VM). Many files: repositories are deleted only
    after the last repeat, then a 65 s wait (see ``settle``), so no run creates files
    right after thousands were deleted.
    """
    times = {"hpcfair": [], "dvc": []}
    kept = []
    for repeat in range(repeats):
        for tool in order(repeat):
            root = fresh_repo(base, tool, f"repo{repeat}")
            place(source, root / name)
            command = [HPCFAIR, "add", name] if tool == "hpcfair" else [DVC, "add", "-q", name]
            times[tool].append(timed(command, root))
            if many_files:
                kept.append(root)
            else:
                settle([root])
    if kept:
        settle(kept, wait=65.0)
    return {tool: statistics.median(values) for tool, values in times.items()}


def bench_hash(path: Path, repeats: int) -> dict:
    sys.path.insert(0, os.fspath(Path(__file__).resolve().parents[1]))
    from hpcfair_vcs.storage.store import hash_file

    def hashlib_loop():
        digest = hashlib.sha256()
        with open(path, "rb") as fobj:
            while chunk := fobj.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()

    results = {}
    for label, func in (("hashlib", hashlib_loop), ("hpcfair", lambda: hash_file(path))):
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            func()
            samples.append(time.perf_counter() - start)
        results[label] = path.stat().st_size / statistics.median(samples) / 1e9  # GB/s
    return results


def bench_status(base: Path, source: Path, repeats: int) -> dict:
    roots = {}
    for tool in ("hpcfair", "dvc"):
        root = fresh_repo(base, tool)
        place(source, root / "data")
        run([HPCFAIR, "add", "data"] if tool == "hpcfair" else [DVC, "add", "-q", "data"], root)
        roots[tool] = root
    time.sleep(0.5)
    commands = {"hpcfair": [HPCFAIR, "status"], "dvc": [DVC, "status", "-q"]}
    for tool, command in commands.items():  # warm up: first status fills caches
        subprocess.run(command, cwd=roots[tool], env=ENV, capture_output=True)
    times = {tool: [] for tool in commands}
    os.sync()
    for _ in range(repeats):
        for tool, command in commands.items():
            start = time.perf_counter()
            subprocess.run(command, cwd=roots[tool], env=ENV, capture_output=True)
            times[tool].append(time.perf_counter() - start)
    for root in roots.values():
        shutil.rmtree(root)
    return {tool: statistics.median(values) for tool, values in times.items()}


def bench_startup(base: Path, repeats: int) -> dict:
    cases = {"hpcfair --version": [HPCFAIR, "--version"], "hpcfair --help": [HPCFAIR, "--help"],
             "dvc --version": [DVC, "--version"]}
    for command in cases.values():
        timed(command, base)
    times = {label: [] for label in cases}
    for _ in range(repeats):
        for label, command in cases.items():
            times[label].append(timed(command, base))
    return {label: statistics.median(values) for label, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temp dir)")
    parser.add_argument("--only", choices=["add-small"], help="run one case only (not saved)")
    args = parser.parse_args()
    mib, files, repeats = (64, 1000, 1) if args.quick else (1024, 10_000, 3)
    base = Path(tempfile.mkdtemp(prefix="hpcfair-bench-", dir=args.work))
    try:
        big = base / "big.bin"
        make_big_file(big, mib)
        small = base / "small"
        make_small_files(small, files)
        time.sleep(0.5)
        if args.only == "add-small":
            print(bench_add(base, small, "data", repeats, many_files=True))
            return
        results = {
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                        "platform": platform.platform()},
            "sizes": {"big_file_mib": mib, "small_files": files, "repeats": repeats},
            "add_big_file_s": bench_add(base, big, "big.bin", repeats),
            "hash_throughput_gbps": bench_hash(big, repeats),
            "add_small_files_s": bench_add(base, small, "data", repeats, many_files=True),
            "noop_status_small_files_s": bench_status(base, small, repeats * 5),
            "startup_s": bench_startup(base, repeats * 5),
        }
    finally:
        shutil.rmtree(base, ignore_errors=True)
    out = Path(__file__).parent / "results" / ("core-quick.json" if args.quick else "core.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(render(results))


def render(r: dict) -> str:
    a, s, st, h, up = (r["add_big_file_s"], r["add_small_files_s"], r["noop_status_small_files_s"],
                       r["hash_throughput_gbps"], r["startup_s"])
    n, mib = r["sizes"]["small_files"], r["sizes"]["big_file_mib"]
    rows = [
        ("`add` of a {} MiB file".format(mib), a["hpcfair"], a["dvc"], "dvc add"),
        (f"`add` of a folder of {n} small files", s["hpcfair"], s["dvc"], "dvc add"),
        (f"no-op `status`, {n} tracked files", st["hpcfair"], st["dvc"], "dvc status"),
        ("`--version`", up["hpcfair --version"], up["dvc --version"], "dvc --version"),
        ("`--help`", up["hpcfair --help"], up["dvc --version"], "dvc --version"),
    ]
    lines = ["| case | hpcfair (s) | other (s) | other | speed-up |", "| --- | ---: | ---: | --- | ---: |"]
    lines += [f"| {case} | {ours:.3f} | {theirs:.3f} | {label} | {theirs / ours:.1f}x |"
              for case, ours, theirs, label in rows]
    lines.append(f"| sha256 throughput, {mib} MiB file | {h['hpcfair']:.2f} GB/s | {h['hashlib']:.2f} GB/s "
                 f"| hashlib.sha256 | {h['hpcfair'] / h['hashlib']:.2f}x |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
