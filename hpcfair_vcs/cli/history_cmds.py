"""log, show, tag, search, lineage: reading, labelling, finding versions and tracing where they came from."""

from __future__ import annotations

import json

import click

from .. import api
from .model_cmds import parity_line, signature_line
from ._common import emit, human_size, json_option, remote_option, short


@click.command("log")
@click.argument("artifact", required=False)
@json_option
def log_cmd(artifact, as_json) -> None:
    """List versions, newest first (of ARTIFACT, or of every artifact).

    \b
    Example:
      hpcfair log encoder
    """
    emit(api.log(artifact), as_json, _render_log)


def _render_log(result) -> None:
    if not result.versions:
        click.echo("no versions yet: hpcfair add PATH")
    for v in result.versions:
        tags = f"  ({', '.join(v.tags)})" if v.tags else ""
        click.echo(f"{v.artifact} v{v.number}  {short(v.pid)}  {v.created}  {human_size(v.size)}{tags}")


@click.command("show")
@click.argument("spec", metavar="ARTIFACT[@VERSION]|PID")
@json_option
def show_cmd(spec, as_json) -> None:
    """Describe one version: by name, NAME@3, NAME@TAG, or PID.

    \b
    Examples:
      hpcfair show encoder
      hpcfair show encoder@prod
      hpcfair show hpcfair:5f0c1a2b3c4d
    """
    emit(api.show(spec), as_json, _render_show)


def _render_show(v) -> None:
    rows = [("artifact", v.artifact), ("version", str(v.number)), ("pid", v.pid), ("kind", v.kind),
            ("path", v.path), ("size", human_size(v.size)), ("files", str(v.nfiles)), ("oid", v.oid),
            ("created", v.created), ("parent", v.parent or "-"), ("tags", ", ".join(v.tags) or "-"),
            ("stored here", "yes" if v.stored else "no (hpcfair pull)")]
    from ..results import SignatureInfo

    metadata = dict(v.metadata)
    signature = metadata.pop("signature", None)
    rows += [(key, _shown(val)) for key, val in metadata.items()]
    if signature:
        typed = SignatureInfo.from_dict(signature)
        rows += [("inputs", signature_line(typed.inputs)), ("outputs", signature_line(typed.outputs))]
    rows += [("onnx form" if d.artifact.endswith(".onnx") else "derived", f"{d.artifact} v{d.version} "
              f"{short(d.pid)}") for d in v.derived]
    rows += _provenance_rows(v.provenance)
    for key, value in rows:
        click.echo(f"{key + ':':<18}{value}")


def _shown(value) -> str:
    """A metadata or parameter value on one line: a list joined, a mapping as key=value pairs, deeper as JSON."""
    if isinstance(value, list):
        return ", ".join(v if isinstance(v, str) else json.dumps(v, sort_keys=True) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v if isinstance(v, str) else json.dumps(v, sort_keys=True)}" for k, v in value.items())
    return str(value)


def _provenance_rows(p) -> list[tuple[str, str]]:
    """A results.ProvenanceInfo (or None) as rows; its tool, results and parameters are mappings."""
    from ..results import Parity

    if p is None:
        return []
    tool = p.generated_by
    how = (f"{tool['converter']} converter v{tool.get('converter_version', '?')}" if "converter" in tool
           else f"{tool.get('tool', 'hpcfair')} {tool.get('version', '')}".strip())
    rows = [("made by", f"{p.activity} ({how})"),
            ("from", ", ".join(p.derived_from)),
            ("packages", ", ".join(f"{k} {v}" for k, v in sorted(tool.get("packages", {}).items())) or "-")]
    for key, value in p.results.items():
        if isinstance(value, dict) and "max_abs" in value:
            parity = Parity.from_dict(value) if "tolerance" in value else None
            rows.append((key.replace("_", " "), parity_line(parity) if parity else
                         f"max abs {value['max_abs']:.3g}, max rel {value['max_rel']:.3g}"))
        elif not isinstance(value, dict):
            rows.append((key.replace("_", " "), str(value)))
    params = {k: v for k, v in p.parameters.items() if v not in (None, [], {}, False)}
    rows.append(("parameters", _shown(dict(sorted(params.items()))) or "-"))
    runtime = p.runtime
    if runtime:
        hw = runtime.hardware
        rows.append(("runtime", f"{runtime.python}, {runtime.platform['system']} "
                     f"{runtime.platform['machine']}, {hw['cpus']} x {hw['cpu']}"
                     + (f", GPUs: {', '.join(hw['gpus'])}" if hw["gpus"] else ", no GPU")))
        if runtime.platform.get("container_image"):
            rows.append(("image", f"{runtime.platform['container_image']} ({runtime.platform.get('image_name') or '-'})"))
        if runtime.hyperparameters:
            rows.append(("hyperparams", ", ".join(f"{k}={v}" for k, v in runtime.hyperparameters.items())))
    return rows


@click.command("tag")
@click.argument("spec", metavar="ARTIFACT[@VERSION]")
@click.argument("tag")
@click.option("--delete", is_flag=True, help="Remove the tag instead.")
@json_option
def tag_cmd(spec, tag, delete, as_json) -> None:
    """Label a version (default: the newest); an existing tag moves to it.

    \b
    Examples:
      hpcfair tag encoder@2 prod
      hpcfair tag --delete encoder prod
    """
    emit(api.tag(spec, tag, delete=delete), as_json, _render_tag)


