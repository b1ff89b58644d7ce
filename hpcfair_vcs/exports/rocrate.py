"""RO-Crate 1.3 (https://w3id.org/ro/crate/1.3): ro-crate-metadata.json for an attached crate."""

from __future__ import annotations

from typing import Any

from ..metadata.schema import split_author
from . import ONTOLOGY, Subject

CONTEXT = "https://w3id.org/ro/crate/1.3/context"
SPEC = "https://w3id.org/ro/crate/1.3"
MEDIA_TYPES = {".csv": "text/csv", ".tsv": "text/tab-separated-values", ".json": "application/json",
               ".txt": "text/plain", ".npy": "application/x-npy", ".npz": "application/zip",
               ".parquet": "application/vnd.apache.parquet", ".onnx": "application/onnx"}


def crate(subject: Subject) -> dict[str, Any]:
    """The crate's metadata document: the root dataset, its data entities, people, license, provenance."""
    meta = subject.metadata
    graph: list[dict[str, Any]] = [
        {"@id": "ro-crate-metadata.json", "@type": "CreativeWork", "conformsTo": {"@id": SPEC},
         "about": {"@id": "./"}}]
    root: dict[str, Any] = {
        "@id": "./", "@type": "Dataset", "name": f"{subject.name} v{subject.version}",
        "description": meta.get("description") or f"{subject.kind} {subject.name}, version {subject.version}",
        "datePublished": subject.created[:10], "identifier": subject.pid, "version": str(subject.version),
        "hasPart": []}
    if meta.get("tags"):
        root["keywords"] = list(meta["tags"])
    if meta.get("citation"):
        root["citation"] = meta["citation"]
    graph.append(root)
    if meta.get("license"):
        license_id = _license_id(meta["license"])
        root["license"] = {"@id": license_id}
        graph.append({"@id": license_id, "@type": "CreativeWork", "name": meta["license"]})
    people = []
    for number, text in enumerate(meta.get("authors", []), start=1):
        name, orcid = split_author(text)
        person_id = f"https://orcid.org/{orcid}" if orcid else f"#author-{number}"
        people.append({"@id": person_id})
        graph.append({"@id": person_id, "@type": "Person", "name": name})
    if people:
        root["author"] = people
    for number, grant in enumerate(meta.get("funding", []), start=1):
        root.setdefault("funding", []).append({"@id": f"#grant-{number}"})
        graph.append({"@id": f"#grant-{number}", "@type": "Grant", "name": grant})
    main = _data_entities(subject, graph, root)
    if subject.kind == "model" and main is not None:
        main["@type"] = [*_types(main), "hpc:MachineLearningModel"]
        for key in ("task", "domain"):
            if meta.get(key):
                main[f"hpc:{key}"] = meta[key]
    if subject.onnx is not None:
        onnx = _file(subject.onnx.path, subject.onnx.size, subject.onnx.sha256,
                     f"the ONNX form of {subject.name} v{subject.version}")
        onnx["@type"] = ["File", "hpc:MachineLearningModel"]
        onnx["identifier"] = subject.onnx_pid
        graph.append(onnx)
        root["hasPart"].append({"@id": onnx["@id"]})
        graph.append({"@id": "#conversion", "@type": "CreateAction", "name": f"conversion to ONNX by {subject.tool}, "
                      "with a parity check", "object": {"@id": main["@id"]} if main else None,
                      "result": {"@id": onnx["@id"]}})
    if meta.get("training_dataset"):
        main_or_root = main if main is not None else root
        main_or_root["isBasedOn"] = {"@id": f"#{meta['training_dataset'].replace(':', '-')}"}
        graph.append({"@id": f"#{meta['training_dataset'].replace(':', '-')}", "@type": "Dataset",
                      "name": "training dataset", "identifier": meta["training_dataset"]})
    return {"@context": [CONTEXT, {"hpc": ONTOLOGY}],
            "@graph": [{k: v for k, v in e.items() if v is not None} for e in graph]}


def _data_entities(subject: Subject, graph: list[dict[str, Any]], root: dict[str, Any]) -> dict[str, Any] | None:
    if subject.folder is not None:
        folder = {"@id": f"{subject.folder}/", "@type": "Dataset", "name": subject.folder, "hasPart": []}
        graph.append(folder)
        root["hasPart"].append({"@id": folder["@id"]})
        for item in subject.files:
            graph.append(_file(item.path, item.size, item.sha256, None))
            folder["hasPart"].append({"@id": item.path})
        return folder
    if not subject.files:
        return None
    item = subject.files[0]
    entity = _file(item.path, item.size, item.sha256, subject.name)
    graph.append(entity)
    root["hasPart"].append({"@id": item.path})
    return entity


def _file(path: str, size: int, sha256: str, name: str | None) -> dict[str, Any]:
    entity: dict[str, Any] = {"@id": path, "@type": "File", "contentSize": str(size), "sha256": sha256}
    if name:
        entity["name"] = name
    suffix = path[path.rfind("."):].lower() if "." in path.rsplit("/", 1)[-1] else ""
    if suffix in MEDIA_TYPES:
        entity["encodingFormat"] = MEDIA_TYPES[suffix]
    return entity


def _types(entity: dict[str, Any]) -> list[str]:
    kind = entity["@type"]
    return list(kind) if isinstance(kind, list) else [kind]


def _license_id(expression: str) -> str:
    """An SPDX id's page, or for an expression (MIT OR Apache-2.0) a local entity named by it."""
    simple = " " not in expression and not expression.startswith("LicenseRef-")
    return f"https://spdx.org/licenses/{expression}" if simple else "#license"
