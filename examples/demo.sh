#!/usr/bin/env bash
# hpcfair's main demo: version a small model file and a dataset folder inside a git repository.
#   bash examples/demo.sh            # installs hpcfair into .venv, then runs the demo in a temp folder
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python3}
command -v git >/dev/null || { [ "$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq git >/dev/null; }
[ -x "$HERE/.venv/bin/python" ] || "$PYTHON" -m venv "$HERE/.venv"
"$HERE/.venv/bin/python" -m pip install -q --disable-pip-version-check -e "$HERE" 2>&1 | grep -v "is ignored: it is neither" || true
export PATH="$HERE/.venv/bin:$PATH"

WORK=$(mktemp -d -t hpcfair-demo-XXXX)
cd "$WORK"
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

git init -q . && git config user.email demo@example.org && git config user.name Demo
python - <<'PY'
# A tiny "model" (weights of a linear classifier) and a dataset folder of CSV shards.
import numpy as np, os
rng = np.random.default_rng(0)
os.makedirs("models", exist_ok=True)
np.savez("models/classifier.npz", w=rng.normal(size=(64, 10)).astype("float32"), b=np.zeros(10, "float32"))
for split in ("train", "test"):
    os.makedirs(f"data/digits/{split}", exist_ok=True)
    for shard in range(3):
        np.savetxt(f"data/digits/{split}/shard{shard}.csv", rng.integers(0, 16, size=(50, 65)), fmt="%d", delimiter=",")
PY

step hpcfair init
step hpcfair add models/classifier.npz --kind model --tag baseline --description "linear digit classifier" --license MIT --author "A. Scientist"
step hpcfair add data/digits --license CC-BY-4.0
step hpcfair status
step git add . && git commit -qm "track model and data with hpcfair" && echo "(committed pointer files; data stays out of git)" && git ls-files

echo; echo "# retrain: the weights change"
python -c "import numpy as np; d=dict(np.load('models/classifier.npz')); d['w']*=1.1; np.savez('models/classifier.npz', **d)"
step hpcfair status
step hpcfair add models/classifier.npz --tag improved
step hpcfair log classifier
step hpcfair show classifier@baseline

echo; echo "# go back to the baseline, then lose the data folder and restore it"
step hpcfair checkout classifier@baseline
rm -rf data/digits
step hpcfair status
step hpcfair checkout
step hpcfair status
step hpcfair fsck
echo; echo "Demo finished in $WORK"
