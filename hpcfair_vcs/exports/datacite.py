"""DataCite metadata (schema 4.5) as the JSON of the DataCite REST API's ``attributes``, ready for a DOI request."""

from __future__ import annotations

from typing import Any

from ..metadata.schema import split_author
from . import Subject

SCHEMA = "http://datacite.org/schema/kernel-4"
RESOURCE_TYPES = {"model": ("Model", "machine learning model"), "dataset": ("Dataset", "dataset")}


def datacite(subject: Subject, publisher: str = "") -> dict[str, Any]:
    """The record for *subject*; *publisher* defaults to its first author (DataCite requires one)."""
    meta = subject.metadata
    creators = []
    for text in meta.get("authors", []):
        name, orcid = split_author(text)
        creator: dict[str, Any] = {"name": name, "nameType": "Personal"}
        if orcid:
            creator["nameIdentifiers"] = [{"nameIdentifier": f"https://orcid.org/{orcid}",
                                           "nameIdentifierScheme": "ORCID", "schemeUri": "https://orcid.org"}]
        creators.append(creator)
    general, specific = RESOURCE_TYPES[subject.kind]
    attributes: dict[str, Any] = {
        "titles": [{"title": f"{subject.name} v{subject.version}"}],
        "creators": creators or [{"name": "unknown", "nameType": "Organizational"}],
        "publisher": {"name": publisher or (creators[0]["name"] if creators else "unknown")},
        "publicationYear": str(subject.year),
        "types": {"resourceTypeGeneral": general, "resourceType": specific},
        "version": str(subject.version),
        "alternateIdentifiers": [{"alternateIdentifier": subject.pid, "alternateIdentifierType": "hpcfair PID"}],
        "dates": [{"date": subject.created[:10], "dateType": "Created"}],
        "sizes": [f"{sum(f.size for f in subject.files)} bytes"],
        "schemaVersion": SCHEMA,
    }
    if meta.get("description"):
        attributes["descriptions"] = [{"description": meta["description"], "descriptionType": "Abstract"}]
    if meta.get("tags"):
        attributes["subjects"] = [{"subject": tag} for tag in meta["tags"]]
    if meta.get("license"):
        rights: dict[str, Any] = {"rights": meta["license"]}
        if " " not in meta["license"] and not meta["license"].startswith("LicenseRef-"):
            rights.update(rightsIdentifier=meta["license"], rightsIdentifierScheme="SPDX",
                          rightsUri=f"https://spdx.org/licenses/{meta['license']}", schemeUri="https://spdx.org/licenses/")
        attributes["rightsList"] = [rights]
    if meta.get("funding"):
        attributes["fundingReferences"] = [{"funderName": grant} for grant in meta["funding"]]
    related = []
    if meta.get("training_dataset"):
        related.append({"relatedIdentifier": meta["training_dataset"], "relatedIdentifierType": "URN",
                        "relationType": "IsDerivedFrom"})
    if meta.get("citation"):
        kind = "DOI" if meta["citation"].lower().startswith(("doi:", "10.")) else "URL"
        value = meta["citation"][4:] if meta["citation"].lower().startswith("doi:") else meta["citation"]
        if kind == "DOI" or value.startswith(("http://", "https://")):
            related.append({"relatedIdentifier": value, "relatedIdentifierType": kind, "relationType": "IsCitedBy"})
    if related:
        attributes["relatedIdentifiers"] = related
    return {"data": {"type": "dois", "attributes": attributes}}
