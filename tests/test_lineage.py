"""lineage: revisions, derivations (tool, parameters, runtime) and training data as a W3C PROV graph."""

from __future__ import annotations

import json

import pytest

from hpcfair_vcs import api
from hpcfair_vcs.ops.lineage import to_dot, to_prov
from hpcfair_vcs.repo import Repo

from . import model_zoo
from .conftest import write


def relations(result) -> set[tuple[str, str, str]]:
    label = {n.id: n.label for n in result.nodes}
    return {(label[e.source], e.relation + (f":{e.role}" if e.role else ""), label[e.target]) for e in result.edges}


@pytest.fixture
def trained(repo, cli):
    """digits v1 (a dataset); m v1 and v2 (a model file, not converted) trained on it."""
    write(repo / "digits" / "a.csv", "1\n")
    cli("add", "digits")
    write(repo / "m.bin", b"v1")
    cli("add", "m.bin", "--kind", "model", "--no-convert")
    cli("meta", "set", "m", "training_dataset=digits")
    write(repo / "m.bin", b"v2")
    cli("add", "m.bin")
    return repo


def test_revisions_and_training_data(trained, cli):
    result = api.lineage("m")
    assert relations(result) == {("m v2", "wasRevisionOf", "m v1"), ("m v2", "wasDerivedFrom:training", "digits v1"),
                                 ("m v1", "wasDerivedFrom:training", "digits v1")}
    assert result.root == api.show("m").pid and not result.truncated
    shallow = api.lineage("m", depth=1)
    assert shallow.truncated and {n.label for n in shallow.nodes} == {"m v2", "m v1", "digits v1"}
    assert api.lineage("m", depth=0).nodes[0].label == "m v2" and len(api.lineage("m", depth=0).nodes) == 1
    tree = cli("lineage", "m").stdout.splitlines()
    assert tree[0].startswith("m v2") and any("revision of m v1" in line for line in tree)
    assert sum("trained on digits v1" in line for line in tree) == 2 and "(see above)" in tree[-1]
    assert "--depth stopped here" in cli("lineage", "m", "--depth", "0").stdout


def test_the_prov_json_is_read_back_by_the_prov_package(trained, cli):
    from prov.model import ProvDocument

    text = cli("lineage", "m", "--prov").stdout
    document = ProvDocument.deserialize(content=text, format="json")
    kinds = sorted(type(record).__name__ for record in document.get_records())
    assert kinds == ["ProvDerivation"] * 3 + ["ProvEntity"] * 3
    assert json.loads(text)["entity"][api.show("m").pid]["prov:type"] == "hpc:MachineLearningModel"
    assert json.loads(text)["prefix"]["hpc"] == "https://hpc-fair.github.io/ontology#"
    dot = cli("lineage", "m", "--dot").stdout
    assert dot.startswith("digraph lineage {") and dot.count(" -> ") == 3
    assert cli("lineage", "m", "--dot", "--prov", code=2)


def test_a_version_whose_parent_is_not_here_is_a_stub(trained):
    with Repo(trained) as r:
        parent = r.refs.get("m").versions[0]
        r.records.path(parent).chmod(0o644)
        r.records.path(parent).unlink()
    labels = {n.label for n in api.lineage("m").nodes}
    assert any(label.endswith("(not here)") for label in labels) and "m v2" in labels


def test_dot_labels_are_escaped():
    from hpcfair_vcs.results import LineageNode, LineageResult

    evil = LineageResult(root="x", nodes=[LineageNode(id="x", type="entity", label='a"] ; system("rm") ["\\')],
                         edges=[])
    assert 'label="a\\"] ; system(\\"rm\\") [\\"\\\\"' in to_dot(evil)


@pytest.mark.frameworks
def test_a_conversion_is_an_activity_with_its_tool_parameters_and_runtime(repo, cli):
    pytest.importorskip("skl2onnx")
    model_zoo.save_skops(model_zoo.pipeline(), repo / "clf.skops")
    cli("add", "clf.skops")
    cli("convert", "clf", "--param", "lr=0.1")
    result = api.lineage("clf.onnx")
    assert relations(result) == {("clf.onnx v1", "wasGeneratedBy", result.nodes[1].label),
                                 (result.nodes[1].label, "used", "clf v1"), ("clf.onnx v1", "wasDerivedFrom", "clf v1")}
    activity = next(n for n in result.nodes if n.type == "activity")
    assert activity.label.startswith("convert (scikit-learn ") and "skl2onnx" in activity.label
    assert activity.attributes["runtime"]["hyperparameters"] == {"lr": 0.1}
    assert activity.attributes["results"]["parity"]["max_rel"] < 1e-4
    document = to_prov(result)
    assert set(document) >= {"entity", "activity", "wasGeneratedBy", "used", "wasDerivedFrom"}
    from prov.model import ProvDocument

    assert len(ProvDocument.deserialize(content=json.dumps(document), format="json").get_records()) == 6  # 2 entities, 1 activity, 3 relations
