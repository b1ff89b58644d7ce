"""``hpcfair optimize``: a quantized and/or graph-optimized form of a model, as a derived artifact.

Reports the size before and after and the largest output difference against
the float model on seeded inputs; both go into the provenance.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..version import __version__
from ..convert.parity import BATCH, compare, seeded_inputs
from ..onnx_io.signature import from_onnx
from ..storage.records import MetadataRecord, ProvenanceRecord, VersionRecord, pid_of
from ..storage.refs import check_name
from ..repo import Repo, open_repo
from ..results import DerivedResult, SignatureInfo
from ..runtime.onnx import cpu_session
from ..runtime.optimize import optimize as optimize_file
from .conversion import onnx_version
from .derived import NewVersion, onnx_packages, path_beside, record_version, scratch_dir
from .resolve import require_model, resolve, stored_path


def optimize(target: str, *, quantize: str | None = None, graph_opt: bool = False, name: str | None = None,
             repo: Repo | str | None = None) -> DerivedResult:
    """Quantize (``dynamic-int8``) and/or graph-optimize *target*'s ONNX form; store it as *name*.

    Raises:
        UsageError (nothing asked for, a dataset), ConversionError, the conversion's errors.
    """
    from ..deps import need

    onnx = need("onnx")
    need("onnxruntime.quantization")
    r = open_repo(repo)
    source = resolve(r, target)
    require_model(source, "only models are optimized")
    version_id = onnx_version(r, source)
    version = r.records.get(version_id, VersionRecord)
    base = version.artifact.removesuffix(".onnx")
    suffix = "-".join(s for s in ("int8" if quantize else "", "opt" if graph_opt else "") if s)
    name = check_name(name or f"{base}-{suffix or 'opt'}")
    float_path = stored_path(r, version)
    with scratch_dir(r) as scratch:
        out = scratch / "optimized.onnx"
        optimize_file(float_path, out, scratch, quantize, graph_opt)
        signature = from_onnx(onnx.load(os.fspath(out)))
        difference = _difference(float_path, out, signature)
        sizes = {"size_before": version.object["size"], "size_after": out.stat().st_size}
        staged = r.store.stage_file(out)
        provenance = ProvenanceRecord(
            activity="optimize", derived_from=[version_id], source_oids=[version.oid],
            generated_by={"tool": "hpcfair", "version": __version__, "packages": onnx_packages()},
            parameters={"quantize": quantize, "graph_opt": graph_opt},
            results={**sizes, "vs_float": difference})
        metadata = MetadataRecord(name=name, kind="model", framework="onnx", signature=signature.to_dict(),
                                  description=f"{version.artifact} optimized ({suffix or 'graph'})")
        new = NewVersion(name=name, path=path_beside(version.path, name), staged=staged, provenance=provenance,
                         runtime=None, metadata=metadata)
        with r.lock:
            ref, new_id, _ = record_version(r, new)
    return DerivedResult(artifact=name, version=ref.number_of(new_id), pid=pid_of(new_id), oid=staged.oid,
                         size=sizes["size_after"], sources=[pid_of(version_id)],
                         signature=SignatureInfo.from_dict(signature.to_dict()),
                         checks={**sizes, "vs_float": difference})


def _difference(float_path: Any, optimized_path: Any, signature: Any) -> dict[str, Any]:
    feeds = seeded_inputs(signature.inputs, seed=0)
    runs = [cpu_session(Path(p)).run(None, feeds) for p in (float_path, optimized_path)]
    max_abs, max_rel = compare(runs[0], runs[1])
    return {"max_abs": max_abs, "max_rel": max_rel, "seed": 0, "batch": BATCH}
