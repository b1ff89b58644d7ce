"""export: RO-Crate (roc-validator), Croissant (mlcroissant validates and loads it), model card, DataCite (its
JSON schema), run against the real validators; bad requests and hostile metadata."""

from __future__ import annotations

import json
import os

import pytest

from hpcfair_vcs import api
from hpcfair_vcs.repo import Repo

from . import model_zoo, validators
from .conftest import write

ADA = "0000-0002-1825-0097"
EVIL = '<script>alert(1)</script> | *x* \n---\nlicense: evil\n"quoted" [link](javascript:alert(1))'


@pytest.fixture
def described(repo, cli):
    """digits/ (a dataset of a CSV), m.bin (a model file, not converted) trained on it; both described."""
    write(repo / "digits" / "train.csv", "pixel,label\n0.5,3\n0.25,7\n1.0,1\n")
    cli("add", "digits")
    write(repo / "m.bin", b"weights")
    cli("add", "m.bin", "--kind", "model", "--no-convert")
    for name in ("digits", "m"):
        cli("meta", "set", name, "description=handwritten digits", "tags=[mnist, vision]", "license=CC-BY-4.0",
            f"authors=['Ada Lovelace <{ADA}>', Alan Turing]", "citation=doi:10.5281/zenodo.1", "funding=[NSF 1]")
    cli("meta", "set", "m", "training_dataset=digits", "task=image-classification", "metrics={accuracy: 0.97}")
    return repo


def test_ro_crates_of_a_model_and_a_dataset_pass_roc_validator(described, cli, tmp_path):
    for name in ("m", "digits"):
        out = tmp_path / f"{name}-crate"
        files = cli.json("export", name, "--format", "ro-crate", "-o", os.fspath(out))["files"]
        assert "ro-crate-metadata.json" in files
        report = validators.rocrate(out, tmp_path / "http-cache")
        assert report["passed"], [issue["message"] for issue in report["issues"]]
    crate = json.loads((tmp_path / "m-crate" / "ro-crate-metadata.json").read_text())
    entities = {e["@id"]: e for e in crate["@graph"]}
    assert entities[f"https://orcid.org/{ADA}"] == {"@id": f"https://orcid.org/{ADA}", "@type": "Person",
                                                     "name": "Ada Lovelace"}
    assert "hpc:MachineLearningModel" in entities["m.bin"]["@type"]
    assert entities["./"]["identifier"] == api.show("m").pid
    assert (tmp_path / "digits-crate" / "digits" / "train.csv").read_text().startswith("pixel,label")


def test_a_croissant_description_validates_and_mlcroissant_loads_its_records(described, cli, tmp_path):
    out = tmp_path / "digits-croissant"
    cli("export", "digits", "--format", "croissant", "-o", os.fspath(out))
    checked = validators.croissant_validate(out / "croissant.json")
    assert checked.returncode == 0, checked.stderr[-2000:]
    records = validators.croissant_records(out / "croissant.json", "records-0")
    assert [(r["records-0/pixel"], r["records-0/label"]) for r in records] == [("0.5", "3"), ("0.25", "7"),
                                                                                 ("1.0", "1")]
    assert "Croissant describes datasets" in cli("export", "m", "--format", "croissant", "-o",
                                                 os.fspath(tmp_path / "no"), code=2).stderr


def test_datacite_json_passes_the_datacite_schema(described, cli, tmp_path):
    out = tmp_path / "doi"
    cli("export", "m", "--format", "datacite", "-o", os.fspath(out))
    assert validators.datacite_errors(out / "datacite.json") == []
    attributes = json.loads((out / "datacite.json").read_text())["data"]["attributes"]
    assert attributes["types"]["resourceTypeGeneral"] == "Model"
    assert attributes["creators"][0]["nameIdentifiers"][0]["nameIdentifier"] == f"https://orcid.org/{ADA}"
    assert attributes["relatedIdentifiers"][0]["relationType"] == "IsDerivedFrom"


def test_a_model_card_has_hugging_face_front_matter(described, cli, tmp_path):
    import yaml

    out = tmp_path / "card"
    cli("export", "m", "--format", "model-card", "-o", os.fspath(out))
    text = (out / "README.md").read_text()
    front = yaml.safe_load(text.split("---\n")[1])
    assert front["license"] == "cc-by-4.0" and front["tags"] == ["mnist", "vision"]
    assert front["pipeline_tag"] == "image-classification"
    assert front["model-index"][0]["results"][0]["metrics"] == [{"name": "accuracy", "type": "accuracy",
                                                                  "value": 0.97}]
    assert "Ada Lovelace (https://orcid.org/" in text and (out / "m.bin").read_bytes() == b"weights"


