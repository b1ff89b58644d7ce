"""hpcfair's runner inside the runtime image: runs an ONNX model the way the host's ``hpcfair infer`` does.

Copied into the image as /opt/hpcfair/runner.py; it needs only the standard
library, numpy and onnxruntime, and never imports hpcfair. The host has
checked and cast the inputs already (``/in/inputs.npz``, one array per model
input); this script slices the batch dimension exactly as
``hpcfair_vcs.runtime.onnx.run`` does (same slices, same contiguous copies),
writes output *i* to ``/out/i.npy`` and the names to ``/out/outputs.json``, and
prints what it ran with (python, packages, libc) as one JSON line.

    python /opt/hpcfair/runner.py infer MODEL INPUTS OUT BATCH_SIZE THREADS
    python /opt/hpcfair/runner.py describe
"""

import json
import os
import platform
import sys

RUNNER_VERSION = "1"


def describe():
    import numpy
    import onnxruntime

    return {"python": f"{platform.python_implementation()} {platform.python_version()}",
            "libc": "-".join(platform.libc_ver()).strip("-"), "machine": platform.machine(),
            "packages": {"numpy": numpy.__version__, "onnxruntime": onnxruntime.__version__,
                         "hpcfair-runner": RUNNER_VERSION}}


def infer(model, inputs, out, batch_size, threads):
    import numpy as np
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    session = ort.InferenceSession(model, sess_options=options, providers=_providers(ort))
    specs = session.get_inputs()
    names = [o.name for o in session.get_outputs()]
    arrays = dict(np.load(inputs, allow_pickle=False))
    # a dynamic first dimension (a name, None or <= 0), as hpcfair's signature reads it
    batched = {s.name for s in specs if s.shape and not (isinstance(s.shape[0], int) and s.shape[0] > 0)}
    rows = next((int(arrays[s.name].shape[0]) for s in specs if s.name in batched), 0)
    pieces = []
    if rows == 0:
        pieces.append(session.run(names, {n: np.ascontiguousarray(a) for n, a in arrays.items()}))
    for start in range(0, rows, batch_size):
        feeds = {n: np.ascontiguousarray(a[start:start + batch_size] if n in batched else a)
                 for n, a in arrays.items()}
        pieces.append(session.run(names, feeds))
    for i in range(len(names)):
        parts = [p[i] for p in pieces]
        np.save(os.path.join(out, f"{i}.npy"), parts[0] if len(parts) == 1 else np.concatenate(parts),
                allow_pickle=False)
    with open(os.path.join(out, "outputs.json"), "w", encoding="utf-8") as listing:
        json.dump(names, listing)


def _providers(ort):
    available = ort.get_available_providers()
    cuda = "CUDAExecutionProvider" in available and os.environ.get("HPCFAIR_DEVICE") == "cuda"
    return ["CUDAExecutionProvider", "CPUExecutionProvider"] if cuda else ["CPUExecutionProvider"]


def main(argv):
    if argv[:1] == ["describe"]:
        print(json.dumps(describe()))
        return 0
    if argv[:1] == ["infer"] and len(argv) == 6:
        model, inputs, out, batch_size, threads = argv[1:]
        infer(model, inputs, out, int(batch_size), int(threads))
        print(json.dumps(describe()))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
