"""A model card: README.md with YAML front matter in the Hugging Face style, and the card's text."""

from __future__ import annotations

import html
import json

from ..metadata.schema import split_author
from . import Subject


def model_card(subject: Subject) -> str:
    """The README.md text. Front matter through a YAML serialiser; prose with HTML and Markdown escaped."""
    import yaml

    meta = subject.metadata
    front: dict = {"library_name": "onnx" if subject.onnx else meta.get("framework") or None,
                   "license": _hf_license(meta.get("license", "")), "tags": list(meta.get("tags", [])) or None,
                   "pipeline_tag": meta.get("task") or None,
                   "datasets": [meta["training_dataset"]] if meta.get("training_dataset") else None}
    if meta.get("metrics"):
        front["model-index"] = [{"name": subject.name, "results": [{
            "task": {"type": meta.get("task") or "other"},
            "dataset": {"name": meta.get("training_dataset") or "unknown", "type": meta.get("training_dataset") or "unknown"},
            "metrics": [{"name": name, "type": name, "value": value} for name, value in meta["metrics"].items()]}]}]
    front = {k: v for k, v in front.items() if v}
    lines = ["---", yaml.safe_dump(front, sort_keys=False, allow_unicode=True).rstrip(), "---", "",
             f"# {_text(subject.name)} v{subject.version}", ""]
    lines += [_text(meta["description"]), ""] if meta.get("description") else []
    rows = [("Persistent identifier", subject.pid), ("Kind", subject.kind), ("Framework", meta.get("framework")),
            ("Task", meta.get("task")), ("Domain", meta.get("domain")), ("License", meta.get("license")),
            ("Training data", meta.get("training_dataset")), ("ONNX form", subject.onnx_pid)]
    lines += ["| | |", "| --- | --- |"] + [f"| {k} | {_cell(v)} |" for k, v in rows if v] + [""]
    if subject.kind == "model":
        lines += _usage(subject)
    if meta.get("signature"):
        lines += ["## Inputs and outputs", ""]
        for side in ("inputs", "outputs"):
            for tensor in meta["signature"].get(side, []):
                shape = ", ".join(str(d) for d in tensor.get("shape", []))
                lines.append(f"- {side[:-1]} `{_code(tensor['name'])}`: [{_text(shape)}] {_text(tensor.get('dtype', ''))}")
        lines.append("")
    if meta.get("metrics"):
        lines += ["## Metrics", "", "| metric | value |", "| --- | --- |"]
        lines += [f"| {_cell(name)} | {value} |" for name, value in meta["metrics"].items()] + [""]
    if meta.get("authors"):
        lines += ["## Authors", ""]
        for text in meta["authors"]:
            name, orcid = split_author(text)
            lines.append(f"- {_text(name)}" + (f" (https://orcid.org/{orcid})" if orcid else ""))
        lines.append("")
    if meta.get("citation"):
        lines += ["## Citation", "", _text(meta["citation"]), ""]
    if meta.get("funding"):
        lines += ["## Funding", ""] + [f"- {_text(grant)}" for grant in meta["funding"]] + [""]
    lines += [f"Written by {subject.tool} from the version's metadata."]
    return "\n".join(lines) + "\n"


def _usage(subject: Subject) -> list[str]:
    """How to get and run the model: hpcfair by PID, and onnxruntime on the exported ONNX file."""
    inputs = (subject.metadata.get("signature") or {}).get("inputs") or [{"name": "x"}]
    feeds = ", ".join(f"{json.dumps(_code(t['name']))}: array" for t in inputs)
    lines = ["## How to use", "", "```bash",
             f"hpcfair pull {subject.pid}  # the bytes, checked by sha256, from a remote holding them",
             f"hpcfair infer {subject.pid} --input inputs.npz -o outputs.npz  # --container: in the pinned image",
             "```", "", "```python", "from hpcfair_vcs import load_model", "",
             f"outputs = load_model({json.dumps(subject.pid)}).run({{{feeds}}})", "```", ""]
    if subject.onnx is not None:
        lines[-1:-1] = ["", "Without hpcfair, the ONNX file beside this card runs in onnxruntime:", "", "```python",
                        "import onnxruntime", "",
                        f"session = onnxruntime.InferenceSession({json.dumps(_code(subject.onnx.path))})",
                        f"outputs = session.run(None, {{{feeds}}})", "```"]
    return lines


def _hf_license(expression: str) -> str | None:
    """Hugging Face takes one lower-case id; an expression becomes 'other'."""
    if not expression:
        return None
    return expression.lower() if " " not in expression and not expression.startswith("LicenseRef-") else "other"


def _text(value: str) -> str:
    """Prose that renders as itself: HTML escaped, and the Markdown characters that start syntax."""
    escaped = html.escape(str(value), quote=False)
    for char in "\\`*_[]#|!":
        escaped = escaped.replace(char, "\\" + char)
    return escaped


def _cell(value) -> str:
    return _text(str(value)).replace("\n", " ")


def _code(value: str) -> str:
    return str(value).replace("`", "'")
