#!/usr/bin/env bash
# Reproducible runs with Podman, in the demo's repository (examples/demo.sh runs this there):
# the pinned runtime image built offline, inference in it compared with the host's, a job in it.
#   bash examples/containers/run.sh    # needs root, podman, runc and debootstrap (installed when missing)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
missing=()
for tool in podman runc debootstrap; do command -v $tool >/dev/null || missing+=($tool); done
if ((${#missing[@]})); then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

step hpcfair image build          # Debian minbase + this machine's numpy and onnxruntime; no registry
python - <<'PY'
import numpy as np
rows = np.concatenate([np.loadtxt(f"data/digits/test/shard{i}.csv", delimiter=",", ndmin=2) for i in range(3)])
np.save("data/sample.npy", (rows[:64, :64] / 16.0).astype(np.float32).reshape(-1, 1, 8, 8))
PY
step hpcfair infer encoder --input data/sample.npy -o out/host.npz
step hpcfair infer encoder --input data/sample.npy -o out/codes.npz --container --add digit-codes
python -c "
import numpy as np
host, inside = np.load('out/host.npz'), np.load('out/codes.npz')
assert all(np.array_equal(host[k], inside[k]) for k in host.files)
print('the container\'s output equals the host\'s bit for bit')"
mkdir -p jobs && cp "$HERE/finetune.py" jobs/ && cp "$HERE/finetune.yaml" .
step hpcfair run finetune.yaml
step hpcfair lineage digit-head
step hpcfair show digit-head
step hpcfair image list
