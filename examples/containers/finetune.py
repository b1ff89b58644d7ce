"""A job run in hpcfair's runtime image: a digit-classification head trained for a few steps on the encoder.

The encoder's ONNX form (mounted at /in/encoder/) runs frozen with onnxruntime on the digits dataset
(/in/digits/train and test, CSV shards: 64 pixels then the label); a softmax head on its 16 codes is
trained by gradient descent in numpy for `steps` steps. The head's weights go to /out/head.npz and its
accuracy on the test split to stdout. Only numpy and onnxruntime are needed: what the image has.
"""

import glob
import json
import os

import numpy as np
import onnxruntime as ort

params = json.load(open(os.environ["HPCFAIR_PARAMETERS"]))
encoder = ort.InferenceSession(glob.glob("/in/encoder/*.onnx")[0], providers=["CPUExecutionProvider"])


def split(name):
    rows = np.concatenate([np.loadtxt(f, delimiter=",", ndmin=2)
                           for f in sorted(glob.glob(f"/in/digits/{name}/*.csv"))])
    pixels = (rows[:, :64] / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    codes = encoder.run(None, {encoder.get_inputs()[0].name: pixels})[0]
    return codes, rows[:, 64].astype(int)


train_x, train_y = split("train")
test_x, test_y = split("test")
mean, std = train_x.mean(0), train_x.std(0) + 1e-6
train_x, test_x = (train_x - mean) / std, (test_x - mean) / std
rng = np.random.default_rng(params["seed"])
weights = rng.normal(0, 0.01, (train_x.shape[1], 10))
bias = np.zeros(10)
onehot = np.eye(10)[train_y]
for step in range(params["steps"]):
    logits = train_x @ weights + bias
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    grad = (probs - onehot) / len(train_x)
    weights -= params["lr"] * (train_x.T @ grad)
    bias -= params["lr"] * grad.sum(0)
accuracy = float(((test_x @ weights + bias).argmax(1) == test_y).mean())
np.savez(os.path.join(os.environ["HPCFAIR_OUT"], "head.npz"), weights=weights, bias=bias, mean=mean, std=std)
print(f"trained the head for {params['steps']} steps: test accuracy {accuracy:.3f}")