def test_hostile_metadata_is_escaped_in_every_format(repo, cli, tmp_path):
    """Metadata may come from a remote: in JSON it is a string, in YAML a quoted value, in Markdown text."""
    import yaml

    write(repo / "m.bin", b"w")
    cli("add", "m.bin", "--kind", "model", "--no-convert")
    with Repo(repo) as r:  # as a remote could have written it, past the schema's checks
        from hpcfair_vcs.storage.records import MetadataRecord

        ref = r.refs.get("m")
        hostile_input = 'x"}); __import__("os").system("echo owned") #'
        record = MetadataRecord(name="m", kind="model", description=EVIL, tags=[EVIL], license="MIT",
                                signature={"inputs": [{"name": hostile_input, "shape": ["N", 2], "dtype": "float32"}],
                                           "outputs": [{"name": "y", "shape": ["N"], "dtype": "float32"}]})
        ref.metadata = r.records.put(record)
        r.refs.write(ref, ref.head)
    card = tmp_path / "card"
    cli("export", "m", "--format", "model-card", "-o", os.fspath(card))
    text = (card / "README.md").read_text()
    head, body = text.removeprefix("---\n").split("\n---\n", 1)
    front = yaml.safe_load(head)
    assert front["tags"] == [EVIL] and front["license"] == "mit"  # the "license: evil" line stayed inside the tag
    assert "<script>" not in body and "&lt;script&gt;" in body and "\\[link\\]" in body
    import ast  # the usage snippet stays one call whose feed is keyed by the input's name, as a string

    code = body.split("```python\n")[1].split("```")[0]
    calls = [n for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Call)]
    assert len(calls) == 2 and [k.value for k in calls[0].args[0].keys] == [hostile_input]
    crate = tmp_path / "crate"
    cli("export", "m", "--format", "ro-crate", "-o", os.fspath(crate))
    root = next(e for e in json.loads((crate / "ro-crate-metadata.json").read_text())["@graph"] if e["@id"] == "./")
    assert root["description"] == EVIL and root["keywords"] == [EVIL]


def test_bad_requests_write_nothing(described, cli, tmp_path):
    from hpcfair_vcs.storage.records import VersionRecord

    assert "'zip' is not one of" in cli("export", "m", "--format", "zip", "-o", "x", code=2).stderr
    full = write(tmp_path / "full" / "keep.txt", "mine")
    assert "is not an empty folder" in cli("export", "m", "--format", "ro-crate", "-o", os.fspath(full.parent),
                                           code=2).stderr
    assert full.read_text() == "mine" and os.listdir(full.parent) == ["keep.txt"]
    with Repo(described) as r:  # the data of m is not here (a clone that fetched only the records)
        path = r.store.path(r.records.get(r.refs.get("m").head, VersionRecord).oid)
        path.chmod(0o644)
        path.unlink()
    missing = cli("export", "m", "--format", "ro-crate", "-o", os.fspath(tmp_path / "gone"), code=3)
    assert "hpcfair pull m@1" in missing.stderr and not (tmp_path / "gone").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".gone")] == []
    cli("export", "m", "--format", "datacite", "-o", os.fspath(tmp_path / "doi"))  # a description needs no data


@pytest.mark.frameworks
def test_a_converted_model_exports_its_onnx_form_beside_it(repo, cli, tmp_path):
    pytest.importorskip("skl2onnx")
    model_zoo.save_skops(model_zoo.pipeline(), repo / "clf.skops")
    cli("add", "clf.skops")
    cli("convert", "clf")
    cli("meta", "set", "clf", "description=a classifier", "license=MIT", "authors=[Ada]")
    out = tmp_path / "crate"
    assert sorted(cli.json("export", "clf", "--format", "ro-crate", "-o", os.fspath(out))["files"]) == [
        "clf.onnx", "clf.skops", "ro-crate-metadata.json"]
    report = validators.rocrate(out, tmp_path / "http-cache")
    assert report["passed"], [issue["message"] for issue in report["issues"]]
    graph = {e["@id"]: e for e in json.loads((out / "ro-crate-metadata.json").read_text())["@graph"]}
    assert graph["clf.onnx"]["identifier"] == api.show("clf.onnx").pid
    assert graph["#conversion"]["result"] == {"@id": "clf.onnx"}
