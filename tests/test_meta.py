"""Metadata with history: the schema's checks, meta set/unset/show, per-version metadata, push and pull."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hpcfair_vcs import api
from hpcfair_vcs.errors import MetadataError
from hpcfair_vcs.metadata.identifiers import orcid, spdx_expression
from hpcfair_vcs.repo import Repo
from hpcfair_vcs.storage.records import MetadataRecord

from .conftest import write

ADA = "0000-0002-1825-0097"  # ORCID's own example iD (its check digit is right)


@pytest.fixture
def model(repo, cli) -> Path:
    write(repo / "digits.csv", "1,2\n")
    cli("add", "digits.csv")
    write(repo / "m.bin", b"weights")
    cli("add", "m.bin", "--kind", "model", "--no-convert")
    return repo


def records_and_ref(repo: Path) -> tuple[set[str], dict]:
    with Repo(repo) as r:
        return set(r.records.iter_ids()), r.refs.get("m").to_dict()


def test_identifiers_are_checked_and_normalised():
    assert orcid(f"https://orcid.org/{ADA}") == ADA
    assert orcid("0000-0002-9079-593X") == "0000-0002-9079-593X"  # X is a check digit
    with pytest.raises(MetadataError, match="check digit"):
        orcid("0000-0002-1825-0098")
    with pytest.raises(MetadataError, match="is not an ORCID iD"):
        orcid("0000-0002-1825")
    assert spdx_expression("mit or apache-2.0") == "MIT OR Apache-2.0"
    assert spdx_expression("GPL-2.0-or-later WITH Classpath-exception-2.0").startswith("GPL-2.0-or-later WITH")
    assert spdx_expression("LicenseRef-lab-internal") == "LicenseRef-lab-internal"
    with pytest.raises(MetadataError, match="unknown license id Foo"):
        spdx_expression("MIT AND Foo")
    with pytest.raises(MetadataError, match="malformed"):
        spdx_expression("(MIT")


def test_set_unset_and_show_keep_every_change(model, cli):
    out = cli.json("meta", "set", "m", "tags=vision", f"authors=['Ada Lovelace <https://orcid.org/{ADA}>', Alan]",
                   "license=mit", "task=image-classification", "metrics={accuracy: 0.97}",
                   "training_dataset=digits", "citation=doi:10.5281/zenodo.1", "funding=[NSF OAC-2114481]",
                   "domain=materials science", "description=A 'small' model")
    assert out["metadata"] == {
        "name": "m", "description": "A 'small' model", "tags": ["vision"],
        "authors": [f"Ada Lovelace <{ADA}>", "Alan"], "license": "MIT", "task": "image-classification",
        "domain": "materials science", "metrics": {"accuracy": 0.97},
        "training_dataset": api.show("digits").pid, "citation": "doi:10.5281/zenodo.1", "funding": ["NSF OAC-2114481"]}
    cli("meta", "unset", "m", "funding", "task")
    cli("meta", "set", "m", "license=Apache-2.0")
    shown = cli.json("meta", "show", "m", "--history")
    assert "task" not in shown["metadata"] and shown["metadata"]["license"] == "Apache-2.0"
    assert [c["keys"] for c in shown["history"]][:3] == [["license"], ["funding", "task"], [
        "authors", "citation", "description", "domain", "funding", "license", "metrics", "tags", "task",
        "training_dataset"]]
    assert shown["history"][0]["record"] == shown["record"] and shown["history"][0]["changed"]
    assert api.show("m").metadata["license"] == "Apache-2.0"  # show and search read the same records
    assert [hit.artifact for hit in api.search(tags=["vision"]).versions] == ["m"]
    assert [hit.artifact for hit in api.search("materials").versions] == ["m"]


def test_a_version_has_metadata_of_its_own(model, cli):
    cli("meta", "set", "m", "task=regression")
    cli("meta", "set", "m@1", "metrics={rmse: 0.5}")
    write(model / "m.bin", b"retrained")
    cli("add", "m.bin")
    assert cli.json("meta", "show", "m@1")["metadata"]["metrics"] == {"rmse": 0.5}
    assert cli.json("meta", "show", "m@1")["metadata"]["task"] == "regression"  # copied when it was given its own
    assert "metrics" not in cli.json("meta", "show", "m@2")["metadata"]  # v2 has the artifact's
    assert "metrics" not in cli.json("meta", "show", "m")["metadata"]
    pid = api.show("m@1").pid
    assert cli.json("meta", "show", pid)["version"] == 1


@pytest.mark.parametrize("args, message", [
    (["license=Foo"], "unknown license id Foo"),
    (["license=MIT AND"], "malformed"),
    ([f"authors=['Ada <{ADA[:-1]}8>']"], "check digit is wrong"),
    (["authors=['Ada <orcid:123>']"], "is not an ORCID iD"),
    (["colour=red"], "unknown metadata key 'colour'"),
    (["signature=x"], "recorded by hpcfair"),
    (["name=other"], "recorded by hpcfair"),
    (["metrics=high"], "expected a mapping of names to numbers"),
    (["metrics={acc: fast}"], "metrics.acc: expected a finite number"),
    (["tags={a: 1}"], "tags: expected text"),
    (["training_dataset=m"], "is a model, not a dataset"),
    (["training_dataset=nothing"], "training_dataset:"),
    (["task=ok", "license=Foo"], "unknown license id"),  # one bad value: the good one is not set either
    (["description"], "is not KEY=VALUE"),
    (["tags=[a, b"], "is not a YAML value"),
])
def test_bad_metadata_is_refused_and_nothing_changes(model, cli, args, message):
    before = records_and_ref(model)
    refused = cli("meta", "set", "m", *args, code=1 if args != ["description"] else 1)
    assert message in refused.stderr and refused.stderr.count("\n") == 1  # one line, with its hint
    assert records_and_ref(model) == before


def test_add_checks_license_and_authors_before_storing_anything(repo, cli):
    write(repo / "d.bin", b"data")
    assert "unknown license id" in cli("add", "d.bin", "--license", "Proprietary-ish", code=1).stderr
    assert "check digit" in cli("add", "d.bin", "--author", f"Ada <{ADA[:-1]}1>", code=1).stderr
    with Repo(repo) as r:
        assert not list(r.store.iter_oids()) and not r.refs.all()
    cli("add", "d.bin", "--license", "cc-by-4.0", "--author", f"Ada <{ADA}>")
    assert api.meta_show("d").metadata["license"] == "CC-BY-4.0"


def test_metadata_and_its_history_travel_with_push_and_pull(tmp_path, cli, monkeypatch):
    a, b, store = tmp_path / "a", tmp_path / "b", tmp_path / "store"
    for root in (a, b):
        api.init(root)
        api.remote_add("store", os.fspath(store), repo=root, default=True)
    write(a / "m.bin", b"weights")
    api.add([a / "m.bin"], kind="model", convert=False, repo=a)
    api.meta_set("m", ["license=MIT"], repo=a)
    api.meta_set("m", ["task=segmentation"], repo=a)
    api.meta_set("m@1", ["metrics={iou: 0.8}"], repo=a)
    api.push(repo=a)
    api.fetch(repo=b)
    assert api.meta_show("m", repo=b, history=True).to_dict() == api.meta_show("m", repo=a, history=True).to_dict()
    assert api.meta_show("m@1", repo=b).metadata["metrics"] == {"iou": 0.8}
    api.meta_set("m", ["domain=biology"], repo=b)  # b goes on from a's metadata: a takes it
    api.push(repo=b)
    api.fetch(repo=a)
    assert api.meta_show("m", repo=a).metadata["domain"] == "biology"
    assert len(api.meta_show("m", repo=a, history=True).history) == 4
    api.meta_set("m", ["citation=ours"], repo=a)  # both change apart: each keeps its own
    api.meta_set("m", ["citation=theirs"], repo=b)
    api.push(repo=b)
    api.fetch(repo=a)
    assert api.meta_show("m", repo=a).metadata["citation"] == "ours"
    api.push(repo=a)  # the remote had b's change, which a now knows and did not build on: a's stays a's
    api.fetch(repo=b)
    assert api.meta_show("m", repo=b).metadata["citation"] == "theirs"


def test_records_refuse_metadata_values_no_hpcfair_writes():
    good = MetadataRecord(name="m", kind="model").to_dict()
    for field, value in [("metrics", {"acc": "high"}), ("metrics", ["x"]), ("tags", "vision"),
                         ("previous", "../../etc"), ("funding", [1]), ("task", 3)]:
        with pytest.raises(ValueError, match=f"bad {'authors' if field in ('tags', 'funding') else field}"
                           .replace("task", "description")):
            MetadataRecord.from_dict({**good, field: value})


def test_a_record_without_the_new_keys_keeps_its_bytes():
    """Records written before metadata had history hash the same: their ids (and PIDs) do not move."""
    record = MetadataRecord(name="m", kind="model", license="MIT")
    assert set(record.to_dict()) == {"type", "name", "kind", "description", "license", "authors", "framework",
                                     "signature"}
    assert record.revised(None, license="MIT") is record


def test_the_docs_table_is_the_schema_and_its_examples_parse():
    from hpcfair_vcs.metadata import schema

    doc = (Path(__file__).resolve().parents[1] / "docs" / "metadata.md").read_text()
    rows = [line.split(" | ") for line in doc.splitlines() if line.startswith("| `")]
    assert [row[0].strip("| `") for row in rows] == list(schema.KEYS)
    for row, key in zip(rows, schema.KEYS.values()):
        assert row[1] == key.holds
        if key.check is not None:
            assert schema.parse_assignment(row[2].strip(" |`"))[0] == key.name
