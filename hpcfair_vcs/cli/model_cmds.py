"""convert (and the conversion options that add shares)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from .. import api
from ._common import emit, human_size, json_option, short


def _key_values(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; values read as YAML scalars (numbers, booleans, strings)."""
    import yaml

    pairs: dict[str, Any] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param=param)
        try:
            pairs[key] = yaml.safe_load(value) if value else ""
        except yaml.YAMLError:
            pairs[key] = value
    return pairs


def conversion_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options every command that converts a model takes (defined once)."""
    options = [
        click.option("--framework", default="auto", show_default=True,
                     help="torch, tensorflow, sklearn or onnx (default: from the file)."),
        click.option("--input", "inputs", multiple=True, metavar="NAME:SHAPE:DTYPE",
                     help="A model input, e.g. x:N,1,28,28:float32 (N: dynamic batch). Repeatable."),
        click.option("--opset", type=click.IntRange(7, 30), help="ONNX opset (default 18, or convert.opset)."),
        click.option("--model-class", metavar="MODULE:CLASS",
                     help="The nn.Module class for a PyTorch state_dict, e.g. nets:Encoder."),
        click.option("--model-arg", "model_args", multiple=True, metavar="KEY=VALUE", callback=_key_values,
                     help="A keyword argument for --model-class (repeatable)."),
        click.option("--trust-pickle", is_flag=True,
                     help="Allow loading pickles (they can run any code: only for files you trust)."),
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
def convert_cmd(target, framework, inputs, opset, model_class, model_args, trust_pickle, params, tolerance,
                sample, output, name, as_json) -> None:
    """Convert a model to ONNX, check it gives the same numbers, and store it as NAME.onnx.

    ARTIFACT is NAME[@VERSION|@TAG] or a PID; a PATH that is not tracked yet is
    added first. Asking again for the same conversion answers from the cache.

    \b
    Examples:
      hpcfair convert encoder --input x:N,1,28,28:float32
      hpcfair convert models/decoder.keras -o out/decoder.onnx
      hpcfair convert weights.pt --model-class nets:Encoder --model-arg latent=16 --input x:N,1,8,8
    """
    result = api.convert(target, output=output, name=name, framework=framework, inputs=inputs, opset=opset,
                         model_class=model_class, model_args=model_args, trust_pickle=trust_pickle,
                         tolerance=tolerance, sample=sample, params=params)
    emit(result, as_json, _render_convert)


def _render_convert(r) -> None:
    if r.converter == "onnx":
        click.echo(f"{r.source} is a valid ONNX model ({human_size(r.size)})")
    else:
        how = "found in the conversion cache" if r.cached else f"converted from {r.framework}"
        click.echo(f"{r.source} -> {r.artifact} v{r.version} ({human_size(r.size)}, {how}) {short(r.pid)}")
        click.echo(f"  parity: {parity_line(r.parity)}")
    click.echo(f"  inputs:  {signature_line(r.signature.get('inputs', []))}")
    click.echo(f"  outputs: {signature_line(r.signature.get('outputs', []))}")
    if r.output:
        click.echo(f"  written to {r.output}")


def parity_line(parity: dict[str, Any]) -> str:
    if not parity:
        return "-"
    return (f"max abs {parity['max_abs']:.3g}, max rel {parity['max_rel']:.3g} "
            f"(tolerance {parity['tolerance']:g}; inputs: {', '.join(parity.get('inputs', []))})")


def signature_line(tensors: list[dict[str, Any]]) -> str:
    return ", ".join(f"{t['name']}[{','.join(str(d) for d in t['shape'])}] {t['dtype']}" for t in tensors) or "-"
