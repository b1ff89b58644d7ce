"""Running a checked task config, and ``HPCFair``: one line of Python per task.

Paths in a config (``task.path``, ``task.input``, ``task.sample``,
``output.path``, ``general.repo``) are relative to the current folder, as on
the command line.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..fileio.files import atomic_write
from ..ops.add import add
from ..ops.compose import compose
from ..ops.convert import convert
from ..ops.infer import infer, load_dataset, load_model
from ..ops.optimize import optimize
from ..ops.search import search
from ..repo import opened
from ..results import CollaborateResult, LoadedResult
from .load import load
from ..errors import TaskConfigError


# Task keys that run code; a config file (it may come with a clone) cannot turn them on by itself.
RUNS_CODE = {"trust_pickle": "lets the model file run any code it carries",
             "model_class": "imports and runs the class it names",
             "trust_types": "lets the model file build the types it names"}


def run(config: str | os.PathLike | dict[str, Any], *, repo: Any = None, expected_task: str | None = None,
        trust_pickle: bool = False, container: bool = False) -> Any:
    """Check *config* and run its task; return the task's result object.

    A config *file* that sets ``trust_pickle`` or names a ``model_class`` runs only with
    *trust_pickle* (``hpcfair run FILE --trust-pickle``); a dict is the caller's own code.
    *container* runs the models in the runtime image (``device.type: container``).

    Raises:
        TaskConfigError (file, line and key), and whatever the task itself raises.
    """
    cfg = load(config, expected_task)
    general, device, task, output = cfg["general"], cfg["device"], cfg["task"], cfg["output"]
    if container:
        device = {**device, "type": "container"}
    if not isinstance(config, dict) and not trust_pickle:
        _refuse_code(task, os.fspath(config))
        _refuse_address(device, os.fspath(config))
    runner = RUNNERS[general["task"]]
    with opened(general.get("repo") or repo) as target:  # one repository for the task, closed after it
        return runner(task, device, output.get("path"), target)


def _refuse_code(task: dict[str, Any], source: str) -> None:
    for key, reason in RUNS_CODE.items():
        if task.get(key):
            raise TaskConfigError(f"{source}: task.{key} {reason}, and a task config file cannot allow that by "
                                  "itself (it may have come with a clone)",
                                  hint=f"if you trust the file and the model: hpcfair run {source} --trust-pickle "
                                       "(Python: HPCFair(trust_pickle=True))")


def _refuse_address(device: dict[str, Any], source: str) -> None:
    """A Dask scheduler's messages are pickles: reaching one a file names runs what it sends."""
    if device.get("type") == "dask" and "://" in str(device.get("scheduler", "")):
        raise TaskConfigError(f"{source}: device.scheduler names a Dask scheduler at an address, whose messages are "
                              "pickles that run code here, and a task config file cannot choose that by itself",
                              hint=f"if you trust that scheduler: hpcfair run {source} --trust-pickle "
                                   "(or give it on the command line: hpcfair infer --scheduler ADDRESS)")


def _inputs(value: Any) -> list[str]:
    """Input specs as ``NAME:SHAPE:DTYPE`` strings."""
    items = value if isinstance(value, list) else [value] if value else []
    return [i if isinstance(i, str) else
            f"{i['name']}:{','.join(str(d) for d in i['shape'])}:{i.get('dtype') or 'float32'}" for i in items]


def _list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _convert_options(task: dict[str, Any]) -> dict[str, Any]:
    return {"framework": task.get("framework", "auto"), "inputs": _inputs(task.get("input")),
            "outputs": _list(task.get("output_name")),
            "opset": task.get("opset"), "model_class": task.get("model_class"),
            "model_args": task.get("model_args") or {}, "trust_pickle": task.get("trust_pickle", False),
            "trust_types": _list(task.get("trust_types")), "params": task.get("params") or {}}


def _store(task, device, output, repo):
    return add(_list(task["path"]), repo=repo, name=task.get("name"), kind=task.get("kind"),
                   tags=_list(task.get("tags")), description=task.get("description"), license=task.get("license"),
                   authors=_list(task.get("authors")), convert=task.get("convert"), **_convert_options(task))


def _search(task, device, output, repo):
    result = search(task.get("query"), repo=repo, tags=_list(task.get("tags")), kind=task.get("kind"),
                        framework=task.get("framework"), remote=task.get("remote"))
    if output:
        _write_json(Path(output), result.to_dict())
    return result


def _convert(task, device, output, repo):
    options = {k: v for k, v in _convert_options(task).items() if k != "framework" or v != "auto"}
    return convert(task["artifact"], repo=repo, output=output, name=task.get("name"),
                       tolerance=task.get("tolerance"), sample=task.get("sample"), **options)


def _infer(task, device, output, repo):
    return infer(task["artifact"], input=task["input"], output=output, repo=repo, batch_size=task.get("batch_size"),
                 add_as=task.get("add"), **_device(device))


