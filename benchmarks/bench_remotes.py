"""push / pull speed, side by side in one run: hpcfair vs DVC, local-folder and SSH remotes.

Same content for both tools; fresh remotes and fresh clones for every timed
run; best and median of the repeats. Before each pull the remote's files are
dropped from the page cache (``evict``): a pull reads bytes from another disk or
machine, not from this one's memory, where the push just left them. Results: benchmarks/results/remotes.json and a
Markdown table on stdout (pasted into docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.fspath(Path(__file__).resolve().parents[1]))  # run as a script: the checkout's remotes/
from bench_core import (DVC, HPCFAIR, fresh_repo, make_big_file, make_small_files, order, place,  # noqa: E402
                        run, settle, timed)
from remotes.servers import SSHServer  # noqa: E402


def configure(root: Path, tool: str, url: str, options: dict[str, str]) -> None:
    if tool == "hpcfair":
        run([HPCFAIR, "remote", "add", "origin", url, "--default",
             *[a for k, v in options.items() for a in ("-o", f"{k}={v}")]], root)
    else:
        run([DVC, "remote", "add", "-d", "origin", url], root)
        for key, value in options.items():
            if key != "known_hosts":
                run([DVC, "remote", "modify", "--local", "origin", key, value], root)


def clone(src: Path, base: Path, tool: str, label: str) -> Path:
    """A fresh clone: the pointer / .dvc files and the remote config, no data."""
    root = fresh_repo(base, tool, label)
    for pattern in ("*.hpcfair", "*.dvc"):
        for path in (p for p in src.glob(pattern) if p.is_file()):
            shutil.copy(path, root / path.name)
    if tool == "hpcfair":
        for name in ("config.yaml", "config.local.yaml"):
            shutil.copy(src / ".hpcfair" / name, root / ".hpcfair" / name)
    else:
        for name in ("config", "config.local"):
            if (src / ".dvc" / name).exists():
                shutil.copy(src / ".dvc" / name, root / ".dvc" / name)
    return root


def evict(folder: Path) -> None:
    """Drop *folder*'s files from the page cache (written back first), as if they lived elsewhere."""
    os.sync()
    for current, _, files in os.walk(folder):
        for name in files:
            fd = os.open(os.path.join(current, name), os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def bench_case(base: Path, source: Path, name: str, remote_for, repeats: int, many_files: bool) -> dict:
    """remote_for(tool, i) -> (url, options, folder to wipe). Times push, pull, no-op push.

    Without *many_files*, each tool's scratch folders are deleted before the other
    tool runs: on this VM the tool that ran second in a repeat, on top of the
    first one's gigabytes of page cache, was up to 2x slower (whichever it was).
    With *many_files*, scratch folders are deleted only after the last repeat: on this
    journal-less ext4, creating files soon after deleting thousands is several times
    slower (the allocator skips recently freed inodes one by one), which would tax
    whichever tool runs next.
    """
    times = {f"{tool} {verb}": [] for tool in ("hpcfair", "dvc") for verb in ("push", "pull", "noop push")}
    scratch: list[Path] = []
    for i in range(repeats):
        for tool in order(i):
            root = fresh_repo(base, tool, f"repo{i}")
            place(source, root / name)
            run([HPCFAIR, "add", name] if tool == "hpcfair" else [DVC, "add", "-q", name], root)
            url, options, folder = remote_for(tool, i)
            configure(root, tool, url, options)
            push = [HPCFAIR, "push"] if tool == "hpcfair" else [DVC, "push", "-q"]
            times[f"{tool} push"].append(timed(push, root))
            times[f"{tool} noop push"].append(timed(push, root))
            other = clone(root, base, tool, f"clone{i}")
            pull = [HPCFAIR, "pull"] if tool == "hpcfair" else [DVC, "pull", "-q"]
            evict(folder)
            times[f"{tool} pull"].append(timed(pull, other))
            assert (other / name).exists(), f"{tool} pull did not restore {name}"
            scratch += [root, other, folder]
            if not many_files:  # each tool starts from the same clean state
                settle(scratch)
                scratch = []
    settle(scratch, wait=65.0 if many_files else 5.0)
    return {key: {"best": min(values), "median": statistics.median(values), "runs": values}
            for key, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cases", default="big_file_local,small_files_local,big_file_ssh,small_files_ssh",
                        help="comma-separated cases to run (default: all four)")
    args = parser.parse_args()
    mib, files, repeats = (64, 1000, 1) if args.quick else (1024, 10_000, args.repeats)
    base = Path(tempfile.mkdtemp(prefix="hpcfair-bench-remotes-"))
    ssh = SSHServer(base / "sshd").start()
    try:
        big = base / "big.bin"
        make_big_file(big, mib)
        small = base / "small"
        make_small_files(small, files)

        def local(tool, i):
            folder = base / f"remote-{tool}-{i}"
            return os.fspath(folder), {}, folder

        def over_ssh(tool, i):
            folder = ssh.data / f"{tool}-{i}"
            return f"ssh://127.0.0.1:{ssh.port}{folder}", {
                "user": ssh.user, "keyfile": os.fspath(ssh.client_key),
                "known_hosts": os.fspath(ssh.known_hosts)}, folder

        results = {"sizes": {"big_file_mib": mib, "small_files": files, "repeats": repeats}}
        cases = set(args.cases.split(","))
        for label, remote_for in (("local", local), ("ssh", over_ssh)):
            if f"big_file_{label}" in cases:
                results[f"big_file_{label}"] = bench_case(base, big, "big.bin", remote_for, repeats, False)
            if f"small_files_{label}" in cases:
                results[f"small_files_{label}"] = bench_case(base, small, "data", remote_for, repeats, True)
    finally:
        ssh.stop()
        shutil.rmtree(base, ignore_errors=True)
    partial = cases != set(parser.get_default("cases").split(","))
    out = Path(__file__).parent / "results" / (
        "remotes-quick.json" if args.quick else "remotes-partial.json" if partial else "remotes.json")
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(render(results))


def render(r: dict) -> str:
    mib, n = r["sizes"]["big_file_mib"], r["sizes"]["small_files"]
    lines = ["| case | remote | hpcfair best (median) s | dvc best (median) s | speed-up (best) |",
             "| --- | --- | ---: | ---: | ---: |"]
    for key, what in (("big_file", f"{mib} MiB file"), ("small_files", f"{n} small files")):
        for remote in ("local", "ssh"):
            if f"{key}_{remote}" not in r:
                continue
            case = r[f"{key}_{remote}"]
            for verb in ("push", "pull", "noop push"):
                ours, theirs = case[f"hpcfair {verb}"], case[f"dvc {verb}"]
                lines.append(f"| {verb} {what} | {remote} | {ours['best']:.2f} ({ours['median']:.2f}) | "
                             f"{theirs['best']:.2f} ({theirs['median']:.2f}) | {theirs['best'] / ours['best']:.1f}x |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
