"""run: a YAML task config, rendered by the renderer of the verb it ran."""

from __future__ import annotations

import click

from .. import api
from ._common import emit, json_option
from .history_cmds import render_search
from .model_cmds import render_composed, render_convert, render_infer, render_optimized
from .workspace_cmds import render_add


@click.command("run")
@click.argument("config", metavar="TASK.yaml", type=click.Path(dir_okay=False))
@click.option("--trust-pickle", is_flag=True,
              help="Let the config load pickles or name a model_class (both run code): only for files you trust.")
@click.option("--container", is_flag=True,
              help="Run the models in the pinned runtime image under Podman (device.type: container).")
@json_option
def run_cmd(config, trust_pickle, container, as_json) -> None:
    """Run a task config: general (which task), device, task (its arguments), output.

    Tasks: store, search, convert, infer, collaborate, optimize, load_model,
    load_dataset, job (a command in the runtime image; its outputs stored with provenance). A typo, a wrong type or a missing key is an error naming the
    file, the line and the key. docs/tasks.md documents every key.

    \b
    Example (collaborate.yaml):
      general: {task: collaborate}
      device: {type: cpu, threads: 2}
      task: {first: encoder, second: decoder, map: {latent: z}, name: autoencoder, input: digits.npy}
      output: {path: out/reconstructed.npz}
    """
    result = api.run_task(config, trust_pickle=trust_pickle, container=container)
    emit(result, as_json, _render_task)


def _render_task(result) -> None:
    # here, not at the top: results.py (dataclasses, inspect) costs `hpcfair --help` about 7 ms
    from ..results import (AddResult, CollaborateResult, ConvertResult, DerivedResult, InferResult, JobResult,
                           LogResult)

    if isinstance(result, AddResult):
        render_add(result)
    elif isinstance(result, LogResult):
        render_search(result)
    elif isinstance(result, ConvertResult):
        render_convert(result)
    elif isinstance(result, InferResult):
        render_infer(result)
    elif isinstance(result, CollaborateResult):
        render_composed(result.composed)
        if result.inference:
            render_infer(result.inference)
    elif isinstance(result, DerivedResult):
        render_optimized(result)
    elif isinstance(result, JobResult):
        _render_job(result)
    else:
        doc = result.to_dict()
        click.echo(f"{doc.pop('task')}: {doc.pop('name')}")
        for key, value in doc.items():
            click.echo(f"  {key}: {value}")


def _render_job(result) -> None:
    click.echo(f"ran {' '.join(result.command)} in image {result.container.image[:12]} in {result.seconds:g} s")
    for line in result.log.splitlines()[-10:]:
        click.echo(f"  | {line}")
    if result.inputs:
        click.echo(f"  inputs: {', '.join(result.inputs)}")
    from ..results import AddResult

    render_add(AddResult(result.outputs))
