"""Croissant 1.0 (https://docs.mlcommons.org/croissant/docs/croissant-spec.html) for a dataset version.

Every file is a FileObject with its sha256; each CSV/TSV file also gets a RecordSet
whose fields are its header's columns (read from the exported copy), so mlcroissant
can load its records. Other files are described, not parsed.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from . import Subject

CONFORMS_TO = "http://mlcommons.org/croissant/1.0"
CONTEXT: dict[str, Any] = {
    "@language": "en", "@vocab": "https://schema.org/", "sc": "https://schema.org/",
    "cr": "http://mlcommons.org/croissant/", "rai": "http://mlcommons.org/croissant/RAI/",
    "dct": "http://purl.org/dc/terms/", "citeAs": "cr:citeAs", "column": "cr:column",
    "conformsTo": "dct:conformsTo", "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"}, "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract", "field": "cr:field", "fileProperty": "cr:fileProperty", "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet", "format": "cr:format", "includes": "cr:includes", "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath", "key": "cr:key", "md5": "cr:md5", "parentField": "cr:parentField", "path": "cr:path",
    "recordSet": "cr:recordSet", "references": "cr:references", "regex": "cr:regex", "repeated": "cr:repeated",
    "replace": "cr:replace", "separator": "cr:separator", "source": "cr:source", "subField": "cr:subField",
    "transform": "cr:transform"}
MEDIA = {".csv": "text/csv", ".tsv": "text/tab-separated-values", ".json": "application/json",
         ".jsonl": "application/jsonlines", ".parquet": "application/x-parquet", ".txt": "text/plain",
         ".npy": "application/x-npy", ".npz": "application/zip"}
MAX_HEADER = 1 << 16


def croissant(subject: Subject, folder: Path) -> dict[str, Any]:
    """The description of *subject*, whose files were exported into *folder*."""
    meta = subject.metadata
    doc: dict[str, Any] = {
        "@context": CONTEXT, "@type": "sc:Dataset", "conformsTo": CONFORMS_TO,
        "name": _identifier(subject.name), "description": meta.get("description") or f"dataset {subject.name}",
        "url": subject.pid, "version": f"{subject.version}.0.0", "datePublished": subject.created[:10],
        "license": _license(meta.get("license", "")), "distribution": [], "recordSet": []}
    if meta.get("authors"):
        doc["creator"] = [{"@type": "sc:Person", "name": a.split(" <")[0]} for a in meta["authors"]]
    if meta.get("tags"):
        doc["keywords"] = list(meta["tags"])
    if meta.get("citation"):
        doc["citeAs"] = meta["citation"]
    for number, item in enumerate(subject.files):
        file_id = f"file-{number}"
        suffix = Path(item.path).suffix.lower()
        doc["distribution"].append({"@type": "cr:FileObject", "@id": file_id, "name": Path(item.path).name,
                                    "contentUrl": item.path, "encodingFormat": MEDIA.get(suffix, "application/octet-stream"),
                                    "sha256": item.sha256, "contentSize": f"{item.size} B"})
        if suffix in (".csv", ".tsv"):
            columns = _header(folder / item.path, "\t" if suffix == ".tsv" else ",")
            if columns:
                doc["recordSet"].append(_record_set(f"records-{number}", file_id, columns))
    if not doc["recordSet"]:
        del doc["recordSet"]
    return doc


def _record_set(set_id: str, file_id: str, columns: list[str]) -> dict[str, Any]:
    return {"@type": "cr:RecordSet", "@id": set_id, "name": set_id, "field": [
        {"@type": "cr:Field", "@id": f"{set_id}/{_identifier(column)}", "name": _identifier(column),
         "dataType": "sc:Text", "source": {"fileObject": {"@id": file_id}, "extract": {"column": column}}}
        for column in columns]}


def _header(path: Path, delimiter: str) -> list[str]:
    try:
        with open(path, newline="", encoding="utf-8") as fobj:
            first = fobj.readline(MAX_HEADER)
    except (OSError, UnicodeDecodeError):
        return []
    row = next(csv.reader([first], delimiter=delimiter), [])
    return [c for c in row if c] if len(set(row)) == len(row) else []


def _identifier(text: str) -> str:
    """A name Croissant takes as an @id part: letters, digits, '-', '_' and '.'."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text) or "column"


def _license(expression: str) -> str:
    if expression and " " not in expression and not expression.startswith("LicenseRef-"):
        return f"https://spdx.org/licenses/{expression}"
    return expression or "unknown"
