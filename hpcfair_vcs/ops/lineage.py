"""``hpcfair lineage``: where a version came from, as a graph in W3C PROV terms.

The version is an entity; walking back from it, each revision's parent
(``wasRevisionOf``), each derived version's activity (``wasGeneratedBy`` a
convert, compose or optimize activity, which ``used`` its sources and carries the
tool, versions, parameters, results and runtime snapshot), its sources
(``wasDerivedFrom``) and a model's training dataset (``wasDerivedFrom``, typed
training). ``depth`` bounds the steps walked. The graph renders as PROV-JSON
(:func:`to_prov`, which the ``prov`` package reads) and Graphviz (:func:`to_dot`);
the CLI draws it as a tree.
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any

from ..errors import HpcfairError, VersionNotFoundError
from ..repo import Repo, open_repo
from ..results import LineageEdge, LineageNode, LineageResult
from ..storage.records import MetadataRecord, ProvenanceRecord, RuntimeRecord, VersionRecord, pid_of
from ..storage.refs import ArtifactRef
from .resolve import resolve

ONTOLOGY = "https://hpc-fair.github.io/ontology#"
PREFIXES = {"hpcfair": "urn:hpcfair:", "hpc": ONTOLOGY, "schema": "https://schema.org/"}
ENTITY_TYPES = {"model": "hpc:MachineLearningModel", "dataset": "schema:Dataset"}


def lineage(target: str, *, repo: Repo | str | None = None, depth: int | None = None) -> LineageResult:
    """The provenance graph of *target* (``NAME[@VERSION]`` or a PID), *depth* steps back (None: all).

    Raises:
        ArtifactNotFoundError, VersionNotFoundError: no such target.
    """
    r = open_repo(repo)
    start = resolve(r, target)
    walk = _Walk(r)
    queue = deque([(start.version_id, 0)])
    while queue:
        version_id, steps = queue.popleft()
        if version_id in walk.nodes:
            continue
        record = walk.entity(version_id)
        if record is None:
            continue
        if depth is not None and steps >= depth:
            walk.truncated = walk.truncated or bool(record.parent or record.provenance
                                                    or walk.training_dataset(version_id, record))
            continue
        queue.extend((source, steps + 1) for source in walk.links(version_id, record))
    return LineageResult(root=pid_of(start.version_id), nodes=list(walk.nodes.values()), edges=walk.edges,
                         truncated=walk.truncated)


class _Walk:
    """The nodes and edges found so far; refs read once each."""

    def __init__(self, r: Repo) -> None:
        self.r = r
        self.nodes: dict[str, LineageNode] = {}
        self.edges: list[LineageEdge] = []
        self.truncated = False
        self._refs: dict[str, ArtifactRef | None] = {}
        self._trained_on: dict[str, str | None] = {}
        self._numbers: dict[str, dict[str, int]] = {}  # metadata record id -> training dataset version id

    def ref(self, name: str) -> ArtifactRef | None:
        if name not in self._refs:
            try:
                self._refs[name] = self.r.refs.find(name)
            except HpcfairError:
                self._refs[name] = None
        return self._refs[name]

    def number(self, artifact: str, version_id: str) -> int | None:
        """The version's number in its artifact here (None: not in its ref), from one index per artifact."""
        if artifact not in self._numbers:
            ref = self.ref(artifact)
            self._numbers[artifact] = {v: i for i, v in enumerate(ref.versions, start=1)} if ref else {}
        return self._numbers[artifact].get(version_id)

    def entity(self, version_id: str) -> VersionRecord | None:
        """Add the version's node (a stub when its record is not here); its record, or None."""
        pid = pid_of(version_id)
        try:
            record = self.r.records.get(version_id, VersionRecord)
        except VersionNotFoundError:
            self.nodes[version_id] = LineageNode(id=pid, type="entity", label=f"{pid[:20]} (not here)")
            return None
        number = self.number(record.artifact, version_id) or record.number
        self.nodes[version_id] = LineageNode(
            id=pid, type="entity", label=f"{record.artifact} v{number}",
            attributes={"artifact": record.artifact, "version": number, "kind": record.kind, "oid": record.oid,
                        "created": record.created})
        return record

    def links(self, version_id: str, record: VersionRecord) -> list[str]:
        """Add the edges back from this version; the version ids they lead to."""
        pid, found = pid_of(version_id), []
        if record.parent:
            self.edges.append(LineageEdge("wasRevisionOf", pid, pid_of(record.parent)))
            found.append(record.parent)
        if record.provenance and self.r.records.exists(record.provenance):
            provenance = self.r.records.get(record.provenance, ProvenanceRecord)
            activity = f"hpcfair:activity-{record.provenance}"
            if activity not in self.nodes:
                self.nodes[activity] = LineageNode(id=activity, type="activity", label=_activity_label(provenance),
                                                   attributes=self._activity(provenance))
            self.edges.append(LineageEdge("wasGeneratedBy", pid, activity))
            for source in provenance.derived_from:
                self.edges.append(LineageEdge("used", activity, pid_of(source)))
                self.edges.append(LineageEdge("wasDerivedFrom", pid, pid_of(source)))
                found.append(source)
        training = self.training_dataset(version_id, record)
        if training:
            self.edges.append(LineageEdge("wasDerivedFrom", pid, pid_of(training), role="training"))
            found.append(training)
        return found

    def training_dataset(self, version_id: str, record: VersionRecord) -> str | None:
        ref = self.ref(record.artifact)
        metadata_id = ref.metadata_of(version_id) if ref else record.metadata
        if not metadata_id:
            return None
        if metadata_id not in self._trained_on:  # the versions of an artifact mostly share one record
            pid = ""
            if self.r.records.exists(metadata_id):
                pid = self.r.records.get(metadata_id, MetadataRecord).training_dataset
            self._trained_on[metadata_id] = pid.removeprefix("hpcfair:") if pid else None
        return self._trained_on[metadata_id]

    def _activity(self, provenance: ProvenanceRecord) -> dict[str, Any]:
        attributes: dict[str, Any] = {"activity": provenance.activity, "tool": provenance.generated_by,
                                      "parameters": provenance.parameters, "results": provenance.results}
        if provenance.runtime and self.r.records.exists(provenance.runtime):
            runtime = self.r.records.get(provenance.runtime, RuntimeRecord)
            attributes["runtime"] = {"python": runtime.python, "platform": runtime.platform,
                                     "packages": runtime.packages, "hardware": runtime.hardware,
                                     "hyperparameters": runtime.hyperparameters}
        return attributes


