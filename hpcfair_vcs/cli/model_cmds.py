"""convert (and the conversion options that add shares)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from .. import api
from ._common import emit, human_size, json_option, key_value_pairs, short
from ._progress import progress_bar


def _key_values(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; values read as YAML scalars (numbers, booleans, strings)."""
    import yaml

    pairs: dict[str, Any] = key_value_pairs(values, "/".join(param.opts))
    for key, value in pairs.items():
        try:
            pairs[key] = yaml.safe_load(value) if value else ""
        except yaml.YAMLError:
            pass  # kept as the string it was
    return pairs


def conversion_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options every command that converts a model takes (defined once)."""
    options = [
        click.option("--framework", default="auto", show_default=True,
                     help="torch, tensorflow, sklearn, xgboost, lightgbm or onnx (default: from the file)."),
        click.option("--input", "inputs", multiple=True, metavar="NAME:SHAPE:DTYPE",
                     help="A model input, e.g. x:N,1,28,28:float32 (N: dynamic batch). Repeatable."),
        click.option("--output-name", "outputs", multiple=True, metavar="NAME",
                     help="A name for the ONNX model's next output, e.g. z (one per output, in order)."),
        click.option("--opset", type=click.IntRange(7, 30), help="ONNX opset (default 18, or convert.opset)."),
        click.option("--model-class", metavar="MODULE:CLASS",
                     help="The nn.Module class of a PyTorch state_dict (e.g. nets:Encoder), "
                          "or a subclassed Keras model's."),
        click.option("--model-arg", "model_args", multiple=True, metavar="KEY=VALUE", callback=_key_values,
                     help="A keyword argument for --model-class (repeatable)."),
        click.option("--trust-pickle", is_flag=True,
                     help="Allow loading pickles (they can run any code: only for files you trust)."),
        click.option("--trust-type", "trust_types", multiple=True, metavar="MODULE.TYPE",
                     help="Let a skops file build this type too, e.g. xgboost.core.Booster (repeatable)."),
        click.option("--param", "params", multiple=True, metavar="KEY=VALUE", callback=_key_values,
                     help="A hyper-parameter to record in the runtime snapshot (repeatable)."),
    ]
    return functools.reduce(lambda cmd, option: option(cmd), reversed(options), command)


@click.command("convert")
@click.argument("target", metavar="ARTIFACT|PATH")
@conversion_options
@click.option("--tolerance", type=float, help="Largest relative difference accepted (default 1e-4).")
@click.option("--sample", type=click.Path(dir_okay=False), help="A real input (.npy or .npz) to check parity on too.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Also write the ONNX file here.")
@click.option("--name", help="Name of the derived artifact (default: NAME.onnx).")
@json_option
def convert_cmd(target, framework, inputs, outputs, opset, model_class, model_args, trust_pickle, trust_types, params,
                tolerance, sample, output, name, as_json) -> None:
    """Convert a model to ONNX, check it gives the same numbers, and store it as NAME.onnx.

    ARTIFACT is NAME[@VERSION|@TAG] or a PID; a PATH that is not tracked yet is
    added first. Asking again for the same conversion answers from the cache.

    \b
    Examples:
      hpcfair convert encoder --input x:N,1,28,28:float32 --output-name z
      hpcfair convert models/decoder.keras -o out/decoder.onnx
      hpcfair convert weights.pt --model-class nets:Encoder --model-arg latent=16 --input x:N,1,8,8
    """
    with progress_bar(as_json) as progress:
        result = api.convert(target, output=output, name=name, framework=framework, inputs=inputs, outputs=outputs,
                             opset=opset, model_class=model_class, model_args=model_args, trust_pickle=trust_pickle,
                             trust_types=trust_types, tolerance=tolerance, sample=sample, params=params,
                             progress=progress)
    emit(result, as_json, render_convert)


def render_convert(r) -> None:
    if r.converter == "onnx":
        click.echo(f"{r.source} is a valid ONNX model ({human_size(r.size)})")
    else:
        how = "found in the conversion cache" if r.cached else f"converted from {r.framework}"
        click.echo(f"{r.source} -> {r.artifact} v{r.version} ({human_size(r.size)}, {how}) {short(r.pid)}")
        click.echo(f"  parity: {parity_line(r.parity)}")
    click.echo(f"  inputs:  {signature_line(r.signature.inputs)}")
    click.echo(f"  outputs: {signature_line(r.signature.outputs)}")
    if r.output:
        click.echo(f"  written to {r.output}")


def parity_line(parity) -> str:
    """A results.Parity (or None) on one line; a weak proof says so, with what to do."""
    if parity is None:
        return "-"
    line = (f"max abs {parity.max_abs:.3g}, max rel {parity.max_rel:.3g} "
            f"(tolerance {parity.tolerance:g}; inputs: {', '.join(parity.inputs)})")
    if parity.weak:
        line += (" -- WEAK: every output was the same for every seeded input, so these numbers prove nothing "
                 "(hint: check it on a real input with --sample FILE.npy)")
    return line


def signature_line(tensors) -> str:
    """results.TensorInfo items on one line."""
    return ", ".join(f"{t.name}[{','.join(str(d) for d in t.shape)}] {t.dtype}" for t in tensors) or "-"


def container_options(command):
    """--container, --image, --memory, --gpus: running in the pinned runtime image (docs/containers.md)."""
    for option in reversed([
        click.option("--container", is_flag=True, help="Run inside the runtime image under Podman "
                     "(no network, read-only inputs, non-root)."),
        click.option("--image", metavar="ID|NAME", help="The runtime image (default: container.image, else the "
                     "one `hpcfair image build` made for this host); implies --container."),
        click.option("--memory", metavar="SIZE", help="The container's memory limit, e.g. 2g (default: "
                     "container.memory, 4g)."),
        click.option("--gpus", metavar="all|0,1", help="NVIDIA GPUs passed in through CDI; implies --container."),
    ]):
        command = option(command)
    return command


@click.command("infer")
@click.argument("target", metavar="ARTIFACT|PID|PATH")
@click.option("--input", "input_", required=True, metavar="FILE|FOLDER|DATASET",
              help="Arrays to run on: .npy, .npz (one per input name), .csv, .json or .parquet; a folder of "
                   ".npy/.npz/.csv/.parquet files (run in path order); or a dataset artifact.")
@click.option("--output", "-o", type=click.Path(dir_okay=False),
              help="Write outputs here (.npz, .npy, .csv or .json); default: a summary on the terminal.")
@click.option("--device", type=click.Choice(["cpu", "cuda", "auto"]), default="cpu", show_default=True,
              help="auto: CUDA when onnxruntime-gpu can use it, else the CPU with a warning.")
@click.option("--batch-size", type=click.IntRange(1), help="Rows per onnxruntime call (default 1024).")
@click.option("--threads", type=click.IntRange(1), help="onnxruntime intra-op threads.")
@click.option("--add", "add_as", metavar="NAME", help="Store the --output file as a version of dataset NAME, its "
              "provenance naming the model, the input and (with --container) the image.")
@container_options
@click.option("--scheduler", metavar="local[:N]|slurm[:JOBS]|pbs[:JOBS]|tcp://HOST:PORT",
              help="Spread the input's chunks over a Dask cluster; the --output is then added as a dataset "
                   "(docs/scaleout.md).")
@click.option("--workers", type=click.IntRange(1), help="With --scheduler local: worker processes; slurm/pbs: jobs "
              "(default: scheduler.workers / scheduler.jobs).")
@click.option("--chunk-rows", type=click.IntRange(1), help="Rows per chunk of a .npy file, rounded up to whole "
              "batches (default: scheduler.chunk_rows, 16384).")
@click.option("--remote", "-r", "remote", metavar="NAME", help="With --scheduler: the workers read the model and "
              "data from this remote (checked against their sha256), for workers that do not share the store.")
@json_option
def infer_cmd(target, input_, output, device, batch_size, threads, add_as, container, image, memory, gpus,
              scheduler, workers, chunk_rows, remote, as_json) -> None:
    """Run a model (its ONNX form, with onnxruntime) on input arrays.

    Inputs are checked against the model's signature (names, dtypes, shapes)
    first; nothing is written to --output unless the whole run succeeds.

    \b
    Examples:
      hpcfair infer encoder --input digits.npy --output codes.npz
      hpcfair infer classifier.onnx --input data/test.csv
      hpcfair infer composed --input sample.npz --device auto --batch-size 256
      hpcfair infer encoder --input digits.npy -o codes.npz --container   # in the pinned runtime image
      hpcfair infer encoder --input survey -o data/codes.npy --scheduler local:2 --add codes
      hpcfair infer encoder --input survey -o data/codes.npy --scheduler slurm:16
    """
    import warnings

    with warnings.catch_warnings(record=True) as caught, progress_bar(as_json) as progress:
        warnings.simplefilter("always", RuntimeWarning)
        result = api.infer(target, input=input_, output=output, device=device, batch_size=batch_size,
                           threads=threads, progress=progress, container=container or bool(image or gpus),
                           image=image, memory=memory, gpus=gpus, add_as=add_as, scheduler=scheduler,
                           workers=workers, chunk_rows=chunk_rows, remote=remote)
    for warning in caught:
        click.echo(f"hpcfair: warning: {warning.message}", err=True)
    emit(result, as_json, render_infer)


def render_infer(r) -> None:
    from ..runtime.arrays import summary

    rows = f"{r.rows} rows" if r.rows else "one sample"
    click.echo(f"ran {r.model} ({short(r.pid)}) on {r.input}: {rows}, {r.device}")
    if r.scale:
        s = r.scale
        click.echo(f"  on {s.scheduler}: {s.workers} workers, {s.chunks} chunks of up to {s.chunk_rows} rows from "
                   f"{s.shards} file{'s' if s.shards > 1 else ''}, {s.seconds:.1f} s")
    if r.container:
        click.echo(f"  in image {r.container.image[:12]} ({r.container.image_name}): {r.container.python}, "
                   + ", ".join(f"{k} {v}" for k, v in sorted(r.container.packages.items())))
    if r.output:
        click.echo(f"wrote {', '.join(r.outputs)} to {r.output}")
        if r.added:
            click.echo(f"added {r.added.path} as {r.added.artifact} v{r.added.version} {short(r.added.pid)}")
    else:
        for line in summary(list(r.arrays), list(r.arrays.values())):
            click.echo(line)


@click.command("compose")
@click.argument("first", metavar="FIRST")
@click.argument("second", metavar="SECOND")
@click.option("--map", "maps", multiple=True, required=True, metavar="OUT:IN",
              help="An output of FIRST that feeds an input of SECOND (repeatable).")
@click.option("--name", required=True, help="Name of the composed model artifact.")
@click.option("--description", help="What the composed model does.")
@json_option
def compose_cmd(first, second, maps, name, description, as_json) -> None:
    """Join two models into one ONNX graph (model collaboration), e.g. a PyTorch encoder and a Keras decoder.

    FIRST and SECOND are artifacts or PIDs in any framework: their ONNX forms are
    joined (converted first if needed). The result is checked against running
    the two one after the other, and stored as NAME with both as its sources.

    \b
    Example:
      hpcfair compose encoder decoder --map latent:z --name autoencoder
    """
    result = api.compose(first, second, maps=maps, name=name, description=description)
    emit(result, as_json, render_composed)


def _render_derived(verb: str, r) -> None:
    """The lines every model made from others starts with."""
    click.echo(f"{verb} {r.artifact} v{r.version} ({human_size(r.size)}) {short(r.pid)}")
    click.echo(f"  from: {', '.join(short(p) for p in r.sources)}")
    click.echo(f"  inputs:  {signature_line(r.signature.inputs)}")
    click.echo(f"  outputs: {signature_line(r.signature.outputs)}")


def render_composed(r) -> None:
    _render_derived("composed", r)
    click.echo(f"  vs_sequential: {_difference_line(r.checks['vs_sequential'])}")


def _difference_line(value: dict[str, Any]) -> str:
    return f"max abs {value['max_abs']:.3g}, max rel {value['max_rel']:.3g}"


@click.command("optimize")
@click.argument("target", metavar="ARTIFACT|PID")
@click.option("--quantize", type=click.Choice(["dynamic-int8"]), help="Quantize weights to int8 (dynamic).")
@click.option("--graph-opt", is_flag=True,
              help="onnxruntime's offline graph optimization (extended level: runs in onnxruntime only).")
@click.option("--name", help="Name of the optimized artifact (default: NAME-int8, NAME-opt or NAME-int8-opt).")
@json_option
def optimize_cmd(target, quantize, graph_opt, name, as_json) -> None:
    """Store a quantized and/or graph-optimized form of a model, with its size and output difference.

    \b
    Examples:
      hpcfair optimize encoder --quantize dynamic-int8
      hpcfair optimize autoencoder --graph-opt --name autoencoder-fast
    """
    result = api.optimize(target, quantize=quantize, graph_opt=graph_opt, name=name)
    emit(result, as_json, render_optimized)


def render_optimized(r) -> None:
    _render_derived("optimized", r)
    before, after = r.checks["size_before"], r.checks["size_after"]
    click.echo(f"  size: {human_size(before)} -> {human_size(after)} ({after / before:.0%})")
    click.echo(f"  vs the float model: {_difference_line(r.checks['vs_float'])}")
