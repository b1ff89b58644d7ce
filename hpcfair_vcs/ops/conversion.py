"""Conversion to ONNX inside a repository: a stored model's ONNX form, as a derived artifact.

The source version's bytes are linked into a scratch folder under its
original file name, the converter the file calls for runs there, and the
ONNX file is stored as a version of ``NAME.onnx`` whose provenance names the
source version, the converter and its version, the opset, the parameters, the
parity numbers and a runtime snapshot. Conversions are cached by (source
object, converter and its version, exporter package versions, parameters):
asking again imports no framework and runs nothing. ``add`` converts through
here; the ``convert`` verb (ops/convert.py) also adds an untracked path first.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..fileio.files import atomic_write
from ..convert import registry
from ..convert.base import Conversion, ConvertOptions, Converter, Step
from ..onnx_io.signature import Signature, TensorSpec, parse_output_name, parse_tensor
from ..errors import (HpcfairError, MissingDependencyError, ParityError, UsageError)
from ..worktree.materialize import place_object
from ..progress import SILENT, Progress
from ..storage.records import MetadataRecord, ProvenanceRecord, VersionRecord, canonical_bytes, pid_of
from ..repo import Repo
from ..results import AddedItem, ConversionOutcome, ConvertResult, Parity, SignatureInfo
from ..runtime.arrays import read_arrays
from ..storage.tree import is_tree
from .derived import NewVersion, derived_forms, is_derived_form, derived_name, derived_path, record_version, scratch_dir
from .resolve import Resolved, require_model, resolve

SUFFIX = ".onnx"
CACHE_DIR = "cache/conversions"


@dataclass
class ConvertRequest:
    """Everything a user can say about a conversion; None means "the configured default"."""

    framework: str = "auto"
    opset: int | None = None
    inputs: Sequence[str] = ()  # NAME:SHAPE:DTYPE
    outputs: Sequence[str] = ()  # names for the ONNX outputs, in order
    model_class: str | None = None
    model_args: Mapping[str, Any] = field(default_factory=dict)
    trust_pickle: bool = False
    trust_types: Sequence[str] = ()  # types a skops file may build beyond the trusted list (sklearn.py)
    tolerance: float | None = None
    sample: str | os.PathLike | None = None  # .npy / .npz with a real input
    params: Mapping[str, Any] = field(default_factory=dict)  # hyper-parameters for the runtime record

    def options(self, settings: dict[str, Any]) -> ConvertOptions:
        return ConvertOptions(
            opset=int(self.opset or settings["opset"]), inputs=[parse_tensor(t) for t in self.inputs],
            outputs=[parse_output_name(n) for n in self.outputs],
            model_class=self.model_class, model_args=dict(self.model_args), trust_pickle=self.trust_pickle,
            trust_types=sorted({*self.trust_types, *settings["trust_types"]}),
            tolerance=float(self.tolerance if self.tolerance is not None else settings["tolerance"]),
            sample=read_arrays(Path(self.sample)) if self.sample else None)


def convert_version(r: Repo, source: Resolved, request: ConvertRequest, name: str | None = None,
                    progress: Progress = SILENT) -> ConvertResult:
    """The ONNX form of one stored version (from the cache when it was made before)."""
    require_model(source, "only models are converted", hint="add it with --kind model if it is a model")
    options = request.options(r.config["convert"])
    with scratch_dir(r) as scratch:
        local = _link_source(r, source.record, scratch)
        converter = converter_for(local, request.framework)
        steps = step_reporter(progress, _label(source))
        if converter.name == "onnx":
            return _validate_onnx(r, source, converter, local, options, steps)
        if not options.inputs and not converter.declares_inputs(local):
            options.inputs = _recorded_inputs(r, source)  # what an earlier conversion was told
        target = name or derived_name(source.record.artifact, SUFFIX)
        options.outputs = options.outputs or _recorded_outputs(r, target)
        key = _cache_key(source.record.oid, converter, options)
        cached = _from_cache(r, key, options)
        if cached is not None:
            return _result(r, source, converter, *cached, cached=True)
        out = scratch / f"{Path(source.record.path).stem or 'model'}{SUFFIX}"
        conversion = converter.convert(local, out, options, steps)
        steps("storing the ONNX form")
        with r.lock:
            ref, version_id = _store(r, source, converter, conversion, request, target, options.trust_types)
            _update_source_metadata(r, source, converter.name, conversion.signature)
        _remember(r, key, version_id)
    return _result(r, source, converter, ref.name, version_id, cached=False)


def convert_added(r: Repo, items: list[AddedItem], request: ConvertRequest, progress: Progress = SILENT) -> None:
    """Convert each newly added model; record the outcome on the item (never raise for one model)."""
    for item in items:
        if item.kind != "model":
            continue
        try:
            source = resolve(r, f"{item.artifact}@{item.version}")
            converted = convert_version(r, source, request, progress=progress)
            status = "validated" if converted.converter == "onnx" else "converted"
            item.conversion = ConversionOutcome(status, converted)
        except (MissingDependencyError, UsageError) as exc:  # nothing wrong with the model: say how to convert
            item.conversion = ConversionOutcome("skipped", message=exc.message, hint=exc.hint)
        except HpcfairError as exc:
            item.conversion = ConversionOutcome("failed", message=exc.message, hint=exc.hint,
                                                error=type(exc).__name__, exit_code=exc.exit_code,
                                                about=dict(exc.fields))


def onnx_version(r: Repo, source: Resolved, progress: Progress = SILENT) -> str:
    """The version id of *source*'s ONNX form: itself when it is ONNX, else its (cached) conversion."""
    if is_onnx(r, source):
        return source.version_id
    found = onnx_form(r, source)
    if found:
        return found[1]
    return (convert_version(r, source, ConvertRequest(), progress=progress).pid or "").removeprefix("hpcfair:")