def _render_tag(r) -> None:
    if r.deleted:
        click.echo(f"deleted tag {r.tag} of {r.artifact} (was on v{r.version})")
    else:
        moved = f" (moved from v{r.moved_from})" if r.moved_from else ""
        click.echo(f"tagged {r.artifact} v{r.version} as {r.tag}{moved}")


@click.command("search")
@click.argument("query", required=False)
@click.option("--tag", "tags", multiple=True, help="Only artifacts with this tag (repeatable).")
@click.option("--kind", type=click.Choice(["model", "dataset"]))
@click.option("--framework", help="Only models of this framework (torch, tensorflow, sklearn, onnx).")
@click.option("--task", help="Only artifacts of this task (metadata).")
@click.option("--license", "license_id", metavar="SPDX-ID", help="Only artifacts whose license names this id.")
@click.option("--author", help="Only artifacts by this author (a name or an ORCID iD).")
@click.option("--limit", type=click.IntRange(min=0), default=100, show_default=True, help="Show at most this many (0: all).")
@remote_option("Fetch this remote's records first and find only what it holds (pulled or not).")
@json_option
def search_cmd(query, tags, kind, framework, task, license_id, author, limit, remote, as_json) -> None:
    """Find artifacts, best match first: every word of QUERY must begin a word of the name, path, description,
    tags, authors, license, task or domain.

    \b
    Examples:
      hpcfair search mnist --kind model
      hpcfair search "image classification" --tag prod --license MIT
      hpcfair search --author 0000-0002-1825-0097 --remote origin
    """
    result = api.search(query, tags=tags, kind=kind, framework=framework, task=task, license=license_id,
                        author=author, remote=remote, limit=limit or None)
    emit(result, as_json, render_search)


def render_search(result) -> None:
    if not result.versions:
        click.echo("no match")
    elif result.total > len(result.versions):
        click.echo(f"{result.total} matches; the best {len(result.versions)} (--limit 0 shows all):")
    for v in result.versions:
        where = "" if v.stored else "  (not pulled)"
        desc = f"  {v.metadata['description']}" if v.metadata.get("description") else ""
        click.echo(f"{v.artifact} v{v.number}  {v.kind}  {short(v.pid)}  {v.path}{desc}{where}")


@click.command("lineage")
@click.argument("spec", metavar="ARTIFACT[@VERSION]|PID")
@click.option("--depth", type=click.IntRange(min=0), help="Steps back to walk (default: all).")
@click.option("--dot", "as_dot", is_flag=True, help="Graphviz instead of the tree (hpcfair lineage X --dot | dot -Tsvg).")
@click.option("--prov", "as_prov", is_flag=True, help="PROV-JSON (W3C) instead of the tree.")
@json_option
def lineage_cmd(spec, depth, as_dot, as_prov, as_json) -> None:
    """Where a version came from: revisions, the activities that derived it (tool, parameters, runtime) and
    their sources, its training dataset, as a W3C PROV graph.

    \b
    Examples:
      hpcfair lineage autoencoder
      hpcfair lineage clf.onnx@2 --depth 2
      hpcfair lineage clf --prov > clf.prov.json
    """
    if sum((as_dot, as_prov, as_json)) > 1:
        raise click.UsageError("give one of --json, --dot, --prov")
    result = api.lineage(spec, depth=depth)
    if as_dot or as_prov:
        text = api.lineage_dot(result) if as_dot else json.dumps(api.lineage_prov(result), indent=2, sort_keys=True)
        click.echo(text)
        return
    emit(result, as_json, render_lineage)


def render_lineage(result) -> None:
    nodes = {node.id: node for node in result.nodes}
    back: dict[str, list] = {}
    for edge in result.edges:
        if edge.relation != "used":  # an activity's sources are drawn under the entity it made
            back.setdefault(edge.source, []).append(edge)
    words = {"wasRevisionOf": "revision of", "wasGeneratedBy": "made by", "wasDerivedFrom": "from"}
    drawn: set[str] = set()

    def draw(node_id: str, prefix: str, last: bool, how: str, top: bool = False) -> None:
        node = nodes.get(node_id)
        label = node.label if node else node_id
        ident = f"  {short(node_id)}" if node and node.type == "entity" else ""
        again = node_id in drawn
        line = f"{label}{ident}" + ("  (see above)" if again else "")
        click.echo(line if top else f"{prefix}{'└─ ' if last else '├─ '}{how}{line}")
        if again:
            return
        drawn.add(node_id)
        children = [e for e in back.get(node_id, []) if not (e.relation == "wasDerivedFrom" and not e.role
                                                              and any(b.relation == "wasGeneratedBy"
                                                                      for b in back.get(node_id, [])))]
        if node and node.type == "activity":
            children = [e for e in result.edges if e.relation == "used" and e.source == node_id]
        inner = "" if top else prefix + ("   " if last else "│  ")
        for i, edge in enumerate(children):
            how = "trained on " if edge.role == "training" else words.get(edge.relation, "used ")
            draw(edge.target, inner, i == len(children) - 1, how + (" " if not how.endswith(" ") else ""))

    draw(result.root, "", True, "", top=True)
    if result.truncated:
        click.echo("(--depth stopped here; more lies further back)")
