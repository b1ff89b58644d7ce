"""fair-check: each artifact's FAIR score, what is missing and the command that fixes it, the --min gate."""

from __future__ import annotations

import os

import pytest

from hpcfair_vcs import api

from . import model_zoo
from .conftest import write


def missing(result, artifact: str) -> dict[str, str]:
    score = next(a for a in result.artifacts if a.artifact == artifact)
    return {c.check: c.fix for c in score.checks if not c.passed}


def test_a_bare_repository_scores_low_and_names_each_fix(repo, cli):
    write(repo / "data" / "a.csv", "1,2\n")
    cli("add", "data")
    write(repo / "m.bin", b"weights")
    cli("add", "m.bin", "--kind", "model", "--no-convert")
    result = api.fair_check()
    assert missing(result, "data") == {
        "description": "hpcfair meta set data description='what it is'",
        "tags": "hpcfair meta set data tags=[keyword, ...]",
        "on a remote": "hpcfair remote add NAME URL --default && hpcfair push",
        "license": "hpcfair meta set data license=MIT",
        "exportable": "hpcfair meta set data \"authors=['Name <ORCID iD>']\" description='what it is'",
        "citation": "hpcfair meta set data citation='doi:...'"}
    assert [a.score for a in result.artifacts] == [round(100 * 3 / 10, 1), round(100 * 2 / 13, 1)]
    assert set(missing(result, "m")) >= {"onnx form", "signature", "runtime snapshot", "provenance"}
    assert cli("fair-check", "--min", "50", code=1).stdout.count("(below --min)") == 2
    cli("fair-check", "--min", "15")  # 30 and 15.4: both pass
    assert cli.json("fair-check", "data")["artifacts"][0]["score"] == 30.0
    cli("fair-check", "--min", "101", code=2)


def test_a_dataset_in_a_closed_format_is_not_interoperable(repo, cli):
    write(repo / "data" / "a.csv", "1,2\n")
    write(repo / "data" / "b.pkl", b"pickled")
    cli("add", "data")
    assert missing(api.fair_check(), "data")["open format"].startswith("store the data as")


@pytest.mark.frameworks
def test_a_described_converted_pushed_model_scores_100_and_its_onnx_form_is_not_scored_apart(repo, cli, tmp_path):
    pytest.importorskip("skl2onnx")
    write(repo / "digits" / "train.csv", "1,2,0\n")
    cli("add", "digits")
    model_zoo.save_skops(model_zoo.pipeline(), repo / "clf.skops")
    cli("add", "clf.skops")
    cli("convert", "clf")
    for name in ("digits", "clf"):
        cli("meta", "set", name, "description=digits", "tags=[mnist]", "license=MIT", "citation=doi:10.1/x",
            "authors=['Ada Lovelace <0000-0002-1825-0097>']")
    cli("meta", "set", "clf", "training_dataset=digits")
    assert missing(api.fair_check(), "clf") == {"on a remote": "hpcfair remote add NAME URL --default && hpcfair push"}
    cli("remote", "add", "store", os.fspath(tmp_path / "store"), "--default")
    cli("push")
    result = api.fair_check(minimum=100)
    assert [(a.artifact, a.score) for a in result.artifacts] == [("clf", 100.0), ("digits", 100.0)]
    assert result.exit_code == 0
    assert api.fair_check("clf.onnx").artifacts[0].artifact == "clf.onnx"  # scored when named