def is_onnx(r: Repo, source: Resolved) -> bool:
    """An ONNX file: added as one, or derived (converted, composed, optimized)."""
    if source.record.path.endswith(SUFFIX) or is_derived_form(r, source.record):
        return True
    ref = source.ref
    return bool(ref and ref.metadata and r.records.get(ref.metadata, MetadataRecord).framework == "onnx")


def onnx_form(r: Repo, source: Resolved) -> tuple[str, str] | None:
    """(artifact, version id) of the stored ONNX form of *source*, or None."""
    forms = derived_forms(r, source.record.oid, activity="convert")
    return (forms[0][0].name, forms[0][1]) if forms else None


def converter_for(path: Path, framework: str) -> Converter:
    converter = registry.detect(path, framework)
    if converter is None:
        raise UsageError(f"no converter recognises {path.name}",
                         hint="name the framework with --framework torch|tensorflow|sklearn|onnx")
    return converter


def _link_source(r: Repo, record: VersionRecord, scratch: Path) -> Path:
    """The source's bytes under its own file name (loaders look at suffixes), linked, not copied."""
    local = scratch / (Path(record.path).name or "model")
    links = ["hardlink", "copy"]
    if not is_tree(record.oid):
        place_object(r.store, record.oid, local, links)
        return local
    for relpath, oid in r.store.read_tree(record.oid).items():
        place_object(r.store, oid, local / relpath, links)
    return local


def _validate_onnx(r: Repo, source: Resolved, converter: Converter, local: Path,
                   options: ConvertOptions, steps: Step) -> ConvertResult:
    if options.outputs:
        raise UsageError(f"{_label(source)} is an ONNX file already: it keeps the output names it has",
                         hint="--output-name names the outputs of a conversion; compose maps any names (--map OUT:IN)")
    conversion = converter.convert(local, local.with_name("checked.onnx"), options, steps)
    with r.lock:
        _update_source_metadata(r, source, "onnx", conversion.signature)
    return ConvertResult(source=_label(source), source_pid=pid_of(source.version_id), framework="onnx",
                         converter="onnx", converter_version=converter.version, artifact=source.record.artifact,
                         version=source.number, pid=pid_of(source.version_id), oid=source.record.oid,
                         size=source.record.object["size"],
                         signature=SignatureInfo.from_dict(conversion.signature.to_dict()), parity=None)


def _recorded_inputs(r: Repo, source: Resolved) -> list[TensorSpec]:
    ref = source.ref
    if ref is None or not ref.metadata:
        return []
    signature = r.records.get(ref.metadata, MetadataRecord).signature
    return Signature.from_dict(signature).inputs if signature else []


def _recorded_outputs(r: Repo, target: str) -> list[str]:
    """The output names the last conversion into *target* was given, so that a retrained model keeps them."""
    try:
        version = r.records.get(r.refs.get(target).versions[-1], VersionRecord)
        if not version.provenance:
            return []
        names = r.records.get(version.provenance, ProvenanceRecord).parameters.get("outputs") or []
        return [parse_output_name(n) for n in names]  # records may come from a remote: checked like the CLI's
    except (HpcfairError, IndexError, TypeError, AttributeError):
        return []


