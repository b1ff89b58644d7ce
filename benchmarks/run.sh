#!/usr/bin/env bash
# Run the benchmarks side by side with DVC in one run; results go to benchmarks/results/.
#   bash benchmarks/run.sh            # all core benchmarks (about 3 minutes)
#   bash benchmarks/run.sh --quick    # smaller sizes, for a smoke check
set -euo pipefail
cd "$(dirname "$0")/.."
command -v git >/dev/null || { apt-get update -qq && apt-get install -y -qq git >/dev/null; }
[ -x .venv-bench/bin/python ] || python3 -m venv .venv-bench
.venv-bench/bin/python -m pip install -q --disable-pip-version-check ".[bench]" 2>&1 | grep -v "is ignored: it is neither" || true
# a regular (not editable) install of this checkout, as users get it
.venv-bench/bin/python -m pip install -q --disable-pip-version-check --force-reinstall --no-deps . 2>&1 | grep -v "is ignored: it is neither" || true
exec .venv-bench/bin/python benchmarks/bench_core.py "$@"