def _activity_label(provenance: ProvenanceRecord) -> str:
    """``convert (scikit-learn 1.9.1, skl2onnx 1.20.0)``: the activity and the packages it ran (onnx aside)."""
    packages = provenance.generated_by.get("packages")
    shown = [f"{name} {version}" for name, version in sorted(packages.items())
             if name not in ("onnx", "onnxruntime")] if isinstance(packages, dict) else []
    return f"{provenance.activity} ({', '.join(shown)})" if shown else provenance.activity


def to_prov(result: LineageResult) -> dict[str, Any]:
    """The graph as PROV-JSON (https://www.w3.org/submissions/prov-json/); structured values as JSON text."""
    doc: dict[str, Any] = {"prefix": dict(PREFIXES), "entity": {}, "activity": {}}
    for node in result.nodes:
        if node.type == "activity":
            doc["activity"][node.id] = {"prov:label": node.label, "prov:type": f"hpcfair:{node.attributes['activity']}",
                                        **{f"hpcfair:{k}": _literal(v) for k, v in node.attributes.items()}}
        else:
            kind = node.attributes.get("kind")
            doc["entity"][node.id] = {"prov:label": node.label, **({"prov:type": ENTITY_TYPES[kind]} if kind else {}),
                                      **{f"hpcfair:{k}": _literal(v) for k, v in node.attributes.items()}}
    relations = {"wasGeneratedBy": ("prov:entity", "prov:activity"), "used": ("prov:activity", "prov:entity"),
                 "wasDerivedFrom": ("prov:generatedEntity", "prov:usedEntity"),
                 "wasRevisionOf": ("prov:generatedEntity", "prov:usedEntity")}
    for number, edge in enumerate(result.edges):
        kind = "wasDerivedFrom" if edge.relation == "wasRevisionOf" else edge.relation
        first, second = relations[edge.relation]
        statement: dict[str, Any] = {first: edge.source, second: edge.target}
        if edge.relation == "wasRevisionOf":
            statement["prov:type"] = "prov:Revision"
        if edge.role:
            statement["prov:type"] = f"hpcfair:{edge.role}"
        doc.setdefault(kind, {})[f"_:{kind}{number}"] = statement
    return doc


def to_dot(result: LineageResult) -> str:
    """The graph in Graphviz's language: entities as boxes, activities as ellipses, arrows pointing back."""
    lines = ["digraph lineage {", "  rankdir=BT;", '  node [fontname="Helvetica"];']
    for node in result.nodes:
        shape = "ellipse" if node.type == "activity" else "box"
        style = ', style="bold"' if node.id == result.root else ""
        lines.append(f"  {_quote(node.id)} [label={_quote(node.label)}, shape={shape}{style}];")
    for edge in result.edges:
        label = edge.relation + (f" ({edge.role})" if edge.role else "")
        lines.append(f"  {_quote(edge.source)} -> {_quote(edge.target)} [label={_quote(label)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _literal(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool)) else json.dumps(value, sort_keys=True)


def _quote(text: str) -> str:
    """A DOT string: every backslash and quote escaped, so labels from a remote stay labels."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
