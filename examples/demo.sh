#!/usr/bin/env bash
# hpcfair's main demo, the paper's workflow end to end:
#   1. version models and a dataset inside a git repository; every model becomes ONNX with a parity proof;
#      describe, trace (W3C PROV), search, score (FAIR) and export them (RO-Crate, Croissant);
#   2. reproducible runs (Podman): the pinned runtime image built offline, the encoder run in it
#      (bit-identical to the host), a job that trains a digit head on the encoder in it, with provenance
#      (examples/containers/run.sh; needs root: installs podman, runc and debootstrap);
#   3. model collaboration: a PyTorch encoder and a Keras decoder, trained for a few seconds, composed
#      into one ONNX model, run with onnxruntime and compared with the native models
#      (examples/encoder_decoder/run.sh).
#   bash examples/demo.sh            # installs hpcfair with its PyTorch, TensorFlow and scikit-learn extras
#                                    # into .venv, then runs both parts in temp folders
set -euo pipefail
quiet() { local log; log=$(mktemp); "$@" >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; return 1; }; rm -f "$log"; }  # output only on failure
HERE=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python3}
command -v git >/dev/null || { [ "$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq git >/dev/null; }
[ -x "$HERE/.venv/bin/python" ] || "$PYTHON" -m venv "$HERE/.venv"
quiet "$HERE/.venv/bin/python" -m pip install -q --disable-pip-version-check -e "$HERE[torch,tensorflow,sklearn,scale]"
export PATH="$HERE/.venv/bin:$PATH"

WORK=$(mktemp -d -t hpcfair-demo-XXXX)
cd "$WORK"
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

git init -q . && git config user.email demo@example.org && git config user.name Demo
python - <<'PY'
# A scikit-learn digit classifier (saved with skops, the safe format), a small PyTorch encoder
# (TorchScript) and the digits dataset as a folder of CSV shards.
import os, numpy as np, torch, skops.io
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
X, y = load_digits(return_X_y=True)
os.makedirs("models", exist_ok=True)
skops.io.dump(make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=500)).fit(X, y),
              "models/classifier.skops")
torch.manual_seed(0)
encoder = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                              torch.nn.Linear(4 * 8 * 8, 16)).eval()
torch.jit.save(torch.jit.script(encoder), "models/encoder.pt")
for split, rows in (("train", slice(0, 1500)), ("test", slice(1500, None))):
    os.makedirs(f"data/digits/{split}", exist_ok=True)
    for shard, part in enumerate(np.array_split(np.c_[X[rows], y[rows]], 3)):
        np.savetxt(f"data/digits/{split}/shard{shard}.csv", part, fmt="%d", delimiter=",")
PY

step hpcfair init
step hpcfair hooks install   # commits convert and snapshot models; checkouts restore their data
step hpcfair add models/classifier.skops --tag baseline --description "digit classifier" --license MIT --author "A. Scientist"
step hpcfair add models/encoder.pt --input x:N,1,8,8:float32 --param lr=0.01
step hpcfair add data/digits --license CC-BY-4.0
step hpcfair status
step git add . && git commit -qm "track models and data with hpcfair" && echo "(committed pointer files; data stays out of git)" && git ls-files

echo; echo "# the ONNX form of the classifier: where it came from and how close it is"
step hpcfair show classifier.onnx

echo; echo "# retrain and commit: the pre-commit hook records the new version, converts it to ONNX and"
echo "# snapshots the runtime with the hyper-parameters committed beside the model"
python -c "
import skops.io; from sklearn.datasets import load_digits; from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline; from sklearn.preprocessing import StandardScaler
X, y = load_digits(return_X_y=True)
skops.io.dump(make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=500)).fit(X, y), 'models/classifier.skops')"
printf 'C: 1.0\nmax_iter: 500\n' > models/classifier.skops.params.yaml
step hpcfair status
step git add models/classifier.skops.params.yaml
step git commit -qm "retrained with C=1.0"
step hpcfair tag classifier improved
step hpcfair convert classifier -o exported/classifier.onnx   # answered from the conversion cache
step hpcfair log classifier
printf '\n\033[1m$ hpcfair show classifier.onnx --json  # its runtime snapshot'"'"'s hyper-parameters\033[0m\n'
hpcfair show classifier.onnx --json | python -c "import json, sys; print(json.load(sys.stdin)['provenance']['runtime']['hyperparameters'])"
step hpcfair verify   # what a CI pipeline runs (docs/ci.md)

echo; echo "# FAIR: describe the model, trace where it came from, find it, score it, export it in standard formats"
step hpcfair meta set classifier task=image-classification training_dataset=digits "tags=[mnist, digits]" \
  "citation=hpcfair demo, 2026"
step hpcfair lineage classifier.onnx
step hpcfair search digit --kind model
step hpcfair fair-check classifier
step hpcfair export classifier --format ro-crate -o "$WORK-exports/classifier-crate"
step hpcfair export digits --format croissant -o "$WORK-exports/digits-croissant"   # (outside the git work tree)

echo; echo "# batch inference over a sharded dataset on 2 local Dask workers (docs/scaleout.md): the output is"
echo "# the bytes one process writes, stored with the scheduler, workers and chunking in its provenance"
python - <<'PY'
import os, numpy as np
from sklearn.datasets import load_digits
scans = load_digits().images.astype(np.float32)[:, None]
os.makedirs("data/scans", exist_ok=True)
for i, part in enumerate(np.array_split(scans, 4)):
    np.save(f"data/scans/part{i}.npy", part)
PY
step hpcfair add data/scans --kind dataset --license CC-BY-4.0
step hpcfair infer encoder --input scans -o data/codes.npy --scheduler local:2 --batch-size 128 --chunk-rows 256 --add codes
step hpcfair infer encoder --input scans -o "$WORK-exports/codes-one-process.npy" --batch-size 128
step cmp data/codes.npy "$WORK-exports/codes-one-process.npy"
echo "(the same bytes)"
step hpcfair lineage codes
step git add . && git commit -qm "codes of the scans, computed on Dask"

echo; echo "# go back to the baseline commit (the post-checkout hook restores its model), then lose the data"
echo "# folder and restore it"
step git checkout -q HEAD~1
step hpcfair show classifier@baseline
step git checkout -q -
rm -rf data/digits
step hpcfair status
step hpcfair checkout
step hpcfair status
step hpcfair fsck
echo; echo "Versioning demo finished in $WORK"

echo; echo "# Reproducible runs: the runtime image, inference and a job in it (Podman)"
bash "$HERE/examples/containers/run.sh"

echo; echo "# Model collaboration: a PyTorch encoder + a Keras decoder = one ONNX model"
bash "$HERE/examples/encoder_decoder/run.sh"
