#!/usr/bin/env bash
# Run the benchmarks side by side with DVC in one run; results go to benchmarks/results/.
#   bash benchmarks/run.sh [core|remotes|convert|infer|revisions|hooks|catalog|containers|scaleout] [--quick]
#   core: add/status/start-up; remotes: push/pull; convert: conversion and ONNX-vs-native inference;
#   infer: load_model().run and `hpcfair infer` vs raw onnxruntime;
#   revisions --base REV: add/status of hpcfair at REV vs this checkout; hooks: git hooks vs dvc install's;
#   catalog: search/rebuild/add/lineage with 100,000 artifact versions;
#   containers: `infer --container` vs the host, a bare podman run, image build (cold, cached) and size (root, podman)
#   scaleout: `infer --scheduler local:1|2` vs one process vs a raw onnxruntime loop; per-chunk cost; chunk sizes; memory
#   (--quick: smaller sizes and one repeat, for a smoke check)
set -euo pipefail
quiet() { local log; log=$(mktemp); "$@" >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; return 1; }; rm -f "$log"; }  # output only on failure
cd "$(dirname "$0")/.."
command -v git >/dev/null || { apt-get update -qq && apt-get install -y -qq git >/dev/null; }
[ -x .venv-bench/bin/python ] || python3 -m venv .venv-bench
quiet .venv-bench/bin/python -m pip install -q --disable-pip-version-check ".[bench]"
# a regular (not editable) install of this checkout, as users get it
quiet .venv-bench/bin/python -m pip install -q --disable-pip-version-check --force-reinstall --no-deps .
which="${1:-core}"; case "$which" in core|remotes|convert|infer|revisions|hooks|catalog|containers|scaleout) shift || true;; *) which=core;; esac
exec .venv-bench/bin/python "benchmarks/bench_${which}.py" "$@"
