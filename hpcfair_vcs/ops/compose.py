"""``hpcfair compose``: two models (any frameworks, through their ONNX forms) joined into one artifact.

The composed model is checked against running the two models one after the
other with onnxruntime on seeded inputs; the difference is recorded in its
provenance with both sources, the mapping and the prefixes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from ..version import __version__
from ..convert.parity import BATCH, compare, seeded_inputs
from ..storage.records import MetadataRecord, ProvenanceRecord, VersionRecord, pid_of
from ..storage.refs import check_name
from ..repo import Repo, open_repo
from ..results import DerivedResult, SignatureInfo
from ..runtime.compose import Composed, compose as compose_models, parse_map
from ..runtime.onnx import cpu_session
from .conversion import onnx_version
from .derived import NewVersion, onnx_packages, path_beside, record_version
from .resolve import require_model, resolve, stored_path


def compose(first: str, second: str, *, maps: Sequence[str], name: str, repo: Repo | str | None = None,
            description: str | None = None) -> DerivedResult:
    """Join *first* and *second* (each ``NAME[@VERSION]`` or a PID) into the model artifact *name*.

    *maps* are ``OUT:IN`` pairs: an output of *first* feeding an input of *second*.

    Raises:
        MappingError (exit 1), UsageError, ConversionError, the conversion's errors when a
        source has no ONNX form yet.
    """
    from ..deps import need

    onnx = need("onnx")
    check_name(name)
    r = open_repo(repo)
    mapping = [parse_map(m) for m in maps]
    sources = [resolve(r, spec) for spec in (first, second)]
    for source in sources:
        require_model(source, "compose joins two models")
    version_ids = [onnx_version(r, source) for source in sources]
    versions = [r.records.get(v, VersionRecord) for v in version_ids]
    protos = [onnx.load(os.fspath(stored_path(r, v))) for v in versions]
    labels = (versions[0].artifact, versions[1].artifact)
    prefixes = _prefixes(labels)
    composed = compose_models(protos[0], protos[1], mapping, prefixes, labels)
    check = _sequential_check(r, versions, composed, mapping, prefixes)
    data = composed.model.SerializeToString()
    staged = r.store.stage_bytes(data, _sha256(data))
    provenance = ProvenanceRecord(
        activity="compose", derived_from=version_ids, source_oids=[v.oid for v in versions],
        generated_by={"tool": "hpcfair", "version": __version__, "packages": onnx_packages()},
        parameters={"map": [f"{o}:{i}" for o, i in mapping], "prefixes": list(prefixes)},
        results={"ir_version": composed.ir_version, "opsets": composed.opsets, "sequential_check": check})
    metadata = MetadataRecord(name=name, kind="model", framework="onnx", signature=composed.signature.to_dict(),
                              description=description or f"{labels[0]} -> {labels[1]} ({', '.join(maps)})")
    new = NewVersion(name=name, path=path_beside(versions[0].path, name), staged=staged, provenance=provenance,
                     runtime=None, metadata=metadata)
    with r.lock:
        ref, version_id, _ = record_version(r, new)
    return DerivedResult(artifact=name, version=ref.number_of(version_id), pid=pid_of(version_id),
                         oid=staged.oid, size=len(data), sources=[pid_of(v) for v in version_ids],
                         signature=SignatureInfo.from_dict(composed.signature.to_dict()), checks={"vs_sequential": check})


def _prefixes(labels: tuple[str, str]) -> tuple[str, str]:
    clean = [label.replace(".onnx", "") for label in labels]
    if clean[0] == clean[1]:
        clean = [f"{clean[0]}_1", f"{clean[1]}_2"]
    return f"{clean[0]}/", f"{clean[1]}/"


def _sequential_check(r: Repo, versions: list[VersionRecord], composed: Composed,
                      mapping: list[tuple[str, str]], prefixes: tuple[str, str]) -> dict[str, Any]:
    """The composed model vs the first then the second model, on seeded inputs."""
    sessions = [cpu_session(r.store.path(v.oid)) for v in versions]
    joined = cpu_session(composed.model.SerializeToString())
    feeds = seeded_inputs(composed.signature.inputs, seed=0)
    first_names = [i.name for i in sessions[0].get_inputs()]
    first_out = dict(zip([o.name for o in sessions[0].get_outputs()],
                         sessions[0].run(None, {n: _named(feeds, prefixes[0], n) for n in first_names})))
    second_feeds = {i: first_out[o] for o, i in mapping}
    for spec in sessions[1].get_inputs():
        if spec.name not in second_feeds:
            second_feeds[spec.name] = _named(feeds, prefixes[1], spec.name)
    expected = sessions[1].run(None, second_feeds)
    got = dict(zip([o.name for o in joined.get_outputs()], joined.run(None, feeds)))
    ours = [_named(got, prefixes[1], o.name) for o in sessions[1].get_outputs()]
    max_abs, max_rel = compare(expected, ours)
    return {"max_abs": max_abs, "max_rel": max_rel, "seed": 0, "batch": BATCH}


def _named(values: dict[str, Any], prefix: str, name: str) -> Any:
    """A source tensor's value in the composed model: prefixed, or under its plain name when restored."""
    return values[prefix + name] if prefix + name in values else values[name]


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()