def _cache_key(source_oid: str, converter: Converter, options: ConvertOptions) -> str:
    parts = {"source": source_oid, **converter.cache_identity(), **options.cache_parameters()}
    if options.sample is not None:
        parts["sample"] = {k: hashlib.sha256(v.tobytes()).hexdigest() for k, v in sorted(options.sample.items())}
    return hashlib.sha256(canonical_bytes(parts)).hexdigest()


def _from_cache(r: Repo, key: str, options: ConvertOptions) -> tuple[str, str] | None:
    """(artifact, version id) when this exact conversion is stored and still meets the tolerance."""
    try:
        version_id = json.loads((r.shared / CACHE_DIR / key).read_text())["version"]
        version = r.records.get(version_id, VersionRecord)
        ref = r.refs.get(version.artifact)
    except (OSError, ValueError, KeyError, TypeError, HpcfairError):
        return None
    if version_id not in ref.versions or not r.store.exists(version.oid):
        return None
    parity = r.records.get(version.provenance, ProvenanceRecord).results.get("parity", {})
    if parity.get("max_rel", 0.0) > options.tolerance:
        raise ParityError(f"the stored ONNX form differs by {parity['max_rel']:.3g} (relative), more than "
                          f"the tolerance {options.tolerance:g}")
    return ref.name, version_id


def _remember(r: Repo, key: str, version_id: str) -> None:
    folder = r.shared / CACHE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(folder / key, json.dumps({"version": version_id}).encode(), tmp_dir=r.tmp_dir)


def _store(r: Repo, source: Resolved, converter: Converter, conversion: Conversion, request: ConvertRequest,
           target: str, trust_types: list[str]) -> tuple[Any, str]:
    from ..runtime.snapshot import snapshot

    provenance = ProvenanceRecord(
        activity="convert", derived_from=[source.version_id], source_oids=[source.record.oid],
        generated_by={"tool": "hpcfair", "converter": converter.name, "converter_version": converter.version,
                      "packages": conversion.packages},
        parameters={**conversion.parameters, "trust_pickle": request.trust_pickle,
                    **({"trust_types": trust_types} if trust_types else {}),  # --trust-type and the config's
                    "tolerance": conversion.parity.get("tolerance")},
        results={"parity": conversion.parity})
    metadata = MetadataRecord(
        name=target, kind="model", framework="onnx", signature=conversion.signature.to_dict(),
        description=f"ONNX form of {_label(source)} (converted from {converter.name})")
    staged = r.store.stage_file(conversion.onnx_path)
    new = NewVersion(name=target, path=derived_path(r, source.record.path, target, SUFFIX), staged=staged,
                     provenance=provenance, runtime=snapshot(conversion.packages, request.params),
                     metadata=metadata)
    ref, version_id, _ = record_version(r, new)
    return ref, version_id


def _update_source_metadata(r: Repo, source: Resolved, framework: str, signature: Signature) -> None:
    """Record the framework and signature on the source artifact (not a new version)."""
    ref = source.ref
    if ref is None:
        return
    ref = r.refs.get(ref.name)
    current = r.records.get(ref.metadata, MetadataRecord) if ref.metadata else \
        MetadataRecord(name=ref.name, kind=ref.kind)
    new_id = r.records.put(current.revised(ref.metadata, framework=framework, signature=signature.to_dict()))
    if new_id != ref.metadata:
        ref.metadata = new_id
        r.refs.write(ref, ref.head)


def _result(r: Repo, source: Resolved, converter: Converter, artifact: str, version_id: str,
            cached: bool) -> ConvertResult:
    ref = r.refs.get(artifact)
    version = r.records.get(version_id, VersionRecord)
    provenance = r.records.get(version.provenance, ProvenanceRecord)
    metadata = r.records.get(version.metadata, MetadataRecord) if version.metadata else None
    return ConvertResult(
        source=_label(source), source_pid=pid_of(source.version_id), framework=converter.name,
        converter=converter.name, converter_version=converter.version, artifact=artifact,
        version=ref.number_of(version_id), pid=pid_of(version_id), oid=version.oid,
        size=version.object["size"], signature=SignatureInfo.from_dict(metadata.signature if metadata else None),
        parity=Parity.from_dict(provenance.results.get("parity")), cached=cached)


def step_reporter(progress: Progress, what: str) -> Step:
    """Each step of converting *what* as a phase of *progress*."""
    return lambda step: progress.start(f"convert {what}: {step}", None, "step")


def _label(source: Resolved) -> str:
    return f"{source.record.artifact}@{source.number}"
