"""The task config schema: the paper's four argument groups, checked key by key.

A config has the groups ``general`` (which task), ``device`` (where it runs),
``task`` (the task's own arguments) and ``output`` (where results go). An
unknown key, a wrong type or a missing field is an error naming the file, the
line and the key (docs/tasks.md documents every key; a test keeps the two in
step).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import TaskConfigError
TASKS = ("store", "search", "convert", "infer", "collaborate", "optimize", "load_model", "load_dataset", "job")


@dataclass(frozen=True)
class Field:
    check: Callable[[Any], bool]
    kind: str  # what the check accepts, for messages and docs
    required: bool = False
    doc: str = ""


def _str(v: Any) -> bool:
    return isinstance(v, str) and v != ""


def _bool(v: Any) -> bool:
    return isinstance(v, bool)


def _pos_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0


def _str_list(v: Any) -> bool:
    return _str(v) or (isinstance(v, list) and all(_str(i) for i in v))


def _mapping(v: Any) -> bool:
    return isinstance(v, dict) and all(isinstance(k, str) for k in v)


def _tensor(v: Any) -> bool:
    if _str(v):
        return True
    if isinstance(v, dict):
        return (_str(v.get("name")) and isinstance(v.get("shape"), list)
                and all(_pos_int(d) or _str(d) for d in v["shape"]) and set(v) <= {"name", "shape", "dtype"}
                and (v.get("dtype") is None or _str(v.get("dtype"))))
    return False


def _tensors(v: Any) -> bool:
    return _tensor(v) or (isinstance(v, list) and all(_tensor(i) for i in v))


def _maps(v: Any) -> bool:
    return _str_list(v) or (isinstance(v, dict) and all(_str(k) and _str(x) for k, x in v.items()))


def _env(v: Any) -> bool:
    return isinstance(v, dict) and all(isinstance(k, str) and k.isidentifier() and isinstance(x, (str, int, float))
                                       and not isinstance(x, bool) for k, x in v.items())


def _job_outputs(v: Any) -> bool:
    def one(x: Any) -> bool:
        return _str(x) or (isinstance(x, dict) and _str(x.get("path")) and set(x) <= {"path", "kind"}
                           and x.get("kind", "model") in ("model", "dataset"))
    return isinstance(v, dict) and bool(v) and all(_str(k) and one(x) for k, x in v.items())


def _one_of(*choices: str) -> Callable[[Any], bool]:
    return lambda v: v in choices


FRAMEWORKS = ("auto", "torch", "tensorflow", "sklearn", "xgboost", "lightgbm", "onnx")
TENSORS = "an input spec: 'x:N,1,28,28:float32' or {name, shape, dtype}, or a list of them"
CONVERT_FIELDS = {
    "framework": Field(_one_of(*FRAMEWORKS), "|".join(FRAMEWORKS),
                       doc="the source framework (default: from the file)"),
    "input": Field(_tensors, TENSORS, doc="the model's inputs, when the file does not say (PyTorch)"),
    "output_name": Field(_str_list, "name or list of names", doc="names for the ONNX model's outputs, in order"),
    "opset": Field(_pos_int, "integer", doc="ONNX opset (default 18)"),
    "model_class": Field(_str, "module:Class",
                         doc="the nn.Module class of a PyTorch state_dict (or a subclassed Keras model's)"),
    "model_args": Field(_mapping, "mapping", doc="keyword arguments for model_class"),
    "trust_pickle": Field(_bool, "boolean", doc="allow loading pickles (only for files you trust)"),
    "trust_types": Field(_str_list, "type name or list of them",
                         doc="types a skops file may build beyond scikit-learn's own (e.g. xgboost.core.Booster)"),
    "params": Field(_mapping, "mapping", doc="hyper-parameters recorded in the runtime snapshot"),
}

GROUPS: dict[str, dict[str, Field]] = {
    "general": {
        "task": Field(_one_of(*TASKS), "|".join(TASKS), required=True, doc="which task to run"),
        "repo": Field(_str, "path", doc="the repository (default: the one above the current folder)"),
        "description": Field(_str, "text", doc="a note for people reading the config"),
    },
    "device": {
        "type": Field(_one_of("cpu", "cuda", "auto", "container", "dask"), "cpu|cuda|auto|container|dask",
                      doc="where models run (auto: CUDA if available, else CPU with a warning; container: in the "
                          "pinned runtime image under Podman, docs/containers.md; dask: infer's chunks on a Dask "
                          "cluster, docs/scaleout.md); default cpu"),
        "threads": Field(_pos_int, "integer", doc="onnxruntime intra-op threads"),
        "image": Field(_str, "image ID or name", doc="container: the runtime image (default: container.image)"),
        "memory": Field(_str, "size such as 2g", doc="container: memory limit (default: container.memory)"),
        "cpus": Field(_number, "number", doc="container: CPU limit (default: all)"),
        "gpus": Field(_str, "all or indexes like 0,1", doc="container: NVIDIA GPUs through CDI"),
        "scheduler": Field(_str, "local[:N], slurm[:JOBS], pbs[:JOBS] or tcp://HOST:PORT",
                           doc="dask: the cluster (default local; an address in a file needs --trust-pickle)"),
        "workers": Field(_pos_int, "integer", doc="dask: local worker processes, or slurm/pbs jobs"),
        "chunk_rows": Field(_pos_int, "integer", doc="dask: rows per chunk of a .npy file (default 16384)"),
        "remote": Field(_str, "remote name", doc="dask: the workers read the model and data from this remote"),
    },
    "output": {
        "path": Field(_str, "path", doc="where the result is written (see each task)"),
    },
}

TASK_FIELDS: dict[str, dict[str, Field]] = {
    "store": {
        "path": Field(_str_list, "path or list of paths", required=True, doc="files or folders to add"),
        "name": Field(_str, "name", doc="artifact name (one path only)"),
        "kind": Field(_one_of("model", "dataset"), "model|dataset", doc="default: guessed from the path"),
        "tags": Field(_str_list, "list of tags", doc="tags for the new version"),
        "description": Field(_str, "text", doc="what the artifact is"),
        "license": Field(_str, "SPDX id", doc="e.g. CC-BY-4.0"),
        "authors": Field(_str_list, "list of names", doc="authors"),
        "convert": Field(_bool, "boolean", doc="convert models to ONNX (default: convert.auto)"),
        **CONVERT_FIELDS,
    },
    "search": {
        "query": Field(_str, "text", doc="words that must all match"),
        "tags": Field(_str_list, "list of tags", doc="only artifacts with all these tags"),
        "kind": Field(_one_of("model", "dataset"), "model|dataset", doc="only this kind"),
        "framework": Field(_str, "framework", doc="only models of this framework"),
        "remote": Field(_str, "remote name", doc="fetch this remote's records first"),
    },
    "convert": {
        "artifact": Field(_str, "NAME[@VERSION], PID or path", required=True, doc="the model to convert"),
        **CONVERT_FIELDS,
        "tolerance": Field(_number, "number", doc="largest relative difference accepted (default 1e-4)"),
        "sample": Field(_str, "path", doc="a real input (.npy/.npz) also checked for parity"),
        "name": Field(_str, "name", doc="name of the ONNX artifact (default NAME.onnx)"),
    },
    "infer": {
        "artifact": Field(_str, "NAME[@VERSION], PID or path", required=True, doc="the model to run"),
        "input": Field(_str, "path or dataset artifact", required=True, doc="the arrays to run on"),
        "batch_size": Field(_pos_int, "integer", doc="rows per onnxruntime call"),
        "add": Field(_str, "name", doc="store output.path as a version of this dataset (device dask: default "
                                       "the output file's name)"),
    },
    "collaborate": {
        "first": Field(_str, "NAME[@VERSION] or PID", required=True, doc="the model that runs first"),
        "second": Field(_str, "NAME[@VERSION] or PID", required=True, doc="the model it feeds"),
        "map": Field(_maps, "{OUT: IN} or a list of 'OUT:IN'", required=True,
                     doc="which outputs of first feed which inputs of second"),
        "name": Field(_str, "name", required=True, doc="name of the composed model artifact"),
        "description": Field(_str, "text", doc="what the composed model does"),
        "input": Field(_str, "path or dataset artifact", doc="if given, the composed model runs on it"),
        "batch_size": Field(_pos_int, "integer", doc="rows per onnxruntime call"),
    },
    "optimize": {
        "artifact": Field(_str, "NAME[@VERSION] or PID", required=True, doc="the model to optimize"),
        "quantize": Field(_one_of("dynamic-int8"), "dynamic-int8", doc="quantize weights to int8"),
        "graph_opt": Field(_bool, "boolean", doc="onnxruntime's offline graph optimization"),
        "name": Field(_str, "name", doc="name of the optimized artifact"),
    },
    "load_model": {
        "artifact": Field(_str, "NAME[@VERSION], PID or .onnx path", required=True, doc="the model to load"),
    },
    "load_dataset": {
        "artifact": Field(_str, "NAME[@VERSION] or PID", required=True, doc="the dataset to load"),
    },
    "job": {
        "command": Field(lambda v: isinstance(v, list) and bool(v) and all(_str(i) for i in v), "list of strings",
                         required=True, doc="what runs in the container; {key} takes task.parameters' key"),
        "inputs": Field(lambda v: isinstance(v, dict) and all(_str(k) and _str(x) for k, x in v.items()),
                        "{MOUNT: NAME[@VERSION] or PID}", doc="artifacts mounted read-only at /in/MOUNT/"),
        "code": Field(_str, "path", doc="a file or folder of the work tree, mounted read-only at /job"),
        "parameters": Field(_mapping, "mapping", doc="written to /in/parameters.json; recorded in the provenance"),
        "environment": Field(_env, "{NAME: value}", doc="environment variables (their names are recorded)"),
        "outputs": Field(_job_outputs, "{ARTIFACT: PATH or {path, kind}}", required=True,
                         doc="what the job writes under /out; each becomes a version of ARTIFACT"),
        "timeout": Field(_number, "seconds", doc="stop the job after this long"),
    },
}


def validate(doc: dict[str, Any], lines: dict[tuple[str, ...], int], source: str,
             expected_task: str | None = None) -> dict[str, dict[str, Any]]:
    """Check *doc* against the schema; return it with the four groups present.

    *lines* maps a key path (``("task", "input")``) to its line in the file.

    Raises:
        TaskConfigError: naming the file, the line and the key.
    """
    def fail(path: tuple[str, ...], message: str) -> TaskConfigError:
        line = lines.get(path) or lines.get(path[:1]) or 0
        where = f"{source}:{line}" if line else source
        return TaskConfigError(f"{where}: {'.'.join(path)}: {message}")

    if not isinstance(doc, dict):
        raise TaskConfigError(f"{source}: a task config is a mapping with general, device, task and output")
    for group in doc:
        if group not in (*GROUPS, "task"):
            raise fail((str(group),), f"unknown group{_suggest(str(group), [*GROUPS, 'task'])}")
        if not isinstance(doc[group], dict):
            raise fail((group,), "must be a mapping of keys")
    general = doc.get("general") or {}
    task = general.get("task", expected_task)
    if task is None:
        raise fail(("general", "task"), f"missing (one of {', '.join(TASKS)})")
    if expected_task and task != expected_task:
        raise fail(("general", "task"), f"is {task!r} but this call runs {expected_task!r}")
    fields = {**GROUPS, "task": TASK_FIELDS.get(task, {})}
    checked: dict[str, dict[str, Any]] = {}
    for group, schema in fields.items():
        values = dict(doc.get(group) or {})
        if group == "general":
            values.setdefault("task", task)
        for key, value in values.items():
            if key not in schema:
                raise fail((group, str(key)), f"unknown key{_suggest(str(key), list(schema))}")
            if not schema[key].check(value):
                raise fail((group, key), f"must be {schema[key].kind}, not {value!r}")
        for key, spec in schema.items():
            if spec.required and key not in values:
                raise fail((group, key), f"missing ({spec.doc})")
        checked[group] = values
    return checked


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(choices)})"
