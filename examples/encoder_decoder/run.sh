#!/usr/bin/env bash
# The paper's model-collaboration demo: a PyTorch encoder and a Keras decoder, trained for a few seconds,
# versioned, converted to ONNX with a parity proof, composed into one model and run with onnxruntime.
#   bash examples/encoder_decoder/run.sh   (expects `hpcfair` and the ML extras; examples/demo.sh installs them)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d -t hpcfair-collab-XXXX)
cd "$WORK"
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
git init -q . && git config user.email demo@example.org && git config user.name Demo

step python "$HERE/train.py"
step hpcfair init
step hpcfair add models/encoder.pt2 --description "CNN encoder, digits" --param epochs=300 --param lr=0.01
step hpcfair add models/decoder.keras --description "dense decoder, digits" --param epochs=40
step hpcfair add data/test_images.npy --name test-images
cp "$HERE/collaborate.yaml" .
step hpcfair run collaborate.yaml
step hpcfair show autoencoder
step python "$HERE/compare.py" out/reconstructed.npy
step python -c "
from hpcfair_vcs import HPCFair, load_model, load_dataset
model = load_model('autoencoder')                       # three lines of Python do the same
images = load_dataset('test-images')
print('from Python:', {k: v.shape for k, v in model.run(images).items()})"
step hpcfair optimize autoencoder --quantize dynamic-int8
step hpcfair status
echo; echo "Model collaboration demo finished in $WORK"