def _device(device: dict[str, Any]) -> dict[str, Any]:
    """infer's device keywords from the device group (container: the image, memory and GPUs too; dask: the cluster)."""
    kind = device.get("type", "cpu")
    if kind == "dask":
        return {"device": "cpu", "threads": device.get("threads"), "scheduler": device.get("scheduler", "local"),
                "workers": device.get("workers"), "chunk_rows": device.get("chunk_rows"),
                "remote": device.get("remote")}
    if kind != "container":
        return {"device": kind, "threads": device.get("threads")}
    return {"device": "cpu", "threads": device.get("threads"), "container": True, "image": device.get("image"),
            "memory": device.get("memory"), "gpus": device.get("gpus")}


def _job(task, device, output, repo):
    from ..ops.job import Job, JobOutput, run_job

    outputs = [JobOutput(name, spec, None) if isinstance(spec, str) else JobOutput(name, spec["path"], spec.get("kind"))
               for name, spec in task["outputs"].items()]
    job = Job(command=list(task["command"]), inputs=dict(task.get("inputs") or {}), code=task.get("code"),
              parameters=dict(task.get("parameters") or {}),
              environment={k: str(v) for k, v in (task.get("environment") or {}).items()},
              outputs=outputs, output_dir=output or ".", timeout=task.get("timeout"))
    return run_job(job, repo=repo, image=device.get("image"), memory=device.get("memory"), cpus=device.get("cpus"),
                   gpus=device.get("gpus"))


def _collaborate(task, device, output, repo):
    maps = task["map"]
    maps = [f"{k}:{v}" for k, v in maps.items()] if isinstance(maps, dict) else _list(maps)
    composed = compose(task["first"], task["second"], maps=maps, name=task["name"], repo=repo,
                           description=task.get("description"))
    inference = None
    if task.get("input"):
        inference = infer(f"{composed.artifact}@{composed.version}", input=task["input"], output=output,
                          repo=repo, batch_size=task.get("batch_size"), **_device(device))
    return CollaborateResult(composed, inference)


def _optimize(task, device, output, repo):
    return optimize(task["artifact"], quantize=task.get("quantize"), graph_opt=task.get("graph_opt", False),
                        name=task.get("name"), repo=repo)


def _load_model(task, device, output, repo):
    model = load_model(task["artifact"], repo=repo, device=device.get("type", "cpu"),
                           threads=device.get("threads"))
    return LoadedResult("load_model", model.name, model, {
        "pid": model.pid, "signature": model.signature.to_dict(), "metadata": model.metadata})


def _load_dataset(task, device, output, repo):
    data = load_dataset(task["artifact"], repo=repo)
    if isinstance(data, Path):
        described: dict[str, Any] = {"path": os.fspath(data)}
    elif isinstance(data, dict):
        described = {"arrays": {k: {"shape": list(v.shape), "dtype": str(v.dtype)} for k, v in data.items()}}
    else:
        described = {"shape": list(data.shape), "dtype": str(data.dtype)}
    return LoadedResult("load_dataset", task["artifact"], data, described)


def _write_json(path: Path, doc: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(doc, indent=2, sort_keys=True).encode(), 0o644)


RUNNERS = {"store": _store, "search": _search, "convert": _convert, "infer": _infer, "collaborate": _collaborate,
           "optimize": _optimize, "load_model": _load_model, "load_dataset": _load_dataset, "job": _job}


class HPCFair:
    """One line per task: ``HPCFair().convert("convert.yaml")`` (a config file, or a dict).

    Each method checks that the config's ``general.task`` is its own (a dict may
    leave it out) and returns the task's result object; ``run`` takes any task.
    """

    def __init__(self, repo: str | os.PathLike | None = None, *, trust_pickle: bool = False) -> None:
        self.repo = os.fspath(repo) if repo is not None else None
        self.trust_pickle = trust_pickle  # config files may load pickles and name a model_class

    def run(self, config: str | os.PathLike | dict[str, Any]) -> Any:
        return self._run(config, None)

    def _run(self, config: str | os.PathLike | dict[str, Any], task: str | None) -> Any:
        return run(config, repo=self.repo, expected_task=task, trust_pickle=self.trust_pickle)

    def store(self, config):
        return self._run(config, "store")

    def search(self, config):
        return self._run(config, "search")

    def convert(self, config):
        return self._run(config, "convert")

    def infer(self, config):
        return self._run(config, "infer")

    def collaborate(self, config):
        return self._run(config, "collaborate")

    def optimize(self, config):
        return self._run(config, "optimize")

    def load_model(self, config):
        return self._run(config, "load_model").value

    def load_dataset(self, config):
        return self._run(config, "load_dataset").value

    def job(self, config):
        return self._run(config, "job")
